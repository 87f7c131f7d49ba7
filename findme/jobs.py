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


FINAL_STATES = {State.DONE.value, State.FAILED.value}


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


def reference_key(fingerprint: str) -> str:
    return f"{PREFIX}:ref:{fingerprint}"


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
    ]


# Marks the job done once the search is over and every photo is accounted for.
# KEYS: job, photos, done
_COMPLETE_IF_FINISHED = """
local function complete_if_finished(job, photos, done, now)
  local state = redis.call('HGET', job, 'state')
  if state == 'done' or state == 'failed' then return state end
  if redis.call('HGET', job, 'search_done') == '1'
     and redis.call('SCARD', done) >= redis.call('SCARD', photos) then
    redis.call('HSET', job, 'state', 'done', 'finished', now)
    return 'done'
  end
  return state
end
"""

# KEYS: job, photos, done, failed, matches; ARGV: photo, outcome, payload, ttl, now
_RECORD_OUTCOME = (
    _COMPLETE_IF_FINISHED
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' or state == 'failed' then return 'ignored' end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 'foreign' end
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
if state == 'done' or state == 'failed' then return state end
redis.call('HSET', KEYS[1], 'search_done', '1', 'updated', ARGV[1])
if redis.call('SCARD', KEYS[3]) < redis.call('SCARD', KEYS[2]) then
  redis.call('HSET', KEYS[1], 'state', 'comparing')
end
return complete_if_finished(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
"""
)


# Writes fields only while the job exists, so a late event for a deleted or
# expired job cannot bring back a partial record without a TTL.
# KEYS: job; ARGV: field, value, field, value, ...
_UPDATE_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
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
    matches: list[dict[str, Any]]
    failed: list[dict[str, str]]

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
            pipe.execute()

    def fields(self, job_id: str) -> dict[str, str] | None:
        record = self.redis.hgetall(job_key(job_id))
        return {_text(k): _text(v) for k, v in record.items()} or None

    def update(self, job_id: str, **fields: str) -> bool:
        """Sets fields of an existing job; False when the job is gone."""
        flat = [item for pair in {**fields, "updated": str(time.time())}.items() for item in pair]
        return bool(self._update(keys=[job_key(job_id)], args=flat))

    def claim_search(self, job_id: str) -> bool:
        """True for the first delivery of a job's search_request only."""
        if not self.redis.exists(job_key(job_id)):
            return False
        return bool(self.redis.hsetnx(job_key(job_id), "search_started", str(time.time())))

    def set_state(self, job_id: str, state: State) -> None:
        self.update(job_id, state=state.value)

    def fail(self, job_id: str, reason: str) -> None:
        self.update(job_id, state=State.FAILED.value, error=reason, finished=str(time.time()))

    def take_uploads(self, job_id: str) -> dict[int, bytes]:
        """The uploaded reference photos by position; deleted once read (biometric data)."""
        with self.redis.pipeline() as pipe:
            pipe.hgetall(upload_key(job_id))
            pipe.delete(upload_key(job_id))
            uploads, _ = pipe.execute()
        return {int(_text(k)): v for k, v in uploads.items()}

    def delete(self, job_id: str) -> bool:
        """Removes a job, its matches and its reference descriptor; False if unknown."""
        fingerprints = self.redis.hget(job_key(job_id), "reference_fingerprints")
        keys = job_keys(job_id)
        keys += [reference_key(f) for f in json.loads(_text(fingerprints or b"[]"))]
        return bool(self.redis.delete(*keys)) and self.redis.exists(job_key(job_id)) == 0

    def start_attempt(self, job_id: str, photo: str) -> int:
        """Counts attempts at a photo, so one that kills its worker is not tried forever."""
        with self.redis.pipeline() as pipe:
            pipe.hincrby(attempts_key(job_id), photo, 1)
            pipe.expire(attempts_key(job_id), self.ttl)
            count, _ = pipe.execute()
        return int(count)

    def stalled_since(self, job_id: str, stall_seconds: int) -> float | None:
        """When a running job last made progress, if longer ago than stall_seconds."""
        state, updated = self.redis.hmget(job_key(job_id), "state", "updated")
        if state is None or _text(state) in FINAL_STATES or updated is None:
            return None
        last = float(_text(updated))
        return last if time.time() - last > stall_seconds else None

    # -- reference descriptors ---------------------------------------------
    def reference(self, fingerprint: str) -> str | None:
        value = self.redis.get(reference_key(fingerprint))
        return _text(value) if value is not None else None

    def save_reference(self, fingerprint: str, descriptor_hex: str) -> None:
        self.redis.set(reference_key(fingerprint), descriptor_hex, ex=self.ttl)

    # -- review -----------------------------------------------------------------
    def remember_photo(self, job_id: str, photo: str, document: str) -> None:
        with self.redis.pipeline() as pipe:
            pipe.hset(seen_key(job_id), photo, document)
            pipe.expire(seen_key(job_id), self.ttl)
            pipe.execute()

    def seen_photos(self, job_id: str) -> dict[str, dict[str, Any]]:
        seen = self.redis.hgetall(seen_key(job_id))
        return {_text(k): json.loads(v) for k, v in seen.items()}

    def match(self, job_id: str, photo: str) -> dict[str, Any] | None:
        value = self.redis.hget(matches_key(job_id), photo)
        return json.loads(value) if value is not None else None

    def set_match(self, job_id: str, photo: str, record: dict[str, Any]) -> None:
        self.redis.hset(matches_key(job_id), photo, json.dumps(record))

    def drop_match(self, job_id: str, photo: str) -> None:
        self.redis.hdel(matches_key(job_id), photo)

    def reject(self, job_id: str, photo: str) -> None:
        """A match the person says is not them: gone now and after any re-ranking."""
        with self.redis.pipeline() as pipe:
            pipe.hdel(matches_key(job_id), photo)
            pipe.sadd(rejected_key(job_id), photo)
            pipe.expire(rejected_key(job_id), self.ttl)
            pipe.execute()

    def rejected(self, job_id: str) -> set[str]:
        return {_text(p) for p in self.redis.smembers(rejected_key(job_id))}

    # -- the per-photo face cache ------------------------------------------------
    def cached_faces(self, digest: str, detection: str) -> str | None:
        value = self.redis.get(photo_faces_key(digest, detection))
        return _text(value) if value is not None else None

    def save_faces(self, digest: str, detection: str, document: str) -> None:
        self.redis.set(photo_faces_key(digest, detection), document, ex=self.ttl)

    # -- photos -------------------------------------------------------------
    def add_photos(self, job_id: str, photos: list[str]) -> list[str]:
        """Registers photos with the job; returns those not seen in it before."""
        if not photos:
            return []
        with self.redis.pipeline() as pipe:
            for photo in photos:
                pipe.sadd(photos_key(job_id), photo)
            pipe.expire(photos_key(job_id), self.ttl)
            added = pipe.execute()[:-1]
        return [photo for photo, new in zip(photos, added, strict=True) if new]

    def is_done(self, job_id: str, photo: str) -> bool:
        return bool(self.redis.sismember(done_key(job_id), photo))

    def record(self, job_id: str, photo: str, outcome: Outcome, payload: str = "") -> str:
        """Records what one photo gave, once; a second delivery changes nothing."""
        keys = [
            job_key(job_id),
            photos_key(job_id),
            done_key(job_id),
            failed_key(job_id),
            matches_key(job_id),
        ]
        args = [photo, outcome.value, payload, self.ttl, str(time.time())]
        return _text(self._record(keys=keys, args=args))

    def count_photo_with_small_faces(self, job_id: str) -> None:
        """One more photo holding faces too small to be sure of (after its record)."""
        self._count(keys=[job_key(job_id)], args=["photos_with_small_faces"])

    def finish_search(self, job_id: str) -> str:
        keys = [job_key(job_id), photos_key(job_id), done_key(job_id)]
        return _text(self._finish(keys=keys, args=[str(time.time())]))

    def status(self, job_id: str) -> JobStatus | None:
        with self.redis.pipeline() as pipe:
            pipe.hgetall(job_key(job_id))
            pipe.scard(photos_key(job_id))
            pipe.scard(done_key(job_id))
            pipe.hgetall(failed_key(job_id))
            pipe.hgetall(matches_key(job_id))
            record, total, done, failed, matches = pipe.execute()
        if not record:
            return None
        match_list = [json.loads(v) for v in matches.values()]
        match_list.sort(key=lambda m: (m.get("distance", 1.0), m.get("photo", "")))
        failed_list = [{"photo": _text(k), "reason": _text(v)} for k, v in sorted(failed.items())]
        return JobStatus(
            job_id=job_id,
            fields={_text(k): _text(v) for k, v in record.items()},
            photos_total=int(total),
            photos_done=int(done),
            photos_failed=len(failed_list),
            matches=match_list,
            failed=failed_list,
        )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
