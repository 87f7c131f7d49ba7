"""delete_event: the organiser deletes an event with everything it holds: its index (every
face found in its photos) and its searches' matches."""

from __future__ import annotations

from typing import Any

from findme.errors import run_action
from findme.stages.event_owner import owned_event


def delete_event(args: dict[str, Any]) -> dict[str, Any]:
    """The event, its index and its photos' faces gone; its searches lose their
    matches and say the organiser deleted the event."""
    event_id, _, store = owned_event(args, "delete_event")
    searches = store.followers(event_id)
    for search_id in searches:
        store.fail(search_id, "the organiser deleted this event and its photos")
        store.drop_matches(search_id)
    store.delete_event(event_id)
    return {"event_id": event_id, "deleted": True, "searches_emptied": len(searches)}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(delete_event, args)
