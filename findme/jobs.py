"""Job state in Redis. Every key, TTL and counter FindMe uses is built here.

Updates that an event causes are idempotent (sets and hashes keyed by photo,
applied in Lua so check-and-write is atomic), because OpenWhisk delivers
events at least once.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

import redis

PREFIX = "findme"


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


def job_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}"


def photos_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:photos"


def done_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:done"


def failed_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:failed"


def matches_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:matches"


def attempts_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:attempts"


def seen_key(job_id: str) -> str:
    """Photo id -> JSON {digest, post_url, author, width, height} of each photo examined."""
    return f"{PREFIX}:job:{job_id}:seen"


def rejected_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:rejected"


def upload_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:upload"


def queue_key(job_id: str) -> str:
    """JSON photo entries registered and waiting for a compare activation, oldest first."""
    return f"{PREFIX}:job:{job_id}:queue"


def leases_key(job_id: str) -> str:
    """Photo id -> JSON entry of photos a compare activation has taken and not recorded."""
    return f"{PREFIX}:job:{job_id}:leases"


def lease_due_key(job_id: str) -> str:
    """Photo id -> when its lease ends (ms): the sweep queues it again after that."""
    return f"{PREFIX}:job:{job_id}:lease_due"


def drainers_key(job_id: str) -> str:
    """Token -> until when (ms) a compare activation is expected to hold it."""
    return f"{PREFIX}:job:{job_id}:drainers"


def search_lease_key(job_id: str) -> str:
    """The token of the search activation listing the source now."""
    return f"{PREFIX}:job:{job_id}:search_lease"


def active_jobs_key() -> str:
    """Jobs not yet done or failed: what the sweep looks at."""
    return f"{PREFIX}:active_jobs"


def fires_key(minute: int) -> str:
    """Trigger fires FindMe made in one wall-clock minute (shared by all jobs)."""
    return f"{PREFIX}:fires:{minute}"


def job_references_key(job_id: str) -> str:
    """Fingerprint -> hex descriptor: the job's own copy of its reference faces."""
    return f"{PREFIX}:job:{job_id}:references"


def urls_key(job_id: str) -> str:
    """The organiser's photo URLs of a "urls" job, in the order given, duplicates dropped."""
    return f"{PREFIX}:job:{job_id}:urls"


def origins_key(job_id: str) -> str:
    """A photo's origin URL -> the first copy of it the job listed (a Mastodon post read
    on two servers is one photo, compared once)."""
    return f"{PREFIX}:job:{job_id}:origins"


def bluesky_session_key(account: str) -> str:
    """JSON {accessJwt, refreshJwt, did} of FindMe's Bluesky session (account: a digest
    of the service and handle, never the handle itself)."""
    return f"{PREFIX}:bluesky:session:{account}"


def bluesky_login_lock_key(account: str) -> str:
    """Held by the one activation logging in, so concurrent ones wait for its session."""
    return f"{PREFIX}:bluesky:login:{account}"


def bluesky_logins_key(account: str, window: int) -> str:
    """Logins FindMe made in one 5-minute window (Bluesky allows 30)."""
    return f"{PREFIX}:bluesky:logins:{account}:{window}"


def reference_key(fingerprint: str) -> str:
    """The shared reference cache: one descriptor per photo content, for every search."""
    return f"{PREFIX}:ref:{fingerprint}"


def reference_users_key(fingerprint: str) -> str:
    """The jobs that took a shared reference descriptor (to know when none needs it)."""
    return f"{PREFIX}:ref:{fingerprint}:jobs"


def photo_faces_key(digest: str, detection: str) -> str:
    """Faces found in one photo (by content hash) with one detection setting."""
    return f"{PREFIX}:photo:{detection}:{digest}"


def job_keys(job_id: str) -> list[str]:
    return [
        job_key(job_id),
        photos_key(job_id),
        done_key(job_id),
        failed_key(job_id),
        matches_key(job_id),
        upload_key(job_id),
        attempts_key(job_id),
        seen_key(job_id),
        rejected_key(job_id),
        queue_key(job_id),
        leases_key(job_id),
        lease_due_key(job_id),
        drainers_key(job_id),
        search_lease_key(job_id),
        job_references_key(job_id),
        urls_key(job_id),
        origins_key(job_id),
    ]


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


