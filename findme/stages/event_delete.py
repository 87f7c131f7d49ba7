"""delete_event: the organiser deletes an event with everything it holds: its index (every
face found in its photos) and its searches' matches."""

from __future__ import annotations

from typing import Any

from findme import event_admin
from findme.errors import run_action
from findme.settings import Settings
from findme.stages.event_owner import owned_event


def delete_event(args: dict[str, Any]) -> dict[str, Any]:
    event_id, _, store = owned_event(args, "delete_event")
    return event_admin.delete(event_id, store, Settings.load(args))


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(delete_event, args)
