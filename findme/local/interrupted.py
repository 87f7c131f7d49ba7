"""Searches that a local engine was running when it stopped, resumed when it starts.

Ctrl-C, SIGTERM, a closed terminal or a crash of `findme serve` ends the
activations it ran, and with them the listing and the photos they held under a
lease. Left to the sweep, those photos would wait for their leases to end (up to
the compare action's two minutes, five for a listing), and a job whose last
progress is older than stall_seconds would be failed, the server's downtime
counted as a stall. The engine that held the leases is gone, so its running
searches are reopened as `findme search --resume` reopens one: the photos
already recorded are kept, a new listing queues the others again, and it starts
at once. An activation that a killed engine's worker is still finishing records
its photo idempotently, as a duplicate event would.
"""

from __future__ import annotations

from findme.jobs import FINAL_STATES, JobStore


def reopen_interrupted(store: JobStore, deployment: str) -> list[str]:
    """Reopens this deployment's running jobs; returns their ids, to start their listing."""
    reopened = []
    for job_id in store.active_jobs():
        job = store.fields(job_id)
        if job is None or job.get("state") in FINAL_STATES:
            continue  # the sweep forgets it
        if job.get("deployment", "") != deployment:
            continue  # another engine's (another `findme` on the same Redis), maybe running
        store.cancel(job_id)  # reopen takes a stopped job
        if store.reopen(job_id) == "queued":
            reopened.append(job_id)
    return reopened
