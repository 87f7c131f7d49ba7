"""Job state in Redis: the store every stage uses, put together from one part a concern
(findme/state/). Every key is built in findme/state/keys.py.

Updates that an event causes are idempotent (sets and hashes keyed by photo,
applied in Lua so check-and-write is atomic), because OpenWhisk delivers
events at least once.
"""

from __future__ import annotations

from findme.state.caches import Caches
from findme.state.index import EventIndex
from findme.state.queue import WorkQueue
from findme.state.records import (
    FINAL_STATES,
    JobRecords,
    JobStatus,
    Outcome,
    State,
    new_job_id,
)
from findme.state.review import Reviews

__all__ = ["FINAL_STATES", "JobStatus", "JobStore", "Outcome", "State", "new_job_id"]


class JobStore(JobRecords, WorkQueue, Caches, Reviews, EventIndex):
    """Jobs, their queue, the shared caches, reviews and events' face indexes."""

    def for_job(self, fields: dict[str, str] | None) -> JobStore:
        """The store that keeps this job's keys as long as the job asks (an event
        keeps its index for its own retention), else this one."""
        ttl = (fields or {}).get("ttl", "")
        if ttl.isdigit() and int(ttl) != self.ttl:
            return JobStore(self.redis, int(ttl))
        return self
