"""The local engine: the manifest's actions in warm worker pools, its triggers and rules.

It is what an OpenWhisk controller and invokers do for FindMe, on one machine,
and no kinder: the namespace's limits (fires and invocations per minute,
activations in flight, 1 MB payloads and results) are enforced as OpenWhisk
enforces them; a rule activation refused over a limit is only written into the
trigger activation's logs; a failed or timed-out activation is never run
again; an action sees an environment built from scratch (only ``__OW_*``) and
gets its settings as parameters (package and action inputs).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from findme.local.activations import (
    APPLICATION_ERROR,
    Activation,
    ActivationLog,
    new_activation_id,
)
from findme.local.limits import (
    CallerBudgets,
    Limits,
    MinuteCounter,
    Throttled,
    too_many_concurrent,
)
from findme.local.manifest import Action, Feed, Manifest
from findme.local.pool import Task, WorkerPool

log = logging.getLogger("findme.local")

# OpenWhisk standalone's guest key: the default of `wsk` against a local install.
GUEST_AUTH = (
    "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:"
    "123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
)
BLOCKING_WAIT_SECONDS = 60
# What OpenWhisk's runtime proxy passes on besides __OW_*: a shell's basics.
RUNTIME_VARIABLES = ("PATH", "HOME", "LANG", "HOSTNAME")


class UnknownEntity(LookupError):
    pass


@dataclass(frozen=True)
class EngineConfig:
    api_host: str
    auth: str = GUEST_AUTH
    namespace: str = "guest"
    compare_workers: int | None = None  # None: one per core
    deliver_twice: bool = False  # fault testing: every event is delivered two times
    web_secret: str | None = None  # required in X-Require-Whisk-Auth by web actions
    limits: Limits = field(default_factory=Limits)
    # The deployment's own bindings on top of the manifest's (the photo root).
    package_inputs: dict[str, Any] = field(default_factory=dict)
    # Alarm feeds fire at their interval; tests may shorten it.
    feed_interval_seconds: float | None = None


class Engine:
    def __init__(self, manifest: Manifest, config: EngineConfig) -> None:
        self.manifest = manifest
        self.config = config
        self.activations = ActivationLog()
        self.pools: dict[str, WorkerPool] = {}
        self._inflight = 0
        self._idle = threading.Condition()
        self._stopping = threading.Event()
        self.fires = MinuteCounter(config.limits.fires_per_minute, config.limits.enforced)
        self.invocations = MinuteCounter(
            config.limits.invocations_per_minute, config.limits.enforced
        )
        # Web callers' shares, checked before the namespace counts a web call.
        self.callers = CallerBudgets(config.limits.per_caller, config.limits.enforced)
        self.refused_activations = 0
        self.started: dict[str, int] = {}  # activations started per action
        self.package_inputs = {**manifest.inputs, **config.package_inputs}
        # The pools exist (and queue activations) before their workers start.
        limits = config.limits
        for action in manifest.actions.values():
            self.pools[action.name] = WorkerPool(
                action.name,
                str(action.function),
                self._pool_size(action),
                action.timeout_ms,
                self._runtime_env(),
                on_finish=self._finished,
                result_limit=limits.payload_bytes if limits.enforced else None,
            )

    # -- life cycle -----------------------------------------------------------
    def start(self, wait: bool = True) -> None:
        for pool in self.pools.values():
            pool.start()
        for trigger, feed in self.manifest.feeds.items():
            threading.Thread(
                target=self._run_feed, args=(trigger, feed), name=f"feed-{trigger}", daemon=True
            ).start()
        if wait:
            for pool in self.pools.values():
                pool.wait_ready()

    def stop(self) -> None:
        self._stopping.set()
        for pool in self.pools.values():
            pool.stop()

    def _pool_size(self, action: Action) -> int:
        wanted = action.annotations.get("local-workers", 1)
        if wanted == "cores":
            return self.config.compare_workers or os.cpu_count() or 1
        return max(1, int(wanted))

    def _runtime_env(self) -> dict[str, str]:
        """The environment OpenWhisk's runtime gives an action: built from scratch."""
        env = {name: os.environ[name] for name in RUNTIME_VARIABLES if name in os.environ}
        env.update(__OW_API_HOST=self.config.api_host, __OW_NAMESPACE=self.config.namespace)
        return env

    # -- actions --------------------------------------------------------------
    def action(self, package: str | None, name: str) -> Action:
        if package not in (None, self.manifest.package) or name not in self.manifest.actions:
            raise UnknownEntity(f"{package}/{name}" if package else name)
        return self.manifest.actions[name]

    def bound_parameters(self, action: Action) -> dict[str, Any]:
        """The package's and the action's inputs, as OpenWhisk merges them."""
        return {**self.package_inputs, **action.inputs}

    def immutable_parameters(self, action: Action) -> set[str]:
        """Parameters a web request may not set: the bound ones of a `final` action."""
        if not action.annotations.get("final"):
            return set()
        return set(self.bound_parameters(action))

    def entitle(self) -> None:
        """OpenWhisk's checks before an activation: invocations per minute, then
        activations in flight. Raises Throttled with OpenWhisk's message."""
        self.invocations.attempt()
        limits = self.config.limits
        with self._idle:
            if limits.enforced and self._inflight >= limits.concurrent_invocations:
                raise Throttled(too_many_concurrent(self._inflight, limits.concurrent_invocations))

    def invoke(
        self, action: Action, params: dict[str, Any], event: bool = False, entitled: bool = False
    ) -> Activation:
        """Starts an activation of the action (after the namespace's checks unless
        already entitled); its record completes asynchronously."""
        if not entitled:
            self.entitle()
        activation_id = new_activation_id()
        activation = Activation(
            activation_id=activation_id,
            namespace=self.config.namespace,
            name=action.name,
            path=f"{self.config.namespace}/{self.manifest.package}/{action.name}",
            event=params if event else None,
        )
        self.activations.add(activation)
        env = {
            "__OW_ACTIVATION_ID": activation_id,
            "__OW_ACTION_NAME": f"/{activation.path}",
            # Like OpenWhisk, only actions annotated provide-api-key get the key.
            "__OW_API_KEY": self.config.auth if action.provides_api_key else "",
        }
        # Bound inputs first, then the request's: in OpenWhisk the payload wins
        # (web requests that try are refused before this, for final actions).
        merged = {**self.bound_parameters(action), **params}
        with self._idle:
            self._inflight += 1
            self.started[action.name] = self.started.get(action.name, 0) + 1
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
        self.activations.account(activation)
        # Nothing is run again: OpenWhisk does not redeliver a failed activation.
        with self._idle:
            self._inflight -= 1
            self._idle.notify_all()

    def stats(self) -> dict[str, Any]:
        """What the platform's limits did, for benchmarks (`make scale`)."""
        return {
            "fires": self.fires.total,
            "fires_refused_429": self.fires.refused,
            "invocations": self.invocations.total,
            "invocations_refused_429": self.invocations.refused,
            "rule_activations_refused": self.refused_activations,
            "activations": dict(self.started),
        }

    def wait_idle(self, timeout: float) -> bool:
        """Waits until no activation is running or queued (tests and the CLI use it)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._inflight == 0, timeout)

    # -- triggers -------------------------------------------------------------
    def fire(self, trigger: str, params: dict[str, Any]) -> str | None:
        """Fires a trigger: its activation id, or None when no rule is active (HTTP 204).
        Raises Throttled over the fires-per-minute limit."""
        if trigger not in self.manifest.triggers:
            raise UnknownEntity(trigger)
        self.fires.attempt()
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
            entry: dict[str, Any] = {
                "rule": f"{self.config.namespace}/{rule}",
                "action": f"{self.config.namespace}/{self.manifest.package}/{action_name}",
            }
            try:
                for _ in range(copies):
                    activation = self.invoke(self.manifest.actions[action_name], params, True)
                entry.update(statusCode=0, success=True, activationId=activation.activation_id)
            except Throttled as refused:
                # OpenWhisk neither queues nor retries it: the trigger's logs say so.
                self.refused_activations += 1
                entry.update(statusCode=APPLICATION_ERROR, success=False, error=str(refused))
            logs.append(json.dumps(entry))
        trigger_activation.complete(params, logs)
        self.activations.account(trigger_activation)
        return trigger_activation.activation_id

    def _run_feed(self, trigger: str, feed: Feed) -> None:
        """The alarms feed (/whisk.system/alarms/interval): fires its trigger every
        interval, through the same limits as any other fire."""
        interval = self.config.feed_interval_seconds or feed.interval_seconds
        while not self._stopping.wait(interval):
            try:
                self.fire(trigger, dict(feed.payload))
            except Throttled as refused:
                log.info("alarm for %s refused: %s", trigger, refused)
