"""event_status: how far an event's indexing has come; anyone with its id may look."""

from __future__ import annotations

import time
from typing import Any

from findme import params
from findme.errors import NotFound, run_action
from findme.jobs import JobStore
from findme.settings import Settings
from findme.store import job_store

FAILED_SHOWN = 100  # the reasons of the first photos that could not be read


def event_document(event_id: str, store: JobStore, settings: Settings) -> dict[str, Any]:
    """How far the event's indexing has come, in numbers a person reads."""
    event = store.fields(event_id)
    if event is None or event.get("role") != "event":
        raise NotFound(f"no event {event_id} (unknown, deleted or expired)")
    status = store.status(event_id, 0, FAILED_SHOWN)
    assert status is not None
    live_until = float(event.get("live_until") or 0)
    return {
        "event_id": event_id,
        "name": event.get("name", ""),
        "state": status.state,
        "source": event.get("source", ""),
        "query": event.get("query", ""),
        "created": float(event.get("created", "0")),
        "photos_listed": status.photos_total,
        "photos_indexed": status.photos_done - status.photos_failed,
        "photos_failed": status.photos_failed,
        "photos_queued": status.queued,
        "photos_with_faces": store.index_size(event_id),
        "faces": int(event.get("faces_total", "0")),
        "photos_taken_down": store.taken_down(event_id),
        "failed": status.failed,
        "last_read": float(event["last_read"]) if event.get("last_read") else None,
        "live_until": live_until if live_until > time.time() else None,
        "searches": len(store.followers(event_id)),
        # What reading the source has cost so far: pages listed, photos downloaded.
        "pages_read": int(event.get("pages_read", "0")),
        "photos_read": int(event.get("photos_read", "0")),
        "retention_days": round(int(event.get("ttl", settings.event_retention_seconds)) / 86400, 2),
        **({"warning": event["warning"]} if event.get("warning") else {}),
        **({"error": event["error"]} if event.get("error") else {}),
    }


def event_status(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    return event_document(params.event_id(args), job_store(settings), settings)


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(event_status, args)
