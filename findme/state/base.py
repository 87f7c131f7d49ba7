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


# Adds members to a set or a list of a job's while the job exists, so that a late
# write (a listing's, a search's, an organiser's) never brings back a key of a deleted
# job. KEYS: job, the set or list; ARGV: SADD or RPUSH, ttl, members...
_ADD_WHILE_JOB_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 3, #ARGV do redis.call(ARGV[1], KEYS[2], ARGV[i]) end
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""


class StoreBase:
    SCRIPTS: ClassVar[dict[str, str]] = {"_add_while_job_exists": _ADD_WHILE_JOB_EXISTS}

    def __init__(self, client: RedisClient, ttl_seconds: int) -> None:
        self.redis = client
        self.ttl = ttl_seconds
        for part in type(self).__mro__:
            for name, source in vars(part).get("SCRIPTS", {}).items():
                setattr(self, name, client.register_script(source))

    def add_while_job_exists(
        self, job_key: str, key: str, command: str, members: list[str]
    ) -> bool:
        """SADD or RPUSH members to key (of the job at job_key's hash slot), and keep it
        for the TTL, only while the job exists; False when it is gone."""
        args = [command, self.ttl, *members]
        return bool(self._add_while_job_exists(keys=[job_key, key], args=args))


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
