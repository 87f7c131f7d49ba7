"""The official OpenWhisk JavaScript client (npm `openwhisk`) against the local engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from findme.local.runner import LocalFindMe
from tests import photo_variants as pv

CLIENT = Path(__file__).with_name("js")


@pytest.mark.skipif(
    not (CLIENT / "node_modules" / "openwhisk").is_dir() or not shutil.which("node"),
    reason="run `npm ci` in tests/js (make test does)",
)
def test_the_official_javascript_client_works_unchanged(local: LocalFindMe) -> None:
    run = subprocess.run(
        ["node", str(CLIENT / "client.mjs")],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "FINDME_API_HOST": local.api_host,
            "FINDME_AUTH": local.auth,
            "FINDME_REFERENCE": str(pv.PHOTOS / "obama.jpg"),
        },
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert len(seen["jobId"]) == 32
    assert seen["state"] == "done"
    assert seen["matches"] == ["obama2.jpg", "obama3-grey.png", "stage-rotated.jpg"]
    assert len(seen["triggerActivation"]) == 32
    assert "guest/findme/twitter_search" in seen["triggerLogs"][0]
    assert seen["activation"]["name"] == "search_status"
    assert seen["activation"]["success"] is True and seen["activation"]["state"] == "done"
    assert seen["listed"] == 3
    assert seen["wrongKey"] == 401
