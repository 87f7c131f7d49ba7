"""A person's profile picture as a reference: an X username, a Mastodon address
(`@name@server`) or a Bluesky handle (`name.bsky.social`)."""

from __future__ import annotations

from dataclasses import dataclass

from findme.settings import Settings
from findme.sources.bluesky import parse_handle as bluesky_handle
from findme.sources.mastodon import parse_account
from findme.sources.twitter import HANDLE_PATTERN as X_HANDLE

MAX_HANDLE_LENGTH = 300


@dataclass(frozen=True)
class ProfilePicture:
    network: str  # "x", "mastodon" or "bluesky"
    handle: str  # as shown to the user: @name, @name@server, name.bsky.social
    url: str
    hosts: frozenset[str]  # where it may be downloaded from


def network_of(handle: str) -> str | None:
    """Which network a handle belongs to, by its shape; None when it fits none."""
    text = handle.strip()
    if X_HANDLE.match(text):
        return "x"
    if parse_account(text):
        return "mastodon"
    if "@" not in text.lstrip("@") and bluesky_handle(text):
        return "bluesky"
    return None


def shown(handle: str, network: str) -> str:
    text = handle.strip()
    if network == "bluesky":
        return text.lstrip("@").lower()
    return "@" + text.lstrip("@")


def profile_picture(settings: Settings, handle: str) -> ProfilePicture:
    """The handle's profile picture; SourceUnavailable says why there is none."""
    from findme.sources import SourceUnavailable

    network = network_of(handle)
    if network == "x":
        from findme.sources.twitter import profile_picture_url

        url, hosts = profile_picture_url(settings, handle), settings.allowed_media_hosts
    elif network == "mastodon":
        from findme.sources.mastodon import account_picture

        url, hosts = account_picture(settings, handle)
    elif network == "bluesky":
        from findme.sources.bluesky import profile_picture as bluesky_picture

        url, hosts = bluesky_picture(settings, handle)
    else:
        raise SourceUnavailable(f"{handle!r} is not an X, Mastodon or Bluesky handle")
    return ProfilePicture(network, shown(handle, network), url, hosts)
