"""update_event: the organiser adds photo links to an event of links, has its source read
again now (files added to its folder, posts since), or changes how long the event stays
live (read again for new posts every minute)."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from findme import params
from findme.errors import BadRequest, Unavailable, run_action
from findme.events import paced_fire
from findme.jobs import JobStore
from findme.settings import Settings
from findme.sources.urls import parse_urls
from findme.stages.event_owner import owned_event


def update_event(args: dict[str, Any]) -> dict[str, Any]:
    """More photo links (a URL-list event), or a new end to its live time."""
    settings = Settings.load(args)
    event_id, event, store = owned_event(args, "update_event")
    answer: dict[str, Any] = {"event_id": event_id}
    if args.get("urls"):
        if event.get("source") != "urls":
            raise BadRequest("urls can be added only to an event made of photo links")
        added = store.add_urls(event_id, parse_urls(args.get("urls"), settings))
        store.update(event_id, urls_total=str(store.urls_count(event_id)))
        answer["urls_added"] = added
        if added:
            _read_again(event_id, store, settings)
    if args.get("read_again") in (True, "true"):
        answer["reading"] = _read_again(event_id, store, settings)
    if args.get("live_hours") not in (None, ""):
        hours = params.number_in_range(
            args, "live_hours", 0, 0, settings.event_max_live_seconds / 3600
        )
        until = time.time() + hours * 3600
        store.update(event_id, live_until=repr(until))
        store.set_live(event_id, until)
        answer["live_until"] = until if hours else None
    if len(answer) == 1:
        raise BadRequest("nothing to change: give urls to add, read_again, or live_hours")
    return answer


def _read_again(event_id: str, store: JobStore, settings: Settings) -> bool:
    """The source read again in full now; False while a reading is still going on (it
    reaches what was added)."""
    if not store.relist(event_id, "full"):
        return False
    with contextlib.suppress(Unavailable):
        paced_fire(settings, store, "search_request", {"job_id": event_id})
    return True


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(update_event, args)
