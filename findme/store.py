"""Connecting to Redis: one client per URL per process, kept while warm."""

from __future__ import annotations

import os
import threading

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from findme.errors import ActionError
from findme.jobs import JobStore
from findme.settings import Settings

CLIENT_NAME_PREFIX = "findme-"
_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def redis_client(url: str) -> redis.Redis:
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=5,
                socket_timeout=30,
                health_check_interval=30,
                # Ride out a Redis restart instead of failing the activation.
                retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), retries=6),
                retry_on_error=[redis.ConnectionError, redis.TimeoutError],
                # Tells the embedded Redis which processes still use it.
                client_name=f"{CLIENT_NAME_PREFIX}{os.getpid()}",
            )
            _clients[url] = client
        return client


def forget_client(url: str) -> None:
    """Closes this process's connections to url (a server it stops using)."""
    with _lock:
        client = _clients.pop(url, None)
    if client is not None:
        client.close()
        client.connection_pool.disconnect()


def job_store(settings: Settings) -> JobStore:
    if not settings.redis_url:
        raise ActionError("no Redis configured: set the redis_url package parameter or REDIS_URL")
    return JobStore(redis_client(settings.redis_url), settings.job_ttl_seconds)
