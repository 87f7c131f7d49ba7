"""Connecting to Redis: one client per URL per process, kept while warm.

REDIS_URL names one Redis (`redis://host:6379/0`, `rediss://`, `unix://`), or a
Redis Cluster with `cluster=1` in its query: `redis://node:7000/0?cluster=1`
(any node; the client finds the others). Nothing else in FindMe needs to know
which: every key of one job or event shares a hash slot (state/keys.py).
"""

from __future__ import annotations

import os
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from findme.errors import ActionError, Unavailable
from findme.jobs import JobStore
from findme.settings import Settings
from findme.state.base import RedisClient

CLIENT_NAME_PREFIX = "findme-"
# What a Redis that does not answer raises (a cluster client's own errors are apart).
REDIS_ERRORS = (redis.RedisError, RedisClusterException)
CLUSTER_FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
_clients: dict[str, RedisClient] = {}
_lock = threading.Lock()


def cluster_address(url: str) -> tuple[str, bool]:
    """The URL redis-py reads (without FindMe's `cluster` flag) and whether it names
    a Redis Cluster."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    flags = [value for name, value in query if name == "cluster"]
    if not flags:
        return url, False
    if len(flags) > 1 or flags[0].lower() not in CLUSTER_FLAGS:
        raise ActionError("REDIS_URL: write cluster=1 for a Redis Cluster, or leave it out")
    rest = urlencode([(name, value) for name, value in query if name != "cluster"])
    return urlunsplit(parts._replace(query=rest)), CLUSTER_FLAGS[flags[0].lower()]


def redis_client(url: str) -> RedisClient:
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = _connect(url)
            _clients[url] = client
        return client


def _connect(url: str) -> RedisClient:
    address, cluster = cluster_address(url)
    # Ride out a Redis restart (or a cluster's failover) instead of failing the activation.
    retry = Retry(ExponentialBackoff(cap=2.0, base=0.1), retries=6)
    common = {
        "socket_connect_timeout": 5,
        "socket_timeout": 30,
        # Tells the embedded Redis which processes still use it.
        "client_name": f"{CLIENT_NAME_PREFIX}{os.getpid()}",
    }
    if cluster:
        try:
            return RedisCluster.from_url(address, retry=retry, **common)
        except REDIS_ERRORS as error:
            raise Unavailable(f"REDIS_URL: no Redis Cluster answers there ({error})") from error
    return redis.Redis.from_url(
        address,
        retry=retry,
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        health_check_interval=30,
        **common,
    )


def forget_client(url: str) -> None:
    """Closes this process's connections to url (a server it stops using)."""
    with _lock:
        client = _clients.pop(url, None)
    if client is not None:
        client.close()
        if isinstance(client, redis.Redis):
            client.connection_pool.disconnect()


def job_store(settings: Settings) -> JobStore:
    if not settings.redis_url:
        raise ActionError("no Redis configured: set the redis_url package parameter or REDIS_URL")
    return JobStore(redis_client(settings.redis_url), settings.job_ttl_seconds)
