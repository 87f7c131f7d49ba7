"""An event's face index: the faces of each of its photos, found once, read by every
search of the event; the searches that follow it; what the organiser took down.

A photo enters the index once (its place, seq, says what is new to a search that
last looked at seq N); a photo taken down leaves it and is never indexed again.
"""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

from findme.state import keys
from findme.state.base import StoreBase, text

# KEYS: job, index, index_faces, order, taken_down, photos
# ARGV: photo, meta JSON, hex descriptors, face count, ttl
# Returns the photo's seq; -1 no such event, -2 taken down, -3 a photo never listed.
_INDEX_PHOTO = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('SISMEMBER', KEYS[5], ARGV[1]) == 1 then return -2 end
if redis.call('SISMEMBER', KEYS[6], ARGV[1]) == 0 then return -3 end
local known = redis.call('ZSCORE', KEYS[4], ARGV[1])
if known then return tonumber(known) end
local seq = redis.call('HINCRBY', KEYS[1], 'index_seq', 1)
redis.call('HINCRBY', KEYS[1], 'faces_total', tonumber(ARGV[4]))
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[4], seq, ARGV[1])
for i = 2, 4 do redis.call('EXPIRE', KEYS[i], ARGV[5]) end
return seq
"""

# KEYS: job, index, index_faces, order, taken_down; ARGV: photo, ttl
# Returns 1 when the photo was in the index.
_TAKE_DOWN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('EXPIRE', KEYS[5], ARGV[2])
local meta = redis.call('HGET', KEYS[2], ARGV[1])
if not meta then return 0 end
local faces = #(cjson.decode(meta)['boxes'] or {})
redis.call('HINCRBY', KEYS[1], 'faces_total', -faces)
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return 1
"""

# Forgets the photos a full reading of the source no longer listed (deleted posts,
# removed files): gone from the index and the event's counts.
# KEYS: job, photos, listed, done, failed, index, index_faces, order
_FORGET_UNLISTED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local gone = redis.call('SDIFF', KEYS[2], KEYS[3])
for _, photo in ipairs(gone) do
  local meta = redis.call('HGET', KEYS[6], photo)
  if meta then
    local faces = #(cjson.decode(meta)['boxes'] or {})
    redis.call('HINCRBY', KEYS[1], 'faces_total', -faces)
  end
  redis.call('SREM', KEYS[2], photo)
  redis.call('SREM', KEYS[4], photo)
  redis.call('HDEL', KEYS[5], photo)
  redis.call('HDEL', KEYS[6], photo)
  redis.call('HDEL', KEYS[7], photo)
  redis.call('ZREM', KEYS[8], photo)
end
return gone
"""

# A search's place in its event's index only moves forward.
# KEYS: job; ARGV: seq
_ADVANCE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local at = tonumber(redis.call('HGET', KEYS[1], 'matched_seq') or '0')
if tonumber(ARGV[1]) > at then redis.call('HSET', KEYS[1], 'matched_seq', ARGV[1]) end
return 1
"""


