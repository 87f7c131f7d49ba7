"""sources: which sources (and which handles' profile pictures) this deployment can
search, how long it keeps a search, and the bounds of an organiser's event, from its
settings, so the page offers only those and says what is kept before a person sends
their photo (or an organiser makes an event). It names no secret."""

from __future__ import annotations

from typing import Any

from findme.errors import run_action
from findme.settings import MIN_EVENT_RETENTION_SECONDS, Settings
from findme.sources.mastodon import MAX_SERVERS, MAX_TAGS
from findme.sources.urls import MAX_URLS

# X's photo host: links there are X's photos, never an organiser's gallery.
X_MEDIA_HOST = "pbs.twimg.com"


def _organisers_hosts(settings: Settings) -> list[str]:
    """The hosts an organiser's photo links may be on: url_hosts, unless it is only
    X's photo host (its default, media_hosts), where every organiser's link fails."""
    if all(host.split("/")[0] == X_MEDIA_HOST for host in settings.url_hosts):
        return []
    return sorted(settings.url_hosts)


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
    hosts = _organisers_hosts(settings)
    if hosts:
        sources.append({"source": "urls", "needs": ["urls"], "hosts": hosts, "max_urls": MAX_URLS})
    handles = (
        (["x"] if settings.x_bearer_token else []) + ["mastodon"] + (["bluesky"] if bluesky else [])
    )
    # An organiser's event: how long it may stay live, and keep its faces (create_event's bounds).
    events = {
        "max_live_hours": settings.event_max_live_seconds / 3600,
        "retention_days": settings.event_retention_seconds / 86400,
        "min_retention_days": MIN_EVENT_RETENTION_SECONDS / 86400,
    }
    # A search's data (face data, results) expires this long after it starts.
    return {
        "sources": sources,
        "handles": handles,
        "keep_seconds": settings.job_ttl_seconds,
        "events": events,
    }


def sources(args: dict[str, Any]) -> dict[str, Any]:
    return available_sources(Settings.load(args))


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(sources, args)
