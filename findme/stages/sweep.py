"""sweep: the periodic re-drive of every running job, on OpenWhisk's alarms feed.

OpenWhisk runs no activation twice: one that crashed, timed out or was refused
over a limit is gone with whatever it was doing. Once a minute the sweep
queues again the photos whose activation ended without recording them, wakes
compare activations for queued photos, restarts a listing whose activation
died, completes jobs whose work is all recorded and fails jobs that made no
progress for stall_seconds.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from findme import event_reading, event_search, places
from findme.errors import Unavailable, run_action
from findme.events import paced_fire, seconds_left
from findme.jobs import FINAL_STATES, JobStore
from findme.settings import Settings, deployment_of
from findme.stages.wake import wake_compare
from findme.store import job_store

# The sweep stops looking at jobs this long before its deadline.
STOP_BEFORE_DEADLINE_SECONDS = 15.0
# The sweep runs once a minute, give or take: an event read 55 s ago is due.
READ_EARLY_SECONDS = 10.0


def _sweep_event_search(job_id: str, store: JobStore, settings: Settings) -> str:
    """A search of an event waits on the event's indexing, not on a listing of its own."""
    event_search.catch_up(job_id, store, settings)
    if event_search.complete(job_id, store) in FINAL_STATES:
        store.forget_active(job_id)
        return "completed"
    return "following its event"


def _reread_live_events(store: JobStore, settings: Settings) -> dict[str, str]:
    """Lists each live event's source again for new posts, at most every reread seconds."""
    report = {}
    for event_id in store.live_events():
        event = store.fields(event_id)
        if event is None or not places.can_read(event, settings):
            continue  # a folder under another engine's photo root: that engine reads it
        last_read = float(event.get("last_read") or 0)
        if time.time() - last_read < settings.event_reread_seconds - READ_EARLY_SECONDS:
            continue
        mode = event_reading.next_mode(event, store.progress(event_id)["photos_total"])
        if store.for_job(event).relist(event_id, mode):
            places.adopt(event_id, store, settings)  # e.g. made by `findme event create`
            with contextlib.suppress(Unavailable):
                paced_fire(settings, store, "search_request", {"job_id": event_id})
            report[event_id] = f"reading again ({mode})"
    return report


def sweep_job(job_id: str, store: JobStore, settings: Settings) -> str:
    """Re-drives one job; returns what it did, for the activation's result."""
    job = store.fields(job_id)
    if job is None or job.get("state") in FINAL_STATES:
        store.forget_active(job_id)
        return "ended"
    if job.get("deployment", "") != deployment_of(settings.api_host):
        return "another deployment's"  # its own sweep re-drives it, with its photo root
    store = store.for_job(job)
    if job.get("event") and job.get("search_done") == "1":
        return _sweep_event_search(job_id, store, settings)
    if store.stalled_since(job_id, settings.stall_seconds) is not None:
        store.fail(job_id, f"no progress for {settings.stall_seconds} s: the job was stopped")
        store.forget_active(job_id)
        return "stalled"
    requeued = store.requeue_expired(job_id)
    if job.get("search_done") != "1" and not store.search_leased(job_id):
        with contextlib.suppress(Unavailable):
            paced_fire(settings, store, "search_request", {"job_id": job_id})
        return "listing restarted"
    fired = wake_compare(job_id, store, settings)
    if store.complete_if_finished(job_id) in FINAL_STATES:
        store.forget_active(job_id)
        return "completed"
    return f"requeued {requeued}, woke {fired}" if requeued or fired else "running"


def sweep(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    store = job_store(settings)
    report = _reread_live_events(store, settings)
    for job_id in store.active_jobs():
        if seconds_left(settings) < STOP_BEFORE_DEADLINE_SECONDS:
            break
        report[job_id] = sweep_job(job_id, store, settings)
    return {"jobs": len(report), "swept": report}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(sweep, args)
