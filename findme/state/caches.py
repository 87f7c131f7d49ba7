"""What searches share or keep beside a job: reference descriptors, the per-photo face
cache, an organiser's URL list and the origins of photos seen on several servers."""

from __future__ import annotations

from typing import ClassVar

from findme.state import keys
from findme.state.base import StoreBase, text

# Keeps the job's copy of a reference descriptor and notes the job among the
# users of the shared one. KEYS: job, job references, users; ARGV: fingerprint, hex, ttl
_KEEP_REFERENCE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""


# For each origin, the copy the job keeps (the first claimed), while the job exists.
# KEYS: job, origins; ARGV: ttl, then origin, copy pairs. Returns the owners, or -1.
_CLAIM_ORIGINS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local owners = {}
for i = 2, #ARGV, 2 do
  redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1])
  owners[#owners + 1] = redis.call('HGET', KEYS[2], ARGV[i])
end
redis.call('EXPIRE', KEYS[2], ARGV[1])
return owners
"""


class Caches(StoreBase):
    """Reference descriptors, faces by photo content, URL lists and origins."""

    SCRIPTS: ClassVar[dict[str, str]] = {
        "_keep_reference": _KEEP_REFERENCE,
        "_claim_origins": _CLAIM_ORIGINS,
    }

    def save_urls(self, job_id: str, urls: list[str]) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.urls_key(job_id))
            for start in range(0, len(urls), 1000):
                pipe.rpush(keys.urls_key(job_id), *urls[start : start + 1000])
            pipe.expire(keys.urls_key(job_id), self.ttl)
            pipe.execute()

    def add_urls(self, job_id: str, urls: list[str]) -> int:
        """Appends the URLs the list does not hold yet; returns how many."""
        known = set(self.urls(job_id, 0, 1_000_000))
        fresh = list(dict.fromkeys(u for u in urls if u not in known))
        if not fresh:
            return 0
        added = self.add_while_job_exists(
            keys.job_key(job_id), keys.urls_key(job_id), "RPUSH", fresh
        )
        return len(fresh) if added else 0

    def urls_count(self, job_id: str) -> int:
        return int(self.redis.llen(keys.urls_key(job_id)))

    def urls(self, job_id: str, start: int, count: int) -> list[str]:
        return [text(u) for u in self.redis.lrange(keys.urls_key(job_id), start, start + count - 1)]

    def claim_origins(self, job_id: str, copies: list[tuple[str, str]]) -> list[str] | None:
        """For each (origin URL, copy URL), the copy the job keeps: the first one claimed,
        the same answer when a page is listed again. None when the job is gone (its
        origins never come back)."""
        if not copies:
            return []
        flat = [part for pair in copies for part in pair]
        names = [keys.job_key(job_id), keys.origins_key(job_id)]
        owners = self._claim_origins(keys=names, args=[self.ttl, *flat])
        return None if owners == -1 else [text(owner) for owner in owners]

    def reference(self, fingerprint: str) -> str | None:
        value = self.redis.get(keys.reference_key(fingerprint))
        return text(value) if value is not None else None

    def save_reference(self, fingerprint: str, descriptor_hex: str) -> None:
        self.redis.set(keys.reference_key(fingerprint), descriptor_hex, ex=self.ttl)

    def keep_reference(
        self, job_id: str, fingerprint: str, descriptor_hex: str, shared: bool = True
    ) -> bool:
        """The job's own copy of a reference descriptor, so deleting another job that
        used the same photo cannot take it away; False when the job is gone. A shared
        descriptor notes the job among its users (in its own hash slot, so apart)."""
        names = [keys.job_key(job_id), keys.job_references_key(job_id)]
        kept = bool(self._keep_reference(keys=names, args=[fingerprint, descriptor_hex, self.ttl]))
        if kept and shared:
            users = keys.reference_users_key(fingerprint)
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.sadd(users, keys.job_key(job_id))
                pipe.expire(users, self.ttl)
                pipe.execute()
        return kept

    def job_references(self, job_id: str) -> dict[str, str]:
        copies = self.redis.hgetall(keys.job_references_key(job_id))
        return {text(k): text(v) for k, v in copies.items()}

    def cached_faces(self, digest: str, detection: str) -> str | None:
        value = self.redis.get(keys.photo_faces_key(digest, detection))
        return text(value) if value is not None else None

    def forget_cached_faces(self, digests: list[str], detection: str) -> None:
        for start in range(0, len(digests), 1000):  # one command per key: a cluster's slots
            with self.redis.pipeline(transaction=False) as pipe:
                for digest in digests[start : start + 1000]:
                    pipe.delete(keys.photo_faces_key(digest, detection))
                pipe.execute()

    def save_faces(self, digest: str, detection: str, document: str) -> None:
        self.redis.set(keys.photo_faces_key(digest, detection), document, ex=self.ttl)
