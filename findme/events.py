"""Firing OpenWhisk triggers through the REST API, as an action does on the platform.

The same code runs on a cluster and in the local engine: both answer
POST {__OW_API_HOST}/api/v1/namespaces/_/triggers/{name} with Basic auth from
__OW_API_KEY. Payloads carry ids, never credentials.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from findme.errors import Unavailable
from findme.settings import Settings

_session: requests.Session | None = None


def _http() -> requests.Session:
    global _session
    if _session is None:
        session = requests.Session()
        # Trigger fires are rate-limited (429) and the controller can blip (5xx);
        # a repeated fire is harmless because every consumer is idempotent.
        retry = Retry(
            total=5,
            backoff_factor=0.5,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=None,
            respect_retry_after_header=True,
        )
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        _session = session
    return _session


def fire_trigger(settings: Settings, trigger: str, params: dict[str, Any]) -> str | None:
    """Fires a trigger; returns its activation id, or None when no rule is active."""
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
    if response.status_code == 204:
        return None
    if response.status_code not in (200, 202):
        raise Unavailable(f"could not fire trigger {trigger}: HTTP {response.status_code}")
    return response.json().get("activationId")
