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
from typing import Any

from findme.errors import Unavailable, run_action
from findme.events import paced_fire, seconds_left
from findme.jobs import FINAL_STATES, JobStore
from findme.settings import Settings, deployment_of
from findme.stages.wake import wake_compare
from findme.store import job_store

# The sweep stops looking at jobs this long before its deadline.
STOP_BEFORE_DEADLINE_SECONDS = 15.0


def sweep_job(job_id: str, store: JobStore, settings: Settings) -> str:
    """Re-drives one job; returns what it did, for the activation's result."""
    job = store.fields(job_id)
    if job is None or job.get("state") in FINAL_STATES:
        store.forget_active(job_id)
        return "ended"
    if job.get("deployment", "") != deployment_of(settings.api_host):
        return "another deployment's"  # its own sweep re-drives it, with its photo root
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
    report: dict[str, str] = {}
    for job_id in store.active_jobs():
        if seconds_left(settings) < STOP_BEFORE_DEADLINE_SECONDS:
            break
        report[job_id] = sweep_job(job_id, store, settings)
    return {"jobs": len(report), "swept": report}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(sweep, args)
