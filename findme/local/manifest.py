"""Reading manifest.yaml (wskdeploy's format) into what the local engine runs."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_VARIABLE = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")
DEFAULT_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Action:
    name: str
    function: Path
    web: bool
    annotations: dict[str, Any]
    timeout_ms: int
    memory_mb: int
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def provides_api_key(self) -> bool:
        return bool(self.annotations.get("provide-api-key"))


ALARMS_INTERVAL_FEED = "/whisk.system/alarms/interval"


@dataclass(frozen=True)
class Feed:
    """An alarms interval feed on a trigger: fires it every `minutes`."""

    interval_seconds: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class Manifest:
    package: str
    inputs: dict[str, Any]
    actions: dict[str, Action]
    triggers: tuple[str, ...]
    rules: dict[str, tuple[str, str]]  # rule -> (trigger, action)
    feeds: dict[str, Feed] = field(default_factory=dict)  # trigger -> its feed

    def rules_for(self, trigger: str) -> list[tuple[str, str]]:
        return [(rule, action) for rule, (t, action) in self.rules.items() if t == trigger]


def default_manifest_path() -> Path:
    """manifest.yaml of this checkout (or of the installed source tree)."""
    return Path(__file__).resolve().parents[2] / "manifest.yaml"


def _resolve(value: Any, env: Mapping[str, str]) -> Any:
    """A wskdeploy input: `$NAME` is taken from the environment (an unset variable
    binds an empty string, as wskdeploy does), else the literal."""
    if isinstance(value, dict):
        value = value.get("value", value.get("default"))
    if isinstance(value, str):
        found = _VARIABLE.match(value.strip())
        if found:
            return env.get(found.group(1)) or ""
    return "" if value is None else value


def _inputs(raw: Mapping[str, Any] | None, env: Mapping[str, str]) -> dict[str, Any]:
    return {name: _resolve(value, env) for name, value in (raw or {}).items()}


def _feeds(triggers: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Feed]:
    feeds = {}
    for name, spec in triggers.items():
        if not spec or not spec.get("feed"):
            continue
        if spec["feed"] != ALARMS_INTERVAL_FEED:
            raise ValueError(f"trigger {name}: the local engine has no feed {spec['feed']}")
        inputs = _inputs(spec.get("inputs"), env)
        payload = inputs.get("trigger_payload") or {}
        feeds[name] = Feed(float(inputs.get("minutes") or 1) * 60, dict(payload))
    return feeds


def load_manifest(path: Path | None = None, env: Mapping[str, str] | None = None) -> Manifest:
    path = path or default_manifest_path()
    env = os.environ if env is None else env
    document = yaml.safe_load(path.read_text())
    packages = document.get("packages") or {}
    if len(packages) != 1:
        raise ValueError(f"{path}: expected exactly one package, found {len(packages)}")
    package, body = next(iter(packages.items()))
    actions = {}
    for name, spec in (body.get("actions") or {}).items():
        limits = spec.get("limits") or {}
        actions[name] = Action(
            name=name,
            function=(path.parent / spec["function"]).resolve(),
            web=str(spec.get("web", spec.get("web-export", False))).lower()
            in ("true", "yes", "raw"),
            annotations=dict(spec.get("annotations") or {}),
            timeout_ms=int(limits.get("timeout", DEFAULT_TIMEOUT_MS)),
            memory_mb=int(limits.get("memorySize", 256)),
            inputs=_inputs(spec.get("inputs"), env),
        )
    rules = {
        name: (str(spec["trigger"]), str(spec["action"]))
        for name, spec in (body.get("rules") or {}).items()
    }
    triggers = body.get("triggers") or {}
    return Manifest(
        package=package,
        inputs=_inputs(body.get("inputs"), env),
        actions=actions,
        triggers=tuple(triggers),
        rules=rules,
        feeds=_feeds(triggers, env),
    )
