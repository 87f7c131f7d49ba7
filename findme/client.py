"""A small client of the OpenWhisk REST API, for the CLI (the same calls as `wsk`)."""

from __future__ import annotations

from typing import Any

import requests


class OpenWhiskClient:
    def __init__(self, api_host: str, auth: str, namespace: str = "_", package: str = "findme"):
        self.api_host = api_host.rstrip("/")
        user, _, key = auth.partition(":")
        self.session = requests.Session()
        self.session.auth = (user, key)
        self.namespace, self.package = namespace, package

    def invoke(self, action: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A blocking invocation: (HTTP status, result)."""
        url = f"{self.api_host}/api/v1/namespaces/{self.namespace}/actions/{self.package}/{action}"
        response = self.session.post(
            url, params={"blocking": "true", "result": "true"}, json=params, timeout=120
        )
        return response.status_code, response.json()
