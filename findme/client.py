"""A small client of the OpenWhisk REST API, for the CLI (the same calls as `wsk`)."""

from __future__ import annotations

import random
import time
from typing import Any

import requests

MAX_RATE_LIMIT_WAITS = 4


class OpenWhiskClient:
    def __init__(self, api_host: str, auth: str, namespace: str = "_", package: str = "findme"):
        self.api_host = api_host.rstrip("/")
        user, _, key = auth.partition(":")
        self.session = requests.Session()
        self.session.auth = (user, key)
        self.namespace, self.package = namespace, package

    def invoke(self, action: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A blocking invocation: (HTTP status, result). OpenWhisk's 429 (too many
        invocations this minute, no Retry-After) is waited out, a few times."""
        url = f"{self.api_host}/api/v1/namespaces/{self.namespace}/actions/{self.package}/{action}"
        for _ in range(MAX_RATE_LIMIT_WAITS):
            response = self.session.post(
                url, params={"blocking": "true", "result": "true"}, json=params, timeout=120
            )
            if response.status_code != 429:
                break
            # The platform counts per wall-clock minute.
            time.sleep(60 - time.time() % 60 + random.uniform(0.1, 1.0))
        return response.status_code, response.json()
