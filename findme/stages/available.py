"""sources: which sources (and which handles' profile pictures) this deployment can
search, from its settings, so the page offers only those. It names no secret."""

from __future__ import annotations

from typing import Any

from findme.errors import run_action
from findme.settings import Settings
from findme.sources.mastodon import MAX_SERVERS, MAX_TAGS
from findme.sources.urls import MAX_URLS


def available_sources(settings: Settings) -> dict[str, Any]:
    bluesky = bool(settings.bluesky_handle and settings.bluesky_app_password)
    sources: list[dict[str, Any]] = []
    if settings.photo_root is not None:
        sources.append({"source": "folder"})
    if settings.x_bearer_token:
        sources.append({"source": "twitter", "needs": ["query"]})
    sources.append(
        {
            "source": "mastodon",
            "needs": ["servers", "query"],
            # Empty: any public server the person names.
            "servers": sorted(settings.mastodon_servers),
            "max_servers": MAX_SERVERS,
            "max_tags": MAX_TAGS,
        }
    )
    if bluesky:
        sources.append({"source": "bluesky", "needs": ["query"]})
    if settings.url_hosts:
        sources.append(
            {
                "source": "urls",
                "needs": ["urls"],
                "hosts": sorted(settings.url_hosts),
                "max_urls": MAX_URLS,
            }
        )
    handles = (
        (["x"] if settings.x_bearer_token else []) + ["mastodon"] + (["bluesky"] if bluesky else [])
    )
    return {"sources": sources, "handles": handles}


def sources(args: dict[str, Any]) -> dict[str, Any]:
    return available_sources(Settings.load(args))


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(sources, args)
