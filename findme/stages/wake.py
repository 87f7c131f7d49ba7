"""Waking compare activations for a job's queue, a bounded number at a time.

Each compare activation (a drainer) holds a token in Redis until its deadline;
a token fired but never started (the platform refused the activation over its
concurrency or rate limit, and says so only in the trigger's logs) lapses
after START_WITHIN_MS, and the next wake or sweep fires another.
"""

from __future__ import annotations

import secrets
import time

from findme.errors import Unavailable
from findme.events import paced_fire
from findme.jobs import JobStore
from findme.settings import Settings

START_WITHIN_MS = 60_000


def wake_compare(job_id: str, store: JobStore, settings: Settings) -> int:
    """Fires tweet_image for the compare activations the job's queue needs and does
    not have; returns how many were fired. A fire that cannot be paced before this
    activation's deadline is left to the sweep."""
    queued = store.queued(job_id)
    if queued == 0:
        return 0
    wanted = min(settings.compare_activations, queued)
    missing = wanted - store.live_drainers(job_id)
    fired = 0
    for _ in range(max(missing, 0)):
        token = secrets.token_hex(8)
        store.add_drainer(job_id, token, int(time.time() * 1000) + START_WITHIN_MS)
        try:
            paced_fire(settings, store, "tweet_image", {"job_id": job_id, "drainer": token})
        except Unavailable as error:
            # Deferred past the deadline, or the controller failing: the sweep retries.
            print(f"waking a compare activation for {job_id} left to the sweep: {error}")
            store.remove_drainer(job_id, token)
            break
        fired += 1
    return fired
