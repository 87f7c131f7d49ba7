"""A job's record and its states: created, moved on, cancelled, reopened, recorded photo by
photo, completed, read as a status, deleted."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

from findme.state import keys
from findme.state.base import StoreBase, text


class State(str, Enum):
    QUEUED = "queued"
    SEARCHING = "searching"
    COMPARING = "comparing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped by the person; `findme search --resume` goes on


FINAL_STATES = {State.DONE.value, State.FAILED.value, State.CANCELLED.value}


class Outcome(str, Enum):
    MATCH = "match"
    NO_MATCH = "no_match"
    FAILED = "failed"


def new_job_id() -> str:
    return secrets.token_hex(16)  # 128 random bits


# Marks the job done once the search is over and every photo is accounted for.
# KEYS: job, photos, done
_COMPLETE_IF_FINISHED = """
local function complete_if_finished(job, photos, done, now)
  local state = redis.call('HGET', job, 'state')
  if state == 'done' or state == 'failed' or state == 'cancelled' then return state end
  if redis.call('HGET', job, 'search_done') == '1'
     and redis.call('SCARD', done) >= redis.call('SCARD', photos) then
    redis.call('HSET', job, 'state', 'done', 'finished', now)
    return 'done'
  end
  return state
end
"""

# KEYS: job, photos, done, failed, matches, leases, lease_due
# ARGV: photo, outcome, payload, ttl, now
_RECORD_OUTCOME = (
    _COMPLETE_IF_FINISHED
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' or state == 'failed' or state == 'cancelled' then return 'ignored' end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 'foreign' end
redis.call('HDEL', KEYS[6], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[1])
if redis.call('SADD', KEYS[3], ARGV[1]) == 0 then return 'duplicate' end
if ARGV[2] == 'match' then redis.call('HSET', KEYS[5], ARGV[1], ARGV[3]) end
if ARGV[2] == 'failed' then redis.call('HSET', KEYS[4], ARGV[1], ARGV[3]) end
for i = 3, 5 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
redis.call('HSET', KEYS[1], 'updated', ARGV[5])
complete_if_finished(KEYS[1], KEYS[2], KEYS[3], ARGV[5])
return 'recorded'
"""
)

# KEYS: job, photos, done; ARGV: now
_FINISH_SEARCH = (
    _COMPLETE_IF_FINISHED
    + """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'unknown' end
if state == 'done' or state == 'failed' or state == 'cancelled' then return state end
redis.call('HSET', KEYS[1], 'search_done', '1', 'updated', ARGV[1])
if redis.call('SCARD', KEYS[3]) < redis.call('SCARD', KEYS[2]) then
  redis.call('HSET', KEYS[1], 'state', 'comparing')
end
return complete_if_finished(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
"""
)

