"""What a person's review of a job's matches needs: the photos examined, the matches
themselves and the ones the person said are not them."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from findme.state import keys
from findme.state.base import StoreBase, text

# KEYS: job, hash; ARGV: ttl, then field, value pairs. Returns how many were set.
_HSET_IF_JOB = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[2], ARGV[1])
return (#ARGV - 1) / 2
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


class Reviews(StoreBase):
    """Examined photos, matches and rejections of a job."""

    SCRIPTS: ClassVar[dict[str, str]] = {
        "_hset_if_job": _HSET_IF_JOB,
        "_remember": _REMEMBER_IF_REGISTERED,
        "_sadd_if_job": _SADD_IF_JOB,
    }

    def remember_photo(self, job_id: str, photo: str, document: str) -> bool:
        """Keeps what re-ranking needs of an examined photo of the job; a photo not
        registered for the job (a stray or forged event) is kept nowhere."""
        names = [keys.job_key(job_id), keys.photos_key(job_id), keys.seen_key(job_id)]
        return bool(self._remember(keys=names, args=[photo, document, self.ttl]))

    def seen_photos(self, job_id: str) -> dict[str, dict[str, Any]]:
        seen = self.redis.hgetall(keys.seen_key(job_id))
        return {text(k): json.loads(v) for k, v in seen.items()}

    def match(self, job_id: str, photo: str) -> dict[str, Any] | None:
        value = self.redis.hget(keys.matches_key(job_id), photo)
        return json.loads(value) if value is not None else None

    def set_match(self, job_id: str, photo: str, record: dict[str, Any]) -> bool:
        return self.set_matches(job_id, {photo: record}) == 1

    def set_matches(self, job_id: str, records: dict[str, dict[str, Any]]) -> int:
        """Several matches at once (one round trip); how many the job kept."""
        if not records:
            return 0
        names = [keys.job_key(job_id), keys.matches_key(job_id)]
        pairs = [item for photo, record in records.items() for item in (photo, json.dumps(record))]
        return int(self._hset_if_job(keys=names, args=[self.ttl, *pairs]))

    def drop_match(self, job_id: str, photo: str) -> None:
        self.redis.hdel(keys.matches_key(job_id), photo)

    def drop_matches(self, job_id: str) -> None:
        """Every match and examined photo of the job gone (its photos were taken away)."""
        self.redis.delete(keys.matches_key(job_id), keys.seen_key(job_id))

    def reject(self, job_id: str, photo: str) -> None:
        """A match the person says is not them: gone now and after any re-ranking."""
        self.redis.hdel(keys.matches_key(job_id), photo)
        self._sadd_if_job(
            keys=[keys.job_key(job_id), keys.rejected_key(job_id)], args=[self.ttl, photo]
        )

    def unreject(self, job_id: str, photo: str) -> bool:
        """Undoes a "Not me"; True when the photo had been rejected."""
        return bool(self.redis.srem(keys.rejected_key(job_id), photo))

    def rejected(self, job_id: str) -> set[str]:
        return {text(p) for p in self.redis.smembers(keys.rejected_key(job_id))}
