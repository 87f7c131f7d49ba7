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
        # The owner keys of the searches this client registered: sent with every
        # later call about them (review, cancel, resume, delete), as the page does.
        self.owner_keys: dict[str, str] = {}

    def invoke(self, action: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A blocking invocation: (HTTP status, result). OpenWhisk's 429 (too many
        invocations this minute, no Retry-After) is waited out, a few times."""
        url = f"{self.api_host}/api/v1/namespaces/{self.namespace}/actions/{self.package}/{action}"
        job_id = params.get("job_id")
        if isinstance(job_id, str) and job_id in self.owner_keys and "owner_key" not in params:
            params = {**params, "owner_key": self.owner_keys[job_id]}
        for _ in range(MAX_RATE_LIMIT_WAITS):
            response = self.session.post(
                url, params={"blocking": "true", "result": "true"}, json=params, timeout=120
            )
            if response.status_code != 429:
                break
            # The platform counts per wall-clock minute.
            time.sleep(60 - time.time() % 60 + random.uniform(0.1, 1.0))
        answer = response.json()
        if action == "register_search" and isinstance(answer, dict) and answer.get("owner_key"):
            self.owner_keys[answer.get("job_id", "")] = answer["owner_key"]
        return response.status_code, answer
