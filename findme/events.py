"""Firing OpenWhisk triggers through the REST API, as an action does on the platform.

The same code runs on a cluster and in the local engine: both answer
POST {__OW_API_HOST}/api/v1/namespaces/_/triggers/{name} with Basic auth from
__OW_API_KEY. Payloads carry ids, never credentials.

OpenWhisk allows a namespace a number of fires per wall-clock minute (60 by
default) and answers 429 without Retry-After past it, counting the refused
attempt too. So FindMe counts its own fires per minute in Redis and keeps
under the limit, and waits a 429 out until the next minute only while the
activation's deadline allows; otherwise the fire is left to the periodic
sweep (`Deferred`), since nothing on OpenWhisk would redo it.
"""

from __future__ import annotations

import random
import time
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from findme.errors import Unavailable
from findme.jobs import JobStore
from findme.settings import Settings

# Fires a minute left to others: the alarms feed, a person's retry, wsk.
FIRE_HEADROOM = 0.1
# Time an activation keeps after its last wait for a fire, to finish its work.
DEADLINE_MARGIN_SECONDS = 10.0

_session: requests.Session | None = None


class RateLimited(Unavailable):
    """The platform refused the fire: too many in this minute (429)."""


class Deferred(Unavailable):
    """The fire could not be made before the activation's deadline; the sweep will."""


def _http() -> requests.Session:
    global _session
    if _session is None:
        session = requests.Session()
        # The controller can blip (5xx, lost connections): a repeated fire is
        # harmless because every consumer is idempotent. 429 is not retried
        # here: every refused attempt counts against the minute's limit.
        retry = Retry(
            total=3,
            backoff_factor=0.3,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=None,
            respect_retry_after_header=False,
        )
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        _session = session
    return _session


def fire_trigger(settings: Settings, trigger: str, params: dict[str, Any]) -> str | None:
    """Fires a trigger once; returns its activation id, or None when no rule is active."""
    if not settings.api_host or not settings.api_key or ":" not in settings.api_key:
        raise Unavailable(
            "cannot fire triggers: __OW_API_HOST and __OW_API_KEY are not set "
            "(the action needs the annotation provide-api-key: true)"
        )
    user, password = settings.api_key.split(":", 1)
    url = f"{settings.api_host.rstrip('/')}/api/v1/namespaces/_/triggers/{quote(trigger)}"
    try:
        response = _http().post(
            url, json=params, auth=(user, password), timeout=(5, 30), verify=settings.api_verify_tls
        )
    except requests.RequestException as error:
        raise Unavailable(f"could not fire trigger {trigger}: {type(error).__name__}") from None
    if response.status_code == 429:
        raise RateLimited(f"could not fire trigger {trigger}: too many fires this minute")
    if response.status_code == 204:
        return None
    if response.status_code not in (200, 202):
        raise Unavailable(f"could not fire trigger {trigger}: HTTP {response.status_code}")
    return response.json().get("activationId")


def seconds_left(settings: Settings) -> float:
    """Time until the platform ends this activation (an hour when not in one)."""
    if settings.deadline_ms is None:
        return 3600.0
    return settings.deadline_ms / 1000 - time.time()


def _wait_for_next_minute(settings: Settings, what: str) -> None:
    wait = 60 - time.time() % 60 + random.uniform(0.05, 1.0)
    if seconds_left(settings) - wait < DEADLINE_MARGIN_SECONDS:
        raise Deferred(f"{what} left to the sweep: no time to wait for the next minute")
    time.sleep(wait)


def paced_fire(
    settings: Settings, store: JobStore, trigger: str, params: dict[str, Any]
) -> str | None:
    """Fires a trigger within FindMe's share of the namespace's fires per minute,
    waiting for the next minute while the deadline allows; raises Deferred when not."""
    budget = max(1, int(settings.fires_per_minute * (1 - FIRE_HEADROOM)))
    while True:
        if store.count_fire(int(time.time() // 60)) > budget:
            _wait_for_next_minute(settings, f"firing {trigger}")
            continue
        try:
            return fire_trigger(settings, trigger, params)
        except RateLimited:
            _wait_for_next_minute(settings, f"firing {trigger}")
