"""Tests that watch a place being listed and downloaded start from a FindMe where no
search has indexed it yet (earlier tests of the session searched the same places)."""

from __future__ import annotations

import redis


def forget_places(client: redis.Redis) -> None:
    """No place names an event any more: the next search of any place indexes it anew."""
    for key in list(client.scan_iter(match="findme:place:*", count=1000)):
        client.delete(key)
