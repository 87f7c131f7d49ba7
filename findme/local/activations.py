"""Activation records, shaped as OpenWhisk's REST API returns them."""

from __future__ import annotations

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
    # Events (rule activations) are redelivered once when their worker crashed.
    event: dict[str, Any] | None = None
    delivery: int = 1

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
    """The most recent activations, newest last, bounded in number."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._items: OrderedDict[str, Activation] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, activation: Activation) -> None:
        with self._lock:
            self._items[activation.activation_id] = activation
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def get(self, activation_id: str) -> Activation | None:
        with self._lock:
            return self._items.get(activation_id)

    def recent(self, limit: int, skip: int = 0, name: str | None = None) -> list[Activation]:
        with self._lock:
            items = [a for a in reversed(self._items.values()) if name in (None, a.name)]
        return items[skip : skip + limit]
