"""Which network a handle belongs to, by its shape."""

from __future__ import annotations

import pytest

from findme.sources.profiles import network_of, shown


@pytest.mark.parametrize(
    ("handle", "network", "as_shown"),
    [
        ("ada_l", "x", "@ada_l"),
        ("@ada_l", "x", "@ada_l"),
        ("@ada@mastodon.social", "mastodon", "@ada@mastodon.social"),
        ("ada@mastodon.social", "mastodon", "@ada@mastodon.social"),
        ("ada.bsky.social", "bluesky", "ada.bsky.social"),
        ("@Ada.Example.com", "bluesky", "ada.example.com"),
    ],
)
def test_handles_of_each_network(handle: str, network: str, as_shown: str) -> None:
    assert network_of(handle) == network
    assert shown(handle, network) == as_shown


@pytest.mark.parametrize(
    "handle",
    ["bad handle!", "a" * 40, "@x@localhost", "@x@127.0.0.1", "@a@b@c.example", "ada.", ".bsky"],
)
def test_what_is_no_handle(handle: str) -> None:
    assert network_of(handle) is None
