"""OpenWhisk's namespace limits, as its controller enforces them.

Read from apache/openwhisk (ansible group_vars `limits`, the controller's
RateThrottler, ActivationThrottler and ActivationEntityLimit): per namespace,
60 trigger fires and 60 action invocations per minute, counted in wall-clock
minutes (a counter per minute, reset when the minute turns) with refused
attempts counted too; 30 activations in flight at once; 1 MB for a request
body, a trigger payload and an action's result. Over a limit the answer is
429 with a JSON body and no Retry-After.

One thing FindMe adds, since web actions are public: each web caller (an
address) gets a share of the invocations a minute, half the namespace's by
default, refused before the namespace counts them, so one client's burst
cannot spend every caller's minute.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import Counter
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    fires_per_minute: int = 60
    invocations_per_minute: int = 60
    concurrent_invocations: int = 30
    payload_bytes: int = MB
    enforced: bool = True  # off only for benchmarks that say so
    # One web caller's share of invocations a minute (None: half the namespace's).
    caller_invocations_per_minute: int | None = None

    @property
    def per_caller(self) -> int:
        return self.caller_invocations_per_minute or max(1, self.invocations_per_minute // 2)

    @classmethod
    def off(cls) -> Limits:
        return cls(enforced=False)


class Throttled(Exception):
    """Refused over a limit: str(error) is OpenWhisk's message."""


def too_many_requests(count: int, allowed: int) -> str:
    return f"Too many requests in the last minute (count: {count}, allowed: {allowed})."


def too_many_concurrent(count: int, allowed: int) -> str:
    return f"Too many concurrent requests in flight (count: {count}, allowed: {allowed})."


def too_many_from_caller(count: int, allowed: int) -> str:
    return (
        f"Too many requests from your address in the last minute (count: {count}, "
        f"allowed: {allowed}): others use this FindMe too; try again in a minute."
    )


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

    def spent(self) -> int:
        """Attempts counted in this wall-clock minute so far."""
        with self._lock:
            return self._count if int(time.time() // 60) == self._minute else 0

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


class CallerBudgets:
    """Each web caller's invocations per wall-clock minute, by address. The machine's
    own callers (loopback: the operator, the CLI, a browser on it) share the whole
    namespace; a proxy on this machine names its callers in X-Forwarded-For, which
    the HTTP server reads for connections from 127.0.0.1."""

    MAX_CALLERS = 10_000  # a minute's distinct callers kept; more share one count

    def __init__(self, allowed: int, enforced: bool = True) -> None:
        self.allowed = allowed
        self.enforced = enforced
        self._minute = -1
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.refused = 0

    def attempt(self, caller: str | None) -> None:
        """Counts one web call; raises Throttled past the caller's share."""
        if not self.enforced or caller is None or _loopback(caller):
            return
        with self._lock:
            minute = int(time.time() // 60)
            if minute != self._minute:
                self._minute, self._counts = minute, Counter()
            if caller not in self._counts and len(self._counts) >= self.MAX_CALLERS:
                caller = "others"
            self._counts[caller] += 1
            if self._counts[caller] > self.allowed:
                self.refused += 1
                raise Throttled(too_many_from_caller(self._counts[caller], self.allowed))


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
