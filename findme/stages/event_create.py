"""create_event: an organiser registers a place to look once (a hashtag on Mastodon
servers, a Bluesky or X search, a list of photo URLs, a folder); FindMe lists its
posts and indexes every photo's faces, so each attendee's search is a comparison.

The answer holds the event's owner key, shown this once: taking photos down,
adding photos, ending or deleting the event need it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from findme import params
from findme.errors import run_action
from findme.ownership import OWNER_FIELD, new_owner_key, owner_digest
from findme.places import new_event
from findme.settings import MIN_EVENT_RETENTION_SECONDS, Settings
from findme.stages.register import source_fields
from findme.store import job_store

MAX_NAME = 200


def describe(fields: dict[str, str]) -> str:
    """Where an event looks, in a few words (its name when the organiser gave none)."""
    source = fields.get("source", "")
    if source == "folder":
        return f"photos in {fields.get('folder', '.')}"
    if source == "urls":
        return f"{fields.get('urls_total', '0')} photo links"
    if source == "mastodon":
        tags = " ".join(f"#{t}" for t in json.loads(fields.get("tags") or "[]"))
        servers = ", ".join(json.loads(fields.get("servers") or "[]"))
        return f"{tags} on {servers}"
    network = {"bluesky": "Bluesky", "twitter": "X"}.get(source, source)
    return f"{fields.get('query', '')} on {network}"


def create_event(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    params.require_post(args, "create_event")
    source = source_fields(args, settings)
    urls = json.loads(source.pop("urls", "[]"))
    query = params.optional_str(args, "query", 512) or ""
    live_hours = params.number_in_range(
        args, "live_hours", 0, 0, settings.event_max_live_seconds / 3600
    )
    retention_days = params.number_in_range(
        args,
        "retention_days",
        settings.event_retention_seconds / 86400,
        MIN_EVENT_RETENTION_SECONDS / 86400,
        settings.event_retention_seconds / 86400,
    )
    owner_key = new_owner_key()
    until = time.time() + live_hours * 3600
    extra = {
        "live_until": repr(until),
        "ttl": str(int(retention_days * 86400)),
        OWNER_FIELD: owner_digest(owner_key),
    }
    name = (params.optional_str(args, "name", MAX_NAME) or "").strip()
    extra["name"] = name or describe({**source, "query": query, "urls_total": str(len(urls))})
    store = job_store(settings)
    event_id = new_event(store, settings, source, urls, query, extra, take_place=True)
    store.set_live(event_id, until)
    return {
        "event_id": event_id,
        "name": extra["name"],
        "owner_key": owner_key,
        "live_until": until if live_hours else None,
        "retention_days": retention_days,
    }


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(create_event, args)