# Registers photos new to the job and queues them for comparison.
# KEYS: job, photos, queue; ARGV: ttl, then photo, entry JSON pairs. Returns how many were new.
_ENQUEUE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local fresh = 0
for i = 2, #ARGV, 2 do
  if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[3], ARGV[i + 1])
    fresh = fresh + 1
  end
end
redis.call('EXPIRE', KEYS[2], ARGV[1])
if fresh > 0 then redis.call('EXPIRE', KEYS[3], ARGV[1]) end
return fresh
"""

# KEYS: job, drainers; ARGV: token, until (ms), ttl
_ADD_DRAINER = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""

# Takes the next queued photo under a lease, counting the attempt; a photo
# recorded meanwhile (a duplicate) is skipped.
# KEYS: job, queue, leases, lease_due, attempts, done; ARGV: lease until (ms), ttl
# Returns {entry JSON, attempt} or nil when nothing is queued.
_TAKE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' or state == 'failed' or state == 'cancelled' then return nil end
while true do
  local entry = redis.call('LPOP', KEYS[2])
  if not entry then return nil end
  local photo = cjson.decode(entry)['photo']
  if redis.call('SISMEMBER', KEYS[6], photo) == 0 then
    redis.call('HSET', KEYS[3], photo, entry)
    redis.call('ZADD', KEYS[4], ARGV[1], photo)
    local attempt = redis.call('HINCRBY', KEYS[5], photo, 1)
    for i = 3, 5 do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
    return {entry, attempt}
  end
end
"""

# Queues again the photos whose lease ended (their activation crashed, timed
# out or was killed): nothing on OpenWhisk runs it again.
# KEYS: job, queue, leases, lease_due, done; ARGV: now (ms). Returns how many.
_REQUEUE_EXPIRED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', ARGV[1])
local count = 0
for _, photo in ipairs(due) do
  local entry = redis.call('HGET', KEYS[3], photo)
  redis.call('HDEL', KEYS[3], photo)
  redis.call('ZREM', KEYS[4], photo)
  if entry and redis.call('SISMEMBER', KEYS[5], photo) == 0 then
    redis.call('LPUSH', KEYS[2], entry)
    count = count + 1
  end
end
return count
"""

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

# Writes fields only while the job exists, so a late event for a deleted or
# expired job cannot bring back a partial record without a TTL.
# KEYS: job; ARGV: field, value, field, value, ...
_UPDATE_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

# The writes below re-create a per-job key when it is missing, so each first
# checks, in the same script, that the job still exists: a late activation of a
# deleted job brings nothing back.

# KEYS: job, hash; ARGV: field, value, ttl
_HSET_IF_JOB = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""

# Only a photo registered for the job is kept (a fired event can name any photo).
# KEYS: job, photos, seen; ARGV: photo, document, ttl
_REMEMBER_IF_REGISTERED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
"""

# KEYS: job, set; ARGV: ttl, member... Returns 1 per member new to the set.
_SADD_IF_JOB = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local added = {}
for i = 2, #ARGV do added[#added + 1] = redis.call('SADD', KEYS[2], ARGV[i]) end
redis.call('EXPIRE', KEYS[2], ARGV[1])
return added
"""

# KEYS: job; ARGV: field, value. HSETNX on a gone job would create a bare hash.
_HSETNX_IF_JOB = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
"""

# Keeps the job's copy of a reference descriptor and notes the job among the
# users of the shared one. KEYS: job, job references, users; ARGV: fingerprint, hex, ttl
_KEEP_REFERENCE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if KEYS[3] ~= '' then
  redis.call('SADD', KEYS[3], KEYS[1])
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
return 1
"""

# Deletes a job's own keys; a shared reference descriptor goes too once no
# other existing job took it (a job that expired no longer counts).
# KEYS: job keys..., then for each shared reference its key and its users key;
# ARGV: how many job keys
_DELETE_JOB = """
local job_keys = tonumber(ARGV[1])
local existed = redis.call('EXISTS', KEYS[1])
for i = 1, job_keys do redis.call('DEL', KEYS[i]) end
for i = job_keys + 1, #KEYS, 2 do
  local users = KEYS[i + 1]
  redis.call('SREM', users, KEYS[1])
  for _, other in ipairs(redis.call('SMEMBERS', users)) do
    if redis.call('EXISTS', other) == 0 then redis.call('SREM', users, other) end
  end
  if redis.call('SCARD', users) == 0 then redis.call('DEL', KEYS[i], users) end
end
return existed
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


