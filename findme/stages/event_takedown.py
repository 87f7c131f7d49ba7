"""takedown_photo: the organiser takes a photo down: gone from the event's index and from
every search's results, and never indexed again."""

from __future__ import annotations

from typing import Any

from findme import params
from findme.errors import run_action
from findme.stages.event_owner import owned_event


def takedown_photo(args: dict[str, Any]) -> dict[str, Any]:
    """A photo gone from the index and from every search's results, for good."""
    event_id, _, store = owned_event(args, "takedown_photo")
    photo = params.required_str(args, "photo", 4096)
    was_indexed = store.take_down(event_id, photo)
    removed = 0
    for search_id in store.followers(event_id):
        if store.match(search_id, photo) is not None:
            store.drop_match(search_id, photo)
            removed += 1
    return {
        "event_id": event_id,
        "photo": photo,
        "taken_down": True,
        "was_indexed": bool(was_indexed),
        "removed_from_searches": removed,
    }


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(takedown_photo, args)