class EventIndex(StoreBase):
    """The faces of an event's photos, indexed once for every search of the event."""

    SCRIPTS: ClassVar[dict[str, str]] = {
        "_index_photo": _INDEX_PHOTO,
        "_take_down": _TAKE_DOWN,
        "_advance": _ADVANCE,
        "_forget_unlisted": _FORGET_UNLISTED,
    }

    def index_photo(
        self, event_id: str, photo: str, meta: dict[str, Any], faces_hex: list[str]
    ) -> int:
        """Adds a listed photo's faces to the index once; its seq, or a negative number
        when the event is gone (-1), the photo was taken down (-2) or never listed (-3)."""
        names = [
            keys.job_key(event_id),
            keys.index_key(event_id),
            keys.index_faces_key(event_id),
            keys.index_order_key(event_id),
            keys.taken_down_key(event_id),
            keys.photos_key(event_id),
        ]
        args = [photo, json.dumps(meta), "".join(faces_hex), len(faces_hex), self.ttl]
        return int(self._index_photo(keys=names, args=args))

    def take_down(self, event_id: str, photo: str) -> bool | None:
        """Removes a photo from the index for good; None when there is no such event."""
        names = [
            keys.job_key(event_id),
            keys.index_key(event_id),
            keys.index_faces_key(event_id),
            keys.index_order_key(event_id),
            keys.taken_down_key(event_id),
        ]
        answer = int(self._take_down(keys=names, args=[photo, self.ttl]))
        return None if answer < 0 else bool(answer)

    def mark_listed(self, event_id: str, photos: list[str]) -> None:
        """Photos this reading of the source listed (whether new or not)."""
        if photos:
            self.add_while_job_exists(
                keys.job_key(event_id), keys.listed_key(event_id), "SADD", photos
            )

    def start_reading(self, event_id: str) -> None:
        self.redis.delete(keys.listed_key(event_id))

    def forget_unlisted(self, event_id: str) -> list[str]:
        """After a full reading: the photos it did not list again leave the event."""
        names = [
            keys.job_key(event_id),
            keys.photos_key(event_id),
            keys.listed_key(event_id),
            keys.done_key(event_id),
            keys.failed_key(event_id),
            keys.index_key(event_id),
            keys.index_faces_key(event_id),
            keys.index_order_key(event_id),
        ]
        return [text(p) for p in self._forget_unlisted(keys=names, args=[])]

    def taken_down(self, event_id: str) -> int:
        return int(self.redis.scard(keys.taken_down_key(event_id)))

    def index_seq(self, event_id: str) -> int:
        return int(text(self.redis.hget(keys.job_key(event_id), "index_seq") or b"0"))

    def indexed_since(self, event_id: str, seq: int) -> tuple[dict[str, str], int]:
        """Photo id -> hex descriptors of the photos indexed after seq, and the newest
        place among them (seq when none)."""
        if seq <= 0:  # everything: one HGETALL, its newest place read first
            head = self.index_seq(event_id)
            found = self.redis.hgetall(keys.index_faces_key(event_id))
            return {text(k): text(v) for k, v in found.items() if v}, head
        placed = self.redis.zrangebyscore(
            keys.index_order_key(event_id), f"({seq}", "+inf", withscores=True
        )
        if not placed:
            return {}, seq
        photos = [p for p, _ in placed]
        found: dict[str, str] = {}
        for start in range(0, len(photos), 2000):  # bounded replies from Redis
            chunk = photos[start : start + 2000]
            values = self.redis.hmget(keys.index_faces_key(event_id), chunk)
            found |= {text(p): text(v) for p, v in zip(chunk, values, strict=True) if v}
        return found, int(max(score for _, score in placed))

    def indexed_photos(self, event_id: str, photos: list[str]) -> dict[str, dict[str, Any]]:
        """What the index holds of these photos (those still in it)."""
        if not photos:
            return {}
        values = self.redis.hmget(keys.index_key(event_id), photos)
        return {p: json.loads(v) for p, v in zip(photos, values, strict=True) if v is not None}

    def indexed_digests(self, event_id: str) -> list[str]:
        """The content digests of the event's indexed photos (their face cache entries)."""
        found = []
        for _, meta in self.redis.hscan_iter(keys.index_key(event_id), count=1000):
            digest = json.loads(meta).get("digest")
            if digest:
                found.append(digest)
        return found

    def indexed_faces(self, event_id: str, photo: str) -> str | None:
        value = self.redis.hget(keys.index_faces_key(event_id), photo)
        return text(value) if value is not None else None

    def index_size(self, event_id: str) -> int:
        return int(self.redis.hlen(keys.index_key(event_id)))

    def advance(self, search_id: str, seq: int) -> None:
        self._advance(keys=[keys.job_key(search_id)], args=[seq])

    # -- the searches of an event -------------------------------------------------
    def follow(self, event_id: str, search_id: str) -> None:
        self.add_while_job_exists(
            keys.job_key(event_id), keys.followers_key(event_id), "SADD", [search_id]
        )

    def followers(self, event_id: str) -> list[str]:
        return sorted(text(s) for s in self.redis.smembers(keys.followers_key(event_id)))

    def unfollow(self, event_id: str, search_id: str) -> None:
        self.redis.srem(keys.followers_key(event_id), search_id)

    # -- places -----------------------------------------------------------------------
    def event_of_place(self, digest: str) -> str | None:
        value = self.redis.get(keys.place_key(digest))
        return text(value) if value is not None else None

    def claim_place(self, digest: str, event_id: str, ttl: int) -> str:
        """Names the event of a place unless another event claimed it first; returns
        the event that has it."""
        if self.redis.set(keys.place_key(digest), event_id, nx=True, ex=ttl):
            return event_id
        return self.event_of_place(digest) or event_id

    def take_place(self, digest: str, event_id: str, ttl: int) -> None:
        self.redis.set(keys.place_key(digest), event_id, ex=ttl)

    def release_place(self, digest: str, event_id: str) -> None:
        if self.event_of_place(digest) == event_id:
            self.redis.delete(keys.place_key(digest))

    # -- live events --------------------------------------------------------------
    def set_live(self, event_id: str, until: float) -> None:
        if until > time.time():
            self.redis.zadd(keys.live_events_key(), {event_id: until})
        else:
            self.redis.zrem(keys.live_events_key(), event_id)

    def live_events(self, now: float | None = None) -> list[str]:
        """Events still live; those whose end passed leave the list."""
        now = time.time() if now is None else now
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(keys.live_events_key(), "-inf", now)
            pipe.zrange(keys.live_events_key(), 0, -1)
            _, live = pipe.execute()
        return [text(e) for e in live]

    def delete_event(self, event_id: str) -> bool:
        """Every key of the event (its index with it); False when it did not exist."""
        existed = bool(self.redis.exists(keys.job_key(event_id)))
        place = self.redis.hget(keys.job_key(event_id), "place")
        if place is not None:
            self.release_place(text(place), event_id)
        self.redis.zrem(keys.live_events_key(), event_id)
        self.redis.srem(keys.active_jobs_key(), event_id)
        self.redis.delete(*keys.event_keys(event_id))  # one hash slot: one command
        return existed