class JobStore:
    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self.redis = client
        self.ttl = ttl_seconds
        self._record = client.register_script(_RECORD_OUTCOME)
        self._finish = client.register_script(_FINISH_SEARCH)
        self._update = client.register_script(_UPDATE_IF_EXISTS)
        self._complete = client.register_script(_COMPLETE)
        self._enqueue = client.register_script(_ENQUEUE)
        self._add_drainer = client.register_script(_ADD_DRAINER)
        self._take = client.register_script(_TAKE)
        self._requeue = client.register_script(_REQUEUE_EXPIRED)
        self._hset_if_job = client.register_script(_HSET_IF_JOB)
        self._remember = client.register_script(_REMEMBER_IF_REGISTERED)
        self._sadd_if_job = client.register_script(_SADD_IF_JOB)
        self._hsetnx_if_job = client.register_script(_HSETNX_IF_JOB)
        self._keep_reference = client.register_script(_KEEP_REFERENCE)
        self._delete = client.register_script(_DELETE_JOB)
        self._cancel = client.register_script(_CANCEL)
        self._set_running = client.register_script(_SET_RUNNING_STATE)
        self._reopen = client.register_script(_REOPEN)
        self._count = client.register_script(_COUNT_IF_EXISTS)

    # -- jobs ---------------------------------------------------------------
    def create(
        self, job_id: str, fields: dict[str, str], uploads: dict[int, bytes] | None = None
    ) -> None:
        now = str(time.time())
        record = {**fields, "state": State.QUEUED.value, "created": now, "updated": now}
        with self.redis.pipeline() as pipe:
            pipe.hset(job_key(job_id), mapping=record)
            pipe.expire(job_key(job_id), self.ttl)
            if uploads:
                pipe.hset(upload_key(job_id), mapping={str(i): d for i, d in uploads.items()})
                pipe.expire(upload_key(job_id), self.ttl)
            pipe.sadd(active_jobs_key(), job_id)
            pipe.execute()

    def fields(self, job_id: str) -> dict[str, str] | None:
        record = self.redis.hgetall(job_key(job_id))
        return {_text(k): _text(v) for k, v in record.items()} or None

    def state(self, job_id: str) -> str | None:
        value = self.redis.hget(job_key(job_id), "state")
        return _text(value) if value is not None else None

    def update(self, job_id: str, **fields: str) -> bool:
        """Sets fields of an existing job; False when the job is gone."""
        flat = [item for pair in {**fields, "updated": str(time.time())}.items() for item in pair]
        return bool(self._update(keys=[job_key(job_id)], args=flat))

    def take_search_lease(self, job_id: str, token: str, lease_ms: int) -> bool:
        """True when this activation may list the source: no other one holds the lease."""
        if not self.redis.exists(job_key(job_id)):
            return False
        taken = self.redis.set(search_lease_key(job_id), token, nx=True, px=max(lease_ms, 1))
        if taken:
            self._hsetnx_if_job(keys=[job_key(job_id)], args=["search_started", time.time()])
        return bool(taken)

    def release_search_lease(self, job_id: str, token: str) -> None:
        with self.redis.pipeline() as pipe:
            pipe.watch(search_lease_key(job_id))
            if _text(pipe.get(search_lease_key(job_id)) or b"") == token:
                pipe.multi()
                pipe.delete(search_lease_key(job_id))
                pipe.execute()

    def search_leased(self, job_id: str) -> bool:
        return bool(self.redis.exists(search_lease_key(job_id)))

    # -- the work queue -------------------------------------------------------
    def enqueue(self, job_id: str, entries: list[dict[str, Any]]) -> int:
        """Registers the photos of entries and queues the new ones; returns how many
        were new (a photo seen before in this job is compared once)."""
        if not entries:
            return 0
        flat: list[str] = []
        for entry in entries:
            flat += [entry["photo"], json.dumps(entry)]
        keys = [job_key(job_id), photos_key(job_id), queue_key(job_id)]
        return max(int(self._enqueue(keys=keys, args=[self.ttl, *flat])), 0)

    def take(self, job_id: str, lease_until_ms: int) -> tuple[dict[str, Any], int] | None:
        """The next queued photo entry and its attempt number, leased until the given
        time; None when the queue is empty or the job has ended."""
        keys = [
            job_key(job_id),
            queue_key(job_id),
            leases_key(job_id),
            lease_due_key(job_id),
            attempts_key(job_id),
            done_key(job_id),
        ]
        taken = self._take(keys=keys, args=[lease_until_ms, self.ttl])
        if not taken:
            return None
        return json.loads(taken[0]), int(taken[1])

    def requeue_expired(self, job_id: str, now_ms: int | None = None) -> int:
        keys = [
            job_key(job_id),
            queue_key(job_id),
            leases_key(job_id),
            lease_due_key(job_id),
            done_key(job_id),
        ]
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        return int(self._requeue(keys=keys, args=[now]))

    def queued(self, job_id: str) -> int:
        return int(self.redis.llen(queue_key(job_id)))

    # -- compare activations (drainers) -------------------------------------------
    def add_drainer(self, job_id: str, token: str, until_ms: int) -> None:
        """Holds a compare activation's token (never for a job deleted meanwhile)."""
        self._add_drainer(
            keys=[job_key(job_id), drainers_key(job_id)], args=[token, until_ms, self.ttl]
        )

    def remove_drainer(self, job_id: str, token: str) -> None:
        self.redis.zrem(drainers_key(job_id), token)

    def live_drainers(self, job_id: str, now_ms: int | None = None) -> int:
        """Compare activations fired for the job and not yet over (nor presumed lost)."""
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        with self.redis.pipeline() as pipe:
            pipe.zremrangebyscore(drainers_key(job_id), "-inf", now)
            pipe.zcard(drainers_key(job_id))
            _, count = pipe.execute()
        return int(count)

    # -- the sweep ----------------------------------------------------------------
    def active_jobs(self, limit: int = 1000) -> list[str]:
        return sorted(_text(j) for j in self.redis.srandmember(active_jobs_key(), limit) or [])

    def forget_active(self, job_id: str) -> None:
        self.redis.srem(active_jobs_key(), job_id)

    def count_fire(self, minute: int) -> int:
        """Counts a trigger fire in this wall-clock minute; returns the count so far."""
        with self.redis.pipeline() as pipe:
            pipe.incr(fires_key(minute))
            pipe.expire(fires_key(minute), 180)
            count, _ = pipe.execute()
        return int(count)

    def set_state(self, job_id: str, state: State) -> None:
        self._set_running(keys=[job_key(job_id)], args=[state.value, str(time.time())])

    def fail(self, job_id: str, reason: str) -> None:
        self.update(job_id, state=State.FAILED.value, error=reason, finished=str(time.time()))

    def cancel(self, job_id: str) -> tuple[str, bool]:
        """Stops a running job: (its state now, whether this call stopped it); the
        state is "unknown" for no such job."""
        state, changed = self._cancel(keys=[job_key(job_id)], args=[str(time.time())])
        return _text(state), bool(changed)

    def reopen(self, job_id: str) -> str:
        """A cancelled or failed job queued again, keeping every photo already recorded."""
        keys = [
            job_key(job_id),
            photos_key(job_id),
            done_key(job_id),
            queue_key(job_id),
            leases_key(job_id),
            lease_due_key(job_id),
            drainers_key(job_id),
            search_lease_key(job_id),
        ]
        if self._reopen(keys=keys, args=[str(time.time())]) == b"queued":
            self.redis.sadd(active_jobs_key(), job_id)
        return _text(self.state(job_id) or "unknown")

    def job_ids(self, limit: int = 10_000) -> list[str]:
        """The jobs of this Redis database (a SCAN, for `findme jobs`), at most limit."""
        found = []
        for key in self.redis.scan_iter(match=job_key("*"), count=500):
            job_id = _text(key)[len(job_key("")) :]
            if ":" not in job_id:
                found.append(job_id)
                if len(found) >= limit:
                    break
        return found

    def take_uploads(self, job_id: str) -> dict[int, bytes]:
        """The uploaded reference photos by position; deleted once read (biometric data)."""
        with self.redis.pipeline() as pipe:
            pipe.hgetall(upload_key(job_id))
            pipe.delete(upload_key(job_id))
            uploads, _ = pipe.execute()
        return {int(_text(k)): v for k, v in uploads.items()}

    def delete(self, job_id: str) -> bool:
        """Removes a job's own keys (its matches, photos, uploaded photo, its copy of
        its reference descriptors); False if unknown. Shared data another job may
        need stays: the face cache, and a reference descriptor another job took."""
        fingerprints = self.redis.hget(job_key(job_id), "reference_fingerprints")
        keys = job_keys(job_id)
        for fingerprint in json.loads(_text(fingerprints or b"[]")):
            if fingerprint.startswith("confirmed:"):
                keys.append(reference_key(fingerprint))  # older jobs kept their own here
            else:
                keys += [reference_key(fingerprint), reference_users_key(fingerprint)]
        self.redis.srem(active_jobs_key(), job_id)
        return bool(self._delete(keys=keys, args=[len(job_keys(job_id))]))

    def stalled_since(self, job_id: str, stall_seconds: int) -> float | None:
        """When a running job last made progress, if longer ago than stall_seconds."""
        state, updated = self.redis.hmget(job_key(job_id), "state", "updated")
        if state is None or _text(state) in FINAL_STATES or updated is None:
            return None
        last = float(_text(updated))
        return last if time.time() - last > stall_seconds else None

    # -- an organiser's list of photo URLs ------------------------------------
    def save_urls(self, job_id: str, urls: list[str]) -> None:
        with self.redis.pipeline() as pipe:
            pipe.delete(urls_key(job_id))
            for start in range(0, len(urls), 1000):
                pipe.rpush(urls_key(job_id), *urls[start : start + 1000])
            pipe.expire(urls_key(job_id), self.ttl)
            pipe.execute()

    def urls(self, job_id: str, start: int, count: int) -> list[str]:
        return [_text(u) for u in self.redis.lrange(urls_key(job_id), start, start + count - 1)]

    def claim_origins(self, job_id: str, copies: list[tuple[str, str]]) -> list[str]:
        """For each (origin URL, copy URL), the copy the job keeps: the first one claimed,
        the same answer when a page is listed again."""
        if not copies:
            return []
        with self.redis.pipeline() as pipe:
            for origin, copy in copies:
                pipe.hsetnx(origins_key(job_id), origin, copy)
                pipe.hget(origins_key(job_id), origin)
            pipe.expire(origins_key(job_id), self.ttl)
            answers = pipe.execute()
        return [_text(owner) for owner in answers[1:-1:2]]

    # -- reference descriptors ---------------------------------------------
    def reference(self, fingerprint: str) -> str | None:
        value = self.redis.get(reference_key(fingerprint))
        return _text(value) if value is not None else None

    def save_reference(self, fingerprint: str, descriptor_hex: str) -> None:
        self.redis.set(reference_key(fingerprint), descriptor_hex, ex=self.ttl)

    def keep_reference(
        self, job_id: str, fingerprint: str, descriptor_hex: str, shared: bool = True
    ) -> bool:
        """The job's own copy of a reference descriptor, so deleting another job that
        used the same photo cannot take it away; False when the job is gone."""
        users = reference_users_key(fingerprint) if shared else ""
        keys = [job_key(job_id), job_references_key(job_id), users]
        return bool(self._keep_reference(keys=keys, args=[fingerprint, descriptor_hex, self.ttl]))

    def job_references(self, job_id: str) -> dict[str, str]:
        copies = self.redis.hgetall(job_references_key(job_id))
        return {_text(k): _text(v) for k, v in copies.items()}

    # -- review -----------------------------------------------------------------
    def remember_photo(self, job_id: str, photo: str, document: str) -> bool:
        """Keeps what re-ranking needs of an examined photo of the job; a photo not
        registered for the job (a stray or forged event) is kept nowhere."""
        keys = [job_key(job_id), photos_key(job_id), seen_key(job_id)]
        return bool(self._remember(keys=keys, args=[photo, document, self.ttl]))

    def seen_photos(self, job_id: str) -> dict[str, dict[str, Any]]:
        seen = self.redis.hgetall(seen_key(job_id))
        return {_text(k): json.loads(v) for k, v in seen.items()}

    def match(self, job_id: str, photo: str) -> dict[str, Any] | None:
        value = self.redis.hget(matches_key(job_id), photo)
        return json.loads(value) if value is not None else None

    def set_match(self, job_id: str, photo: str, record: dict[str, Any]) -> bool:
        keys = [job_key(job_id), matches_key(job_id)]
        return bool(self._hset_if_job(keys=keys, args=[photo, json.dumps(record), self.ttl]))

    def drop_match(self, job_id: str, photo: str) -> None:
        self.redis.hdel(matches_key(job_id), photo)

    def reject(self, job_id: str, photo: str) -> None:
        """A match the person says is not them: gone now and after any re-ranking."""
        self.redis.hdel(matches_key(job_id), photo)
        self._sadd_if_job(keys=[job_key(job_id), rejected_key(job_id)], args=[self.ttl, photo])

    def unreject(self, job_id: str, photo: str) -> bool:
        """Undoes a "Not me"; True when the photo had been rejected."""
        return bool(self.redis.srem(rejected_key(job_id), photo))

    def rejected(self, job_id: str) -> set[str]:
        return {_text(p) for p in self.redis.smembers(rejected_key(job_id))}

    # -- the per-photo face cache ------------------------------------------------
    def cached_faces(self, digest: str, detection: str) -> str | None:
        value = self.redis.get(photo_faces_key(digest, detection))
        return _text(value) if value is not None else None

    def save_faces(self, digest: str, detection: str, document: str) -> None:
        self.redis.set(photo_faces_key(digest, detection), document, ex=self.ttl)

    # -- photos -------------------------------------------------------------
    def record(self, job_id: str, photo: str, outcome: Outcome, payload: str = "") -> str:
        """Records what one photo gave, once; a second delivery changes nothing."""
        keys = [
            job_key(job_id),
            photos_key(job_id),
            done_key(job_id),
            failed_key(job_id),
            matches_key(job_id),
            leases_key(job_id),
            lease_due_key(job_id),
        ]
        args = [photo, outcome.value, payload, self.ttl, str(time.time())]
        return _text(self._record(keys=keys, args=args))

    def count_photo_with_small_faces(self, job_id: str) -> None:
        """One more photo holding faces too small to be sure of (after its record)."""
        self._count(keys=[job_key(job_id)], args=["photos_with_small_faces"])

    def finish_search(self, job_id: str) -> str:
        keys = [job_key(job_id), photos_key(job_id), done_key(job_id)]
        return _text(self._finish(keys=keys, args=[str(time.time())]))

    def progress(self, job_id: str) -> dict[str, Any] | None:
        """A running job's state and counts, cheaply (for a local follower)."""
        with self.redis.pipeline() as pipe:
            pipe.hget(job_key(job_id), "state")
            pipe.scard(photos_key(job_id))
            pipe.scard(done_key(job_id))
            pipe.hlen(matches_key(job_id))
            state, total, done, matches = pipe.execute()
        if state is None:
            return None
        return {
            "state": _text(state),
            "photos_total": int(total),
            "photos_done": int(done),
            "matches": int(matches),
        }

    def matches(self, job_id: str) -> list[dict[str, Any]]:
        """Every match of a job, closest first."""
        found = [json.loads(v) for v in self.redis.hvals(matches_key(job_id))]
        return sorted(found, key=lambda m: (m.get("distance", 1.0), m.get("photo", "")))

    def complete_if_finished(self, job_id: str) -> str:
        """Marks the job done if its search is over and every photo is recorded."""
        keys = [job_key(job_id), photos_key(job_id), done_key(job_id)]
        return _text(self._complete(keys=keys, args=[str(time.time())]))

    def status(
        self, job_id: str, offset: int = 0, limit: int | None = None, page_bytes: int = 400_000
    ) -> JobStatus | None:
        """A job's counts and one page of its matches (closest first) and failed photos
        (by name): entries offset to offset + limit of each list, fewer when that many
        would pass page_bytes of JSON in either list."""
        with self.redis.pipeline() as pipe:
            pipe.hgetall(job_key(job_id))
            pipe.scard(photos_key(job_id))
            pipe.scard(done_key(job_id))
            pipe.hgetall(failed_key(job_id))
            pipe.hgetall(matches_key(job_id))
            pipe.llen(queue_key(job_id))
            record, total, done, failed, matches, queued = pipe.execute()
        if not record:
            return None
        match_list = [json.loads(v) for v in matches.values()]
        match_list.sort(key=lambda m: (m.get("distance", 1.0), m.get("photo", "")))
        failed_list = [{"photo": _text(k), "reason": _text(v)} for k, v in sorted(failed.items())]
        end = None
        if limit is not None:
            fit = min(
                _fitting(match_list, offset, page_bytes), _fitting(failed_list, offset, page_bytes)
            )
            end = offset + max(1, min(limit, fit))
        more = end is not None and (len(match_list) > end or len(failed_list) > end)
        return JobStatus(
            job_id=job_id,
            fields={_text(k): _text(v) for k, v in record.items()},
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


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
