"""What every part of the store shares: the Redis client, the TTL of a job's keys, and
Lua scripts registered once per store (each part names its own in SCRIPTS)."""

from __future__ import annotations

from typing import Any, ClassVar

import redis
from redis.cluster import RedisCluster

# One Redis or a Redis Cluster (findme/store.py): the store works the same on both
# because each Lua script and each transaction touches the keys of one hash slot.
# Every pipeline says whether it is a transaction: the cluster client's pipeline()
# is a plain one by default, where redis.Redis's is a MULTI/EXEC.
RedisClient = redis.Redis | RedisCluster


class StoreBase:
    SCRIPTS: ClassVar[dict[str, str]] = {}

    def __init__(self, client: RedisClient, ttl_seconds: int) -> None:
        self.redis = client
        self.ttl = ttl_seconds
        for part in type(self).__mro__:
            for name, source in vars(part).get("SCRIPTS", {}).items():
                setattr(self, name, client.register_script(source))


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
