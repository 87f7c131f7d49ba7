"""Activation records, shaped as OpenWhisk's REST API returns them."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

# OpenWhisk's activation status codes.
SUCCESS, APPLICATION_ERROR, DEVELOPER_ERROR, WHISK_ERROR = 0, 1, 2, 3
_STATUS_TEXT = {
    SUCCESS: "success",
    APPLICATION_ERROR: "application error",
    DEVELOPER_ERROR: "action developer error",
    WHISK_ERROR: "whisk internal error",
}


def new_activation_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Activation:
    activation_id: str
    namespace: str
    name: str
    path: str
    kind: str = "action"
    start_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    end_ms: int | None = None
    status_code: int = SUCCESS
    result: dict[str, Any] | None = None
    logs: list[str] = field(default_factory=list)
    finished: threading.Event = field(default_factory=threading.Event)
    event: dict[str, Any] | None = None  # the trigger's payload, for rule activations
    size: int = 0  # bytes of its record once complete, for the log's budget

    def complete(
        self, result: dict[str, Any], logs: list[str], status_code: int | None = None
    ) -> None:
        self.result = result
        self.logs = logs
        if status_code is None:
            status_code = APPLICATION_ERROR if "error" in result else SUCCESS
        self.status_code = status_code
        self.end_ms = int(time.time() * 1000)
        self.finished.set()

    @property
    def success(self) -> bool:
        return self.status_code == SUCCESS

    def record(self) -> dict[str, Any]:
        end = self.end_ms if self.end_ms is not None else 0
        return {
            "activationId": self.activation_id,
            "namespace": self.namespace,
            "name": self.name,
            "version": "0.0.1",
            "subject": self.namespace,
            "publish": False,
            "start": self.start_ms,
            "end": end,
            "duration": max(end - self.start_ms, 0) if self.end_ms else 0,
            "statusCode": self.status_code,
            "response": {
                "status": _STATUS_TEXT[self.status_code],
                "statusCode": self.status_code,
                "success": self.success,
                "result": self.result if self.result is not None else {},
            },
            "logs": list(self.logs),
            "annotations": [
                {"key": "path", "value": self.path},
                {"key": "kind", "value": "python:3" if self.kind == "action" else "trigger"},
            ],
        }


class ActivationLog:
    """The most recent activations, newest last, bounded in number and in bytes
    (results and logs of finished ones), so no stream of calls grows memory."""

    def __init__(self, capacity: int = 10_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._items: OrderedDict[str, Activation] = OrderedDict()
        self._capacity = capacity
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    def add(self, activation: Activation) -> None:
        with self._lock:
            self._items[activation.activation_id] = activation
            self._evict()

    def account(self, activation: Activation) -> None:
        """Counts a finished activation's record against the byte budget."""
        size = len(json.dumps(activation.result, default=str)) + sum(map(len, activation.logs))
        size += len(json.dumps(activation.event, default=str)) if activation.event else 0
        with self._lock:
            if activation.activation_id in self._items:
                activation.size = size
                self._bytes += size
                self._evict()

    def _evict(self) -> None:
        while len(self._items) > self._capacity or (
            self._bytes > self._max_bytes and len(self._items) > 1
        ):
            _, oldest = self._items.popitem(last=False)
            self._bytes -= oldest.size

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, activation_id: str) -> Activation | None:
        with self._lock:
            return self._items.get(activation_id)

    def recent(self, limit: int, skip: int = 0, name: str | None = None) -> list[Activation]:
        with self._lock:
            items = [a for a in reversed(self._items.values()) if name in (None, a.name)]
        return items[skip : skip + limit]
