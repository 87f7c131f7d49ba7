"""Searches that a local engine was running when it stopped, taken over when it starts.

Ctrl-C, SIGTERM, a closed terminal or a crash of `findme serve` ends the
activations it ran, and with them the listings and the photos they held under
a lease. Left to the sweep, those photos would wait for their leases to end (up
to the compare action's two minutes, five for a listing), the first sweep would
come a minute after the start, and a job whose last progress is older than
stall_seconds would be failed, the server's downtime counted as a stall. The
engine that held the leases is gone, so its jobs (searches and the events they
index) are taken over as `findme search --resume` takes over an event: the
photos its activations held are queued again and their leases dropped, and the
sweep, fired at once, restarts the listings and wakes compare activations. An
activation that a killed engine's worker is still finishing records its photo
idempotently, as a duplicate event would.
"""

from __future__ import annotations

from findme.jobs import FINAL_STATES, JobStore


def take_over_interrupted(store: JobStore, deployment: str) -> list[str]:
    """Takes over this deployment's running jobs; returns their ids."""
    taken = []
    for job_id in store.active_jobs():
        job = store.fields(job_id)
        if job is None or job.get("state") in FINAL_STATES:
            continue  # the sweep forgets it
        if job.get("deployment", "") != deployment:
            continue  # another engine's (another `findme` on the same Redis), maybe running
        store.take_over(job_id)
        store.update(job_id)  # progress from now: the downtime was no stall
        taken.append(job_id)
    return taken