# KEYS: job, photos, done; ARGV: now
_COMPLETE = (
    _COMPLETE_IF_FINISHED
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
return complete_if_finished(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
"""
)

# Cancels a running job; a finished one stays as it is.
# KEYS: job; ARGV: now
_CANCEL = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'unknown', 0} end
if state == 'done' or state == 'failed' or state == 'cancelled' then return {state, 0} end
redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finished', ARGV[1], 'updated', ARGV[1])
return {'cancelled', 1}
"""

# Moves a running job on (searching, comparing); an ended one stays ended, so a
# search that goes on listing cannot bring a cancelled job back.
# KEYS: job; ARGV: state, now
_SET_RUNNING_STATE = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'unknown' end
if state == 'done' or state == 'failed' or state == 'cancelled' then return state end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'updated', ARGV[2])
return ARGV[1]
"""

# Reopens a cancelled or failed job for `findme search --resume`: photos never
# recorded are forgotten, with the queue, leases and the listing's cursor, so the
# next listing, from the start, sends them again and only them.
# KEYS: job, photos, done, queue, leases, lease_due, drainers, search lease; ARGV: now
_REOPEN = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'unknown' end
if state ~= 'cancelled' and state ~= 'failed' then return state end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('SINTERSTORE', KEYS[2], KEYS[2], KEYS[3])
end
redis.call('DEL', KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
redis.call('HDEL', KEYS[1], 'search_started', 'search_done', 'error', 'finished',
           'listing_cursor')
redis.call('HSET', KEYS[1], 'state', 'queued', 'updated', ARGV[1])
return 'queued'
"""

# Reads a finished event's source again for new posts: its listing starts over from
# the source's newest known post (each source keeps its own marker); photos already
# registered are not queued again. KEYS: job; ARGV: now, mode ("full" or "new")
_RELIST = """
if redis.call('HGET', KEYS[1], 'state') ~= 'done' then return 0 end
redis.call('HDEL', KEYS[1], 'search_done', 'listing_cursor', 'finished')
redis.call('HSET', KEYS[1], 'state', 'searching', 'updated', ARGV[1], 'listing_mode', ARGV[2])
return 1
"""

# Writes fields only while the job exists, so a late event for a deleted or
# expired job cannot bring back a partial record without a TTL.
# KEYS: job; ARGV: field, value, field, value, ...
_UPDATE_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

# KEYS: job; ARGV: field, value. HSETNX on a gone job would create a bare hash.
_HSETNX_IF_JOB = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
"""

# Drops a shared reference descriptor once no job uses it (the users, pruned of
# jobs gone, are in the same hash slot). KEYS: reference, its users
_DROP_REFERENCE_IF_UNUSED = """
if redis.call('SCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) return 1 end
return 0
"""

# Counts in a field of the job only while it exists (see _UPDATE_IF_EXISTS).
# KEYS: job; ARGV: field
_COUNT_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
"""


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    fields: dict[str, str]
    photos_total: int
    photos_done: int
    photos_failed: int
    matches_total: int
    matches: list[dict[str, Any]]
    failed: list[dict[str, str]]
    next_cursor: str | None
    queued: int = 0

    @property
    def state(self) -> str:
        return self.fields.get("state", "")


class JobRecords(StoreBase):
    """A job's record, its states and its per-photo outcomes."""

    SCRIPTS: ClassVar[dict[str, str]] = {
        "_record": _RECORD_OUTCOME,
        "_finish": _FINISH_SEARCH,
        "_complete": _COMPLETE,
        "_cancel": _CANCEL,
        "_set_running": _SET_RUNNING_STATE,
        "_reopen": _REOPEN,
        "_relist": _RELIST,
        "_update": _UPDATE_IF_EXISTS,
        "_hsetnx_if_job": _HSETNX_IF_JOB,
        "_drop_reference": _DROP_REFERENCE_IF_UNUSED,
        "_count": _COUNT_IF_EXISTS,
    }

    def create(
        self, job_id: str, fields: dict[str, str], uploads: dict[int, bytes] | None = None
    ) -> None:
        now = str(time.time())
        record = {**fields, "state": State.QUEUED.value, "created": now, "updated": now}
        with self.redis.pipeline(transaction=True) as pipe:  # the job's keys: one slot
            pipe.hset(keys.job_key(job_id), mapping=record)
            pipe.expire(keys.job_key(job_id), self.ttl)
            if uploads:
                pipe.hset(keys.upload_key(job_id), mapping={str(i): d for i, d in uploads.items()})
                pipe.expire(keys.upload_key(job_id), self.ttl)
            pipe.execute()
        # Apart (another hash slot) and after: the sweep forgets an active id whose
        # record it cannot find, and a job whose marking failed was never announced.
        self.redis.sadd(keys.active_jobs_key(), job_id)

    def fields(self, job_id: str) -> dict[str, str] | None:
        record = self.redis.hgetall(keys.job_key(job_id))
        return {text(k): text(v) for k, v in record.items()} or None

    def state(self, job_id: str) -> str | None:
        value = self.redis.hget(keys.job_key(job_id), "state")
        return text(value) if value is not None else None

    def update(self, job_id: str, **fields: str) -> bool:
        """Sets fields of an existing job; False when the job is gone."""
        flat = [item for pair in {**fields, "updated": str(time.time())}.items() for item in pair]
        return bool(self._update(keys=[keys.job_key(job_id)], args=flat))

    def set_state(self, job_id: str, state: State) -> None:
        self._set_running(keys=[keys.job_key(job_id)], args=[state.value, str(time.time())])

    def fail(self, job_id: str, reason: str) -> None:
        self.update(job_id, state=State.FAILED.value, error=reason, finished=str(time.time()))

    def cancel(self, job_id: str) -> tuple[str, bool]:
        """Stops a running job: (its state now, whether this call stopped it); the
        state is "unknown" for no such job."""
        state, changed = self._cancel(keys=[keys.job_key(job_id)], args=[str(time.time())])
        return text(state), bool(changed)

    def reopen(self, job_id: str) -> str:
        """A cancelled or failed job queued again, keeping every photo already recorded."""
        names = [
            keys.job_key(job_id),
            keys.photos_key(job_id),
            keys.done_key(job_id),
            keys.queue_key(job_id),
            keys.leases_key(job_id),
            keys.lease_due_key(job_id),
            keys.drainers_key(job_id),
            keys.search_lease_key(job_id),
        ]
        if self._reopen(keys=names, args=[str(time.time())]) == b"queued":
            self.redis.sadd(keys.active_jobs_key(), job_id)
        return text(self.state(job_id) or "unknown")

    def relist(self, job_id: str, mode: str = "full") -> bool:
        """A finished (live) event listed again, in full or for new posts only; False if
        it is not finished (its reading goes on, or it failed)."""
        args = [str(time.time()), mode]
        if self._relist(keys=[keys.job_key(job_id)], args=args) == 1:
            self.redis.sadd(keys.active_jobs_key(), job_id)
            return True
        return False

    def job_ids(self, limit: int = 10_000, role: str = "") -> list[str]:
        """The searches of this Redis database (a SCAN, for `findme jobs`), at most
        limit; with role "event", its events instead."""
        found: list[str] = []
        for batch in _batched(self.redis.scan_iter(match=keys.job_key("*"), count=500), 500):
            ids = [i for i in (keys.job_id_of(text(k)) for k in batch) if i is not None]
            with self.redis.pipeline(transaction=False) as pipe:
                for job_id in ids:
                    pipe.hget(keys.job_key(job_id), "role")
                roles = pipe.execute()
            found += [i for i, r in zip(ids, roles, strict=True) if text(r or b"") == role]
            if len(found) >= limit:
                return found[:limit]
        return found

    def uploads(self, job_id: str) -> dict[int, bytes]:
        """The uploaded reference photos by position, kept until forget_uploads: a
        search stopped while its descriptors are computed computes them again."""
        return {int(text(k)): v for k, v in self.redis.hgetall(keys.upload_key(job_id)).items()}

    def forget_uploads(self, job_id: str) -> None:
        """Deletes the uploaded photos, their descriptors kept (biometric data)."""
        self.redis.delete(keys.upload_key(job_id))

    def delete(self, job_id: str) -> bool:
        """Removes a job's own keys (its matches, photos, uploaded photo, its copy of
        its reference descriptors); False if unknown. Shared data another job may
        need stays: the face cache, and a reference descriptor another job took."""
        fingerprints = self.redis.hget(keys.job_key(job_id), "reference_fingerprints")
        existed = bool(self.redis.exists(keys.job_key(job_id)))
        self.redis.srem(keys.active_jobs_key(), job_id)
        self.redis.delete(*keys.job_keys(job_id))  # one hash slot: one command
        for fingerprint in json.loads(text(fingerprints or b"[]")):
            if fingerprint.startswith("confirmed:"):
                self.redis.delete(keys.reference_key(fingerprint))  # older jobs kept their own
            else:
                self._forget_reference_user(fingerprint, keys.job_key(job_id))
        return existed

    def _forget_reference_user(self, fingerprint: str, job: str) -> None:
        """The job no longer uses the shared descriptor; it goes once no existing job does
        (a job that expired no longer counts)."""
        users = keys.reference_users_key(fingerprint)
        self.redis.srem(users, job)
        for other in self.redis.smembers(users):
            if not self.redis.exists(other):
                self.redis.srem(users, other)
        self._drop_reference(keys=[keys.reference_key(fingerprint), users])

    def stalled_since(self, job_id: str, stall_seconds: int) -> float | None:
        """When a running job last made progress, if longer ago than stall_seconds."""
        state, updated = self.redis.hmget(keys.job_key(job_id), "state", "updated")
        if state is None or text(state) in FINAL_STATES or updated is None:
            return None
        last = float(text(updated))
        return last if time.time() - last > stall_seconds else None

    def record(self, job_id: str, photo: str, outcome: Outcome, payload: str = "") -> str:
        """Records what one photo gave, once; a second delivery changes nothing."""
        names = [
            keys.job_key(job_id),
            keys.photos_key(job_id),
            keys.done_key(job_id),
            keys.failed_key(job_id),
            keys.matches_key(job_id),
            keys.leases_key(job_id),
            keys.lease_due_key(job_id),
        ]
        args = [photo, outcome.value, payload, self.ttl, str(time.time())]
        return text(self._record(keys=names, args=args))

    def count_photo_with_small_faces(self, job_id: str) -> None:
        """One more photo holding faces too small to be sure of (after its record)."""
        self.count(job_id, "photos_with_small_faces")

    def count(self, job_id: str, field: str) -> None:
        """One more of something the job keeps a tally of (only while it exists)."""
        self._count(keys=[keys.job_key(job_id)], args=[field])

    def finish_search(self, job_id: str) -> str:
        names = [keys.job_key(job_id), keys.photos_key(job_id), keys.done_key(job_id)]
        return text(self._finish(keys=names, args=[str(time.time())]))

    def complete_if_finished(self, job_id: str) -> str:
        """Marks the job done if its search is over and every photo is recorded."""
        names = [keys.job_key(job_id), keys.photos_key(job_id), keys.done_key(job_id)]
        return text(self._complete(keys=names, args=[str(time.time())]))

    def failed_count(self, job_id: str) -> int:
        return int(self.redis.hlen(keys.failed_key(job_id)))

    def progress(self, job_id: str) -> dict[str, Any] | None:
        """A running job's state and counts, cheaply (for a local follower); a search
        of an event counts the event's photos."""
        state, event = self.redis.hmget(keys.job_key(job_id), "state", "event")
        if state is None:
            return None
        counted = text(event) if event else job_id
        with self.redis.pipeline(transaction=False) as pipe:  # two jobs' hash slots
            pipe.scard(keys.photos_key(counted))
            pipe.scard(keys.done_key(counted))
            pipe.hlen(keys.matches_key(job_id))
            total, done, matches = pipe.execute()
        return {
            "state": text(state),
            "photos_total": int(total),
            "photos_done": int(done),
            "matches": int(matches),
        }

    def matches(self, job_id: str) -> list[dict[str, Any]]:
        """Every match of a job, closest first."""
        found = [json.loads(v) for v in self.redis.hvals(keys.matches_key(job_id))]
        return sorted(found, key=lambda m: (m.get("distance", 1.0), m.get("photo", "")))

    def status(
        self, job_id: str, offset: int = 0, limit: int | None = None, page_bytes: int = 400_000
    ) -> JobStatus | None:
        """A job's counts and one page of its matches (closest first) and failed photos
        (by name): entries offset to offset + limit of each list, fewer when that many
        would pass page_bytes of JSON in either list. A search of an event counts the
        event's photos (listed, examined, failed) once it follows the event."""
        state, event, followed = self.redis.hmget(
            keys.job_key(job_id), "state", "event", "search_done"
        )
        if state is None:
            return None
        counted = text(event) if event and followed == b"1" else job_id
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.job_key(job_id))
            pipe.scard(keys.photos_key(counted))
            pipe.scard(keys.done_key(counted))
            pipe.hgetall(keys.failed_key(counted))
            pipe.hgetall(keys.matches_key(job_id))
            pipe.llen(keys.queue_key(counted))
            record, total, done, failed, matches, queued = pipe.execute()
        if not record:
            return None
        match_list = [json.loads(v) for v in matches.values()]
        match_list.sort(key=lambda m: (m.get("distance", 1.0), m.get("photo", "")))
        failed_list = [{"photo": text(k), "reason": text(v)} for k, v in sorted(failed.items())]
        end = None
        if limit is not None:
            fit = min(
                _fitting(match_list, offset, page_bytes), _fitting(failed_list, offset, page_bytes)
            )
            end = offset + max(1, min(limit, fit))
        more = end is not None and (len(match_list) > end or len(failed_list) > end)
        return JobStatus(
            job_id=job_id,
            fields={text(k): text(v) for k, v in record.items()},
            photos_total=int(total),
            photos_done=int(done),
            photos_failed=len(failed_list),
            matches_total=len(match_list),
            matches=match_list[offset:end],
            failed=failed_list[offset:end],
            next_cursor=str(end) if more else None,
            queued=int(queued),
        )


def _fitting(items: list[Any], offset: int, page_bytes: int) -> int:
    """How many items from offset fit in page_bytes of JSON: no bound when all do."""
    size = 0
    for count, item in enumerate(items[offset:]):
        size += len(json.dumps(item)) + 2
        if size > page_bytes:
            return count
    return len(items) + 1_000_000


def _batched(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
