"""What the organiser's actions share: the event, once its owner key is checked."""

from __future__ import annotations

from typing import Any

from findme import params
from findme.errors import NotFound
from findme.jobs import JobStore
from findme.ownership import require_owner
from findme.settings import Settings
from findme.store import job_store


def owned_event(args: dict[str, Any], action: str) -> tuple[str, dict[str, str], JobStore]:
    """The event the caller owns (its owner key given), with the store that keeps its
    keys for its retention."""
    settings = Settings.load(args)
    params.require_post(args, action)
    event_id = params.event_id(args)
    store = job_store(settings)
    event = store.fields(event_id)
    if event is None or event.get("role") != "event":
        raise NotFound(f"no event {event_id} (unknown, deleted or expired)")
    require_owner(event, args, "event")
    return event_id, event, store.for_job(event)
