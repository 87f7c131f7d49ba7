"""OpenWhisk's namespace limits, as its controller enforces them.

Read from apache/openwhisk (ansible group_vars `limits`, the controller's
RateThrottler, ActivationThrottler and ActivationEntityLimit): per namespace,
60 trigger fires and 60 action invocations per minute, counted in wall-clock
minutes (a counter per minute, reset when the minute turns) with refused
attempts counted too; 30 activations in flight at once; 1 MB for a request
body, a trigger payload and an action's result. Over a limit the answer is
429 with a JSON body and no Retry-After.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    fires_per_minute: int = 60
    invocations_per_minute: int = 60
    concurrent_invocations: int = 30
    payload_bytes: int = MB
    enforced: bool = True  # off only for benchmarks that say so

    @classmethod
    def off(cls) -> Limits:
        return cls(enforced=False)


class Throttled(Exception):
    """Refused over a limit: str(error) is OpenWhisk's message."""


def too_many_requests(count: int, allowed: int) -> str:
    return f"Too many requests in the last minute (count: {count}, allowed: {allowed})."


def too_many_concurrent(count: int, allowed: int) -> str:
    return f"Too many concurrent requests in flight (count: {count}, allowed: {allowed})."


def entity_too_big(size: int, allowed: int) -> str:
    return f"Request larger than allowed: {size} > {allowed} bytes."


def truncated_response(size: int, allowed: int) -> str:
    return (
        "The action produced a response that exceeded the allowed length: "
        f"{size} > {allowed} bytes."
    )


class MinuteCounter:
    """Counts attempts per wall-clock minute, as OpenWhisk's RateThrottler does."""

    def __init__(self, allowed: int, enforced: bool = True) -> None:
        self.allowed = allowed
        self.enforced = enforced
        self._minute = -1
        self._count = 0
        self._lock = threading.Lock()
        self.refused = 0
        self.total = 0

    def attempt(self) -> None:
        """Counts one attempt; raises Throttled when it is over the minute's limit."""
        with self._lock:
            minute = int(time.time() // 60)
            if minute != self._minute:
                self._minute, self._count = minute, 0
            self._count += 1  # a refused attempt counts too
            self.total += 1
            if self.enforced and self._count > self.allowed:
                self.refused += 1
                raise Throttled(too_many_requests(self._count, self.allowed))
