"""The local engine: the manifest's actions in warm worker pools, its triggers and rules.

It is what an OpenWhisk controller and invokers do for FindMe, on one machine:
an action invocation becomes an activation run by a warm worker; a fired
trigger becomes a trigger activation plus one action activation per active
rule, run asynchronously.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from findme.local.activations import (
    DEVELOPER_ERROR,
    Activation,
    ActivationLog,
    new_activation_id,
)
from findme.local.manifest import Action, Manifest
from findme.local.pool import Task, WorkerPool

log = logging.getLogger("findme.local")

# OpenWhisk standalone's guest key: the default of `wsk` against a local install.
GUEST_AUTH = (
    "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:"
    "123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
)
BLOCKING_WAIT_SECONDS = 60
MAX_DELIVERIES = 2  # an event whose activation crashed or timed out is delivered once more


class UnknownEntity(LookupError):
    pass


@dataclass(frozen=True)
class EngineConfig:
    api_host: str
    auth: str = GUEST_AUTH
    namespace: str = "guest"
    photo_root: str | None = None
    compare_workers: int | None = None  # None: one per core
    deliver_twice: bool = False  # fault testing: every event is delivered two times
    web_secret: str | None = None  # required in X-Require-Whisk-Auth by web actions


class Engine:
    def __init__(self, manifest: Manifest, config: EngineConfig) -> None:
        self.manifest = manifest
        self.config = config
        self.activations = ActivationLog()
        self.pools: dict[str, WorkerPool] = {}
        self._inflight = 0
        self._idle = threading.Condition()

    # -- life cycle -----------------------------------------------------------
    def start(self, wait: bool = True) -> None:
        for action in self.manifest.actions.values():
            pool = WorkerPool(
                action.name,
                str(action.function),
                self._pool_size(action),
                action.timeout_ms,
                self._process_env(),
                on_finish=self._finished,
            )
            pool.start()
            self.pools[action.name] = pool
        if wait:
            for pool in self.pools.values():
                pool.wait_ready()

    def stop(self) -> None:
        for pool in self.pools.values():
            pool.stop()

    def _pool_size(self, action: Action) -> int:
        wanted = action.annotations.get("local-workers", 1)
        if wanted == "cores":
            return self.config.compare_workers or os.cpu_count() or 1
        return max(1, int(wanted))

    def _process_env(self) -> dict[str, str]:
        env = {"__OW_API_HOST": self.config.api_host, "__OW_NAMESPACE": self.config.namespace}
        if self.config.photo_root:
            env["FINDME_PHOTO_ROOT"] = self.config.photo_root
        return env

    # -- actions --------------------------------------------------------------
    def action(self, package: str | None, name: str) -> Action:
        if package not in (None, self.manifest.package) or name not in self.manifest.actions:
            raise UnknownEntity(f"{package}/{name}" if package else name)
        return self.manifest.actions[name]

    def invoke(
        self, action: Action, params: dict[str, Any], event: bool = False, delivery: int = 1
    ) -> Activation:
        """Starts an activation of the action; its record completes asynchronously."""
        activation_id = new_activation_id()
        activation = Activation(
            activation_id=activation_id,
            namespace=self.config.namespace,
            name=action.name,
            path=f"{self.config.namespace}/{self.manifest.package}/{action.name}",
            event=params if event else None,
            delivery=delivery,
        )
        self.activations.add(activation)
        env = {
            "__OW_ACTIVATION_ID": activation_id,
            "__OW_ACTION_NAME": f"/{activation.path}",
            "__OW_DEADLINE": str(activation.start_ms + action.timeout_ms),
            # Like OpenWhisk, only actions annotated provide-api-key get the key.
            "__OW_API_KEY": self.config.auth if action.provides_api_key else "",
        }
        # Package and action inputs are final: a caller cannot override them.
        merged = {**params, **action.inputs, **self.manifest.inputs}
        with self._idle:
            self._inflight += 1
        self.pools[action.name].submit(Task(activation, merged, env))
        return activation

    def _finished(self, activation: Activation) -> None:
        if not activation.success:
            log.info(
                "activation %s of %s: %s",
                activation.activation_id,
                activation.name,
                (activation.result or {}).get("error"),
            )
        crashed = activation.status_code == DEVELOPER_ERROR
        if crashed and activation.event is not None and activation.delivery < MAX_DELIVERIES:
            action = self.manifest.actions[activation.name]
            self.invoke(action, activation.event, event=True, delivery=activation.delivery + 1)
        with self._idle:
            self._inflight -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Waits until no activation is running or queued (tests and the CLI use it)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._inflight == 0, timeout)

    # -- triggers -------------------------------------------------------------
    def fire(self, trigger: str, params: dict[str, Any]) -> str | None:
        """Fires a trigger: its activation id, or None when no rule is active (HTTP 204)."""
        if trigger not in self.manifest.triggers:
            raise UnknownEntity(trigger)
        rules = self.manifest.rules_for(trigger)
        if not rules:
            return None
        trigger_activation = Activation(
            activation_id=new_activation_id(),
            namespace=self.config.namespace,
            name=trigger,
            path=f"{self.config.namespace}/{trigger}",
            kind="trigger",
        )
        self.activations.add(trigger_activation)
        logs = []
        copies = 2 if self.config.deliver_twice else 1
        for rule, action_name in rules:
            for _ in range(copies):
                activation = self.invoke(self.manifest.actions[action_name], params, event=True)
            logs.append(
                json.dumps(
                    {
                        "statusCode": 0,
                        "success": True,
                        "activationId": activation.activation_id,
                        "rule": f"{self.config.namespace}/{rule}",
                        "action": f"{self.config.namespace}/{self.manifest.package}/{action_name}",
                    }
                )
            )
        trigger_activation.complete(params, logs)
        return trigger_activation.activation_id
