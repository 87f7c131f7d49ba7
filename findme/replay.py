"""Replaying recorded third-party HTTP responses (the X API, its media host) offline.

When FINDME_REPLAY names a cassette, every `requests` call of the process is
answered from it (in order, per method and URL) and any call it does not hold
fails, so nothing reaches the network. Calls to loopback (the local engine's
own API) pass through. The cassette is JSON:

    {"interactions": [{"method": "GET", "url": "https://api.twitter.com/2/...",
                       "status": 200, "headers": {...},
                       "json": {...} | "body_file": "photo.jpg"}]}

with body_file relative to the cassette.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import responses

_active: responses.RequestsMock | None = None


def install(cassette: Path) -> responses.RequestsMock:
    global _active
    document = json.loads(cassette.read_text())
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


def install_from(path: str | None) -> None:
    if path and _active is None:
        install(Path(path))
