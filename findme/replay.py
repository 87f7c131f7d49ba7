"""Replaying recorded third-party HTTP responses (the X API, its media host) offline.

When FINDME_REPLAY names a cassette, every `requests` call of the process is
answered from it (in order, per method and URL) and any call it does not hold
fails, so nothing reaches the network. Calls to loopback (the local engine's
own API) pass through. The cassette is JSON:

    {"interactions": [{"method": "GET", "url": "https://api.twitter.com/2/...",
                       "status": 200, "headers": {...},
                       "json": {...} | "body_file": "photo.jpg"}],
     "dns": {"pbs.twimg.com": ["151.101.36.159"]}}

with body_file relative to the cassette; "dns" answers the download's host
check (no resolver here); a host it does not list but whose URLs the cassette
holds resolves to a public stand-in address (nothing connects to it), any
other host resolves as usual.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import responses

_active: responses.RequestsMock | None = None
_dns: dict[str, list[str]] = {}
_answered_hosts: set[str] = set()
STAND_IN_ADDRESS = "93.184.215.14"  # a public address; never connected to
DEFAULT_DNS = {"pbs.twimg.com": ["151.101.36.159"]}  # a public address of X's media CDN


def install(cassette: Path) -> responses.RequestsMock:
    global _active
    import responses  # only when replaying: keeps it out of every cold start

    document = json.loads(cassette.read_text())
    _dns.clear()
    _dns.update(document.get("dns", DEFAULT_DNS))
    _answered_hosts.clear()
    _answered_hosts.update(
        (urlsplit(item["url"]).hostname or "").lower() for item in document["interactions"]
    )
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.add_passthru(re.compile(r"https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?/"))
    for item in document["interactions"]:
        headers = dict(item.get("headers") or {})
        if "body_file" in item:
            body = (cassette.parent / item["body_file"]).read_bytes()
        else:
            body = json.dumps(item.get("json", {})).encode()
            headers.setdefault("Content-Type", "application/json")
        content_type = headers.pop("Content-Type", None)
        mock.add(
            item.get("method", "GET"),
            item["url"],
            body=body,
            status=item.get("status", 200),
            headers=headers,
            content_type=content_type,
        )
    mock.start()
    _active = mock
    return mock


def resolve(host: str) -> list[str] | None:
    """The cassette's addresses for a host while replaying, else None (use DNS)."""
    if _active is None:
        return None
    if host in _dns:
        return _dns[host]
    return [STAND_IN_ADDRESS] if host in _answered_hosts else None


def install_from(path: str | None) -> None:
    if path and _active is None:
        install(Path(path))
