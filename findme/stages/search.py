"""twitter_search (the source stage): reference descriptors, then the source's photos,
page by page, into the job's queue; compare activations are woken to drain it.

An event's job lists the same way, with no reference: its photos are indexed.
A search of an event lists nothing: its reference faces are compared with the
event's index at once (findme.event_search), and with each photo indexed later.

A listing longer than one activation saves its cursor and fires search_request
again to go on; one activation lists at a time (a lease in Redis), so a
duplicate event is a no-op, and the sweep restarts a listing whose activation
died. A listing stops at its next page once its job is cancelled or deleted.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

from findme import event_reading, event_search, params
from findme.errors import ActionError, NotFound, Unavailable, run_action
from findme.events import paced_fire, seconds_left
from findme.jobs import FINAL_STATES, JobStore, State
from findme.reference import ReferenceUnusable, prepare_references
from findme.settings import Settings
from findme.sources import ListingStopped, SearchCutShort, SourceUnavailable, open_source
from findme.stages.wake import wake_compare
from findme.store import job_store

# A listing stops taking pages this long before its deadline, to hand over.
HANDOVER_SECONDS = 30.0
# Without a platform deadline (direct calls in tests), the lease still ends.
DEFAULT_LEASE_MS = 300_000


def listing_lease_ms(settings: Settings) -> int:
    """How long a listing activation holds the job's lease: to its deadline, and a little."""
    if settings.deadline_ms is None:
        return DEFAULT_LEASE_MS
    return int(seconds_left(settings) * 1000) + 5_000


def _list(job_id: str, job: dict[str, str], store: JobStore, settings: Settings) -> str:
    """Queues the source's photos from the saved cursor on: "more" when time ran out
    before the listing's end (a continuation must go on), "cut" when the source cut
    it short (the photos found so far still count), "stopped" when the job was
    cancelled or deleted meanwhile (nothing more of it is written), else "complete"."""
    source = open_source(job, settings)
    cursor = job.get("listing_cursor") or None
    is_event = job.get("role") == "event"
    if is_event and cursor is None:
        store.start_reading(job_id)
    try:
        for page, next_cursor in source.pages(cursor):
            listed = store.progress(job_id)
            if listed is None or listed["state"] in FINAL_STATES:
                return "stopped"  # at the next page, before writing any key of the job
            room = settings.max_photos - listed["photos_total"]
            entries = page[: max(room, 0)]
            if is_event:
                store.count(job_id, "pages_read")  # listing requests the event paid for
                store.mark_listed(job_id, [entry["photo"] for entry in entries])
            if store.enqueue(job_id, entries):
                if store.state(job_id) == State.SEARCHING.value:
                    store.set_state(job_id, State.COMPARING)
                wake_compare(job_id, store, settings)
            store.update(job_id, listing_cursor=next_cursor or "")
            # Full: photos left unlisted (on this page, or on pages to come).
            if len(page) > room or (len(page) == room and next_cursor is not None):
                store.update(job_id, warning=_full(settings))
                return "cut"
            if next_cursor is None:
                return "complete"
            if seconds_left(settings) < HANDOVER_SECONDS:
                return "more"
    except SearchCutShort as cut:
        store.update(job_id, warning=str(cut))
        return "cut"
    except ListingStopped:
        return "stopped"
    return "complete"


def _full(settings: Settings) -> str:
    return (
        f"the listing stopped at {settings.max_photos} photos, the most one search or "
        "event reads (max_photos): the photos listed so far are compared"
    )


def search(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    job_id = params.job_id(args)
    store = job_store(settings)
    job = store.fields(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    store = store.for_job(job)
    token = secrets.token_hex(8)
    if job.get("state") in FINAL_STATES or job.get("search_done") == "1":
        return {"job_id": job_id, "skipped": "this job's search has already run"}
    if not store.take_search_lease(job_id, token, listing_lease_ms(settings)):
        return {"job_id": job_id, "skipped": "another activation is listing this job's photos"}
    # Read again under the lease: the activation that held it may have finished since
    # (a search of an event starts in one go and deletes the uploaded photo it read,
    # while the sweep fired this listing again on seeing no lease).
    job = store.fields(job_id) or job
    if job.get("state") in FINAL_STATES or job.get("search_done") == "1":
        store.release_search_lease(job_id, token)
        return {"job_id": job_id, "skipped": "this job's search has already run"}
    is_event = job.get("role") == "event"
    try:
        if job.get("event"):
            return {"job_id": job_id, "state": event_search.start(job_id, job, store, settings)}
        if is_event:
            store.set_state(job_id, State.SEARCHING)
        else:
            prepare_references(job_id, job, store, settings)
        listed = _list(job_id, store.fields(job_id) or job, store, settings)
    except ReferenceUnusable as error:
        store.fail(job_id, str(error))
        return {"job_id": job_id, "state": State.FAILED.value, "reason": str(error)}
    except Exception as error:
        worded = isinstance(error, (ActionError, SourceUnavailable))
        reason = str(error) if worded else type(error).__name__
        if not (is_event and job.get("last_read")):
            store.fail(job_id, f"the search stopped: {reason}")
            raise
        # A live event read before keeps what it has: the next reading tries again.
        store.update(job_id, warning=f"reading new posts failed: {reason}")
        listed = "cut"
    finally:
        store.release_search_lease(job_id, token)
    if listed == "stopped":
        return {"job_id": job_id, "state": store.state(job_id) or "deleted", "stopped": True}
    if listed == "more":
        # Else the sweep sees a listing with no lease and restarts it.
        with contextlib.suppress(Unavailable):
            paced_fire(settings, store, "search_request", {"job_id": job_id})
        return {"job_id": job_id, "state": "listing", "continued": True}
    if is_event:
        event_reading.finished(job_id, store, settings, complete=listed == "complete")
    state = store.finish_search(job_id)
    wake_compare(job_id, store, settings)
    if is_event and state == State.DONE.value:
        event_search.catch_up_followers(job_id, store, settings)  # e.g. nothing new listed
    return {"job_id": job_id, "state": state}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(search, args)
