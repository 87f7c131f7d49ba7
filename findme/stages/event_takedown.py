"""takedown_photo: the organiser takes a photo down: gone from the event's index and from
every search's results, and never indexed again."""

from __future__ import annotations

from typing import Any

from findme import event_admin, params
from findme.errors import run_action
from findme.stages.event_owner import owned_event


def takedown_photo(args: dict[str, Any]) -> dict[str, Any]:
    event_id, _, store = owned_event(args, "takedown_photo")
    return event_admin.take_down(event_id, params.required_str(args, "photo", 4096), store)


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(takedown_photo, args)
