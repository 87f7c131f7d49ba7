"""The work queue of a job: photos listed and waiting, taken under leases by compare
activations (drainers), the listing's own lease, and what the sweep needs to re-drive it."""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

from findme.state import keys
from findme.state.base import StoreBase, text

# Registers photos new to the job and queues them for comparison; a cancelled or
# failed job takes none (a listing that has not seen it stop yet queues nothing).
# KEYS: job, photos, queue; ARGV: ttl, then photo, entry JSON pairs. Returns how many were new.
_ENQUEUE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'cancelled' or state == 'failed' then return -1 end
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


# Drops the listing's lease only if this activation still holds it (a later one
# may have taken it after this one's lease ran out). KEYS: search lease; ARGV: token
_RELEASE_IF_HELD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class WorkQueue(StoreBase):
    """Queue, leases, drainers, the listing lease, active jobs and the fire counter."""

    SCRIPTS: ClassVar[dict[str, str]] = {
        "_enqueue": _ENQUEUE,
        "_add_drainer": _ADD_DRAINER,
        "_take": _TAKE,
        "_requeue": _REQUEUE_EXPIRED,
        "_release_if_held": _RELEASE_IF_HELD,
    }

    def take_search_lease(self, job_id: str, token: str, lease_ms: int) -> bool:
        """True when this activation may list the source: no other one holds the lease."""
        if not self.redis.exists(keys.job_key(job_id)):
            return False
        taken = self.redis.set(keys.search_lease_key(job_id), token, nx=True, px=max(lease_ms, 1))
        if taken:
            self._hsetnx_if_job(keys=[keys.job_key(job_id)], args=["search_started", time.time()])
        return bool(taken)

    def release_search_lease(self, job_id: str, token: str) -> None:
        self._release_if_held(keys=[keys.search_lease_key(job_id)], args=[token])

    def search_leased(self, job_id: str) -> bool:
        return bool(self.redis.exists(keys.search_lease_key(job_id)))

    def enqueue(self, job_id: str, entries: list[dict[str, Any]]) -> int:
        """Registers the photos of entries and queues the new ones; returns how many
        were new (a photo seen before in this job is compared once)."""
        if not entries:
            return 0
        flat: list[str] = []
        for entry in entries:
            flat += [entry["photo"], json.dumps(entry)]
        names = [keys.job_key(job_id), keys.photos_key(job_id), keys.queue_key(job_id)]
        return max(int(self._enqueue(keys=names, args=[self.ttl, *flat])), 0)

    def take(self, job_id: str, lease_until_ms: int) -> tuple[dict[str, Any], int] | None:
        """The next queued photo entry and its attempt number, leased until the given
        time; None when the queue is empty or the job has ended."""
        names = [
            keys.job_key(job_id),
            keys.queue_key(job_id),
            keys.leases_key(job_id),
            keys.lease_due_key(job_id),
            keys.attempts_key(job_id),
            keys.done_key(job_id),
        ]
        taken = self._take(keys=names, args=[lease_until_ms, self.ttl])
        if not taken:
            return None
        return json.loads(taken[0]), int(taken[1])

    def requeue_expired(self, job_id: str, now_ms: int | None = None) -> int:
        names = [
            keys.job_key(job_id),
            keys.queue_key(job_id),
            keys.leases_key(job_id),
            keys.lease_due_key(job_id),
            keys.done_key(job_id),
        ]
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        return int(self._requeue(keys=names, args=[now]))

    def queued(self, job_id: str) -> int:
        return int(self.redis.llen(keys.queue_key(job_id)))

    def add_drainer(self, job_id: str, token: str, until_ms: int) -> None:
        """Holds a compare activation's token (never for a job deleted meanwhile)."""
        self._add_drainer(
            keys=[keys.job_key(job_id), keys.drainers_key(job_id)], args=[token, until_ms, self.ttl]
        )

    def remove_drainer(self, job_id: str, token: str) -> None:
        self.redis.zrem(keys.drainers_key(job_id), token)

    def live_drainers(self, job_id: str, now_ms: int | None = None) -> int:
        """Compare activations fired for the job and not yet over (nor presumed lost)."""
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(keys.drainers_key(job_id), "-inf", now)
            pipe.zcard(keys.drainers_key(job_id))
            _, count = pipe.execute()
        return int(count)

    def active_jobs(self, limit: int = 1000) -> list[str]:
        return sorted(text(j) for j in self.redis.srandmember(keys.active_jobs_key(), limit) or [])

    def take_over(self, job_id: str) -> int:
        """What a stopped process held of a job (its activations are gone): the photos
        it had taken are queued again, its drainers' and listing's leases dropped, so
        this process goes on at once. Returns how many photos were queued again."""
        requeued = self.requeue_expired(job_id, now_ms=2**62)
        self.redis.delete(keys.drainers_key(job_id), keys.search_lease_key(job_id))
        self.mark_active(job_id)
        return requeued

    def mark_active(self, job_id: str) -> None:
        """The sweep looks at the job again."""
        self.redis.sadd(keys.active_jobs_key(), job_id)

    def forget_active(self, job_id: str) -> None:
        self.redis.srem(keys.active_jobs_key(), job_id)

    def count_fire(self, minute: int) -> int:
        """Counts a trigger fire in this wall-clock minute; returns the count so far."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(keys.fires_key(minute))
            pipe.expire(keys.fires_key(minute), 180)
            count, _ = pipe.execute()
        return int(count)
