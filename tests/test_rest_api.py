"""The local engine's OpenWhisk REST API and web actions, over real HTTP."""

from __future__ import annotations

import base64
import socket
import time

import pytest
import requests

from findme.client import OpenWhiskClient
from findme.local.runner import LocalFindMe
from findme.local.server import bind
from tests import photo_variants as pv
from tests.conftest import wait_for_job, wait_out_429

OBAMA = base64.b64encode((pv.PHOTOS / "obama.jpg").read_bytes()).decode()


@pytest.fixture()
def api(local: LocalFindMe) -> tuple[str, tuple[str, str]]:
    user, key = local.auth.split(":", 1)
    return f"{local.api_host}/api/v1", (user, key)


@pytest.mark.parametrize(
    "auth", [None, ("23bc46b1-71f6-4ed5-8c54-816aa4f8c502", "wrong"), ("nobody", "")]
)
def test_a_wrong_or_missing_key_is_a_401(api: tuple, auth: tuple | None) -> None:
    base, _ = api
    for method, path in [
        ("post", "/namespaces/_/actions/findme/search_status"),
        ("post", "/namespaces/_/triggers/tweet_image"),
        ("get", "/namespaces/_/activations"),
    ]:
        response = requests.request(method, base + path, json={}, auth=auth, timeout=10)
        assert response.status_code == 401
        assert response.json()["error"] == "The supplied authentication is invalid"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/namespaces/_/actions/findme/no_such_action"),
        ("post", "/namespaces/_/actions/otherpkg/search_status"),
        ("post", "/namespaces/_/triggers/no_such_trigger"),
        ("get", "/namespaces/_/activations/" + "f" * 32),
        ("post", "/namespaces/someone-else/actions/findme/search_status"),
    ],
)
def test_an_unknown_entity_is_a_404(api: tuple, method: str, path: str) -> None:
    base, auth = api
    response = requests.request(method, base + path, json={}, auth=auth, timeout=10)
    assert response.status_code == 404


def test_non_blocking_invoke_then_the_activation_record(api: tuple) -> None:
    base, auth = api
    response = requests.post(
        f"{base}/namespaces/guest/actions/findme/search_status",
        json={"job_id": "0" * 32},
        auth=auth,
        timeout=10,
    )
    assert response.status_code == 202
    activation_id = response.json()["activationId"]
    for _ in range(100):
        record = requests.get(
            f"{base}/namespaces/_/activations/{activation_id}", auth=auth, timeout=10
        )
        if record.status_code == 200:
            break
        time.sleep(0.05)
    body = record.json()
    assert body["activationId"] == activation_id
    assert body["name"] == "search_status"
    assert body["response"]["success"] is False
    assert body["response"]["result"]["statusCode"] == 404
    assert body["end"] >= body["start"] and body["duration"] == body["end"] - body["start"]
    assert isinstance(body["logs"], list)
    listed = requests.get(
        f"{base}/namespaces/_/activations", params={"limit": 2}, auth=auth, timeout=10
    )
    assert listed.status_code == 200 and 1 <= len(listed.json()) <= 2


def test_blocking_invoke_returns_the_result_or_the_record(api: tuple) -> None:
    base, auth = api
    url = f"{base}/namespaces/_/actions/findme/register_search"
    params = {"folder": "event/talk", "reference_image": OBAMA}
    with_result = requests.post(
        url, params={"blocking": "true", "result": "true"}, json=params, auth=auth, timeout=60
    )
    assert with_result.status_code == 200 and len(with_result.json()["job_id"]) == 32
    record = requests.post(url, params={"blocking": "true"}, json=params, auth=auth, timeout=60)
    assert record.status_code == 200
    assert record.json()["response"]["result"]["job_id"]


def test_a_fired_trigger_runs_its_rule(api: tuple) -> None:
    base, auth = api
    fired = requests.post(
        f"{base}/namespaces/_/triggers/search_request",
        json={"job_id": "0" * 32},
        auth=auth,
        timeout=10,
    )
    assert fired.status_code == 202
    trigger_id = fired.json()["activationId"]
    record = requests.get(f"{base}/namespaces/_/activations/{trigger_id}", auth=auth, timeout=10)
    assert '"action": "guest/findme/twitter_search"' in record.json()["logs"][0]


def test_web_actions_without_a_key(
    local: LocalFindMe, client: OpenWhiskClient, redis_client: object
) -> None:
    web = f"{local.api_host}/api/v1/web/guest/findme"
    started = wait_out_429(
        lambda: requests.post(
            f"{web}/register_search.http",
            json={"folder": "event/talk", "reference_image": OBAMA},
            timeout=60,
        )
    )
    assert started.status_code == 200
    # No CORS for other origins by default (tests/test_attacks.py: only named ones).
    assert "access-control-allow-origin" not in started.headers
    job_id = started.json()["job_id"]
    # Not polled here: a poll a second spent the namespace's 60 invocations a minute,
    # the search's own activations were refused, and on a busy machine 60 polls ended
    # before the search (0 matches).
    wait_for_job(client, job_id, timeout=300)  # waits in Redis, then reads it once
    status = wait_out_429(
        lambda: requests.get(f"{web}/search_status.http", params={"job_id": job_id}, timeout=10)
    )
    assert status.status_code == 200
    assert status.json()["state"] == "done"
    assert len(status.json()["matches"]) == 3
    # .json serves the .http shape as it is (OpenWhisk's projection of the result).
    as_json = wait_out_429(
        lambda: requests.get(f"{web}/search_status.json", params={"job_id": job_id}, timeout=10)
    )
    assert as_json.status_code == 200 and as_json.json()["body"]["state"] == "done"


def test_web_action_errors_keep_their_status_and_message(local: LocalFindMe) -> None:
    web = f"{local.api_host}/api/v1/web/_/findme"
    bad = wait_out_429(
        lambda: requests.post(
            f"{web}/register_search.http",
            json={"folder": "event", "reference_image": OBAMA, "threshold": 2},
            timeout=60,
        )
    )
    assert bad.status_code == 400
    assert "threshold" in bad.json()["error"]
    missing = wait_out_429(
        lambda: requests.get(f"{web}/search_status.http", params={"job_id": "0" * 32}, timeout=10)
    )
    assert missing.status_code == 404  # .http honours the result's statusCode
    assert missing.json() == {"error": f"no job {'0' * 32} (unknown or expired)"}


@pytest.mark.parametrize("action", ["compare_images.json", "twitter_search.json", "nothing.json"])
def test_only_web_actions_answer_on_the_web_path(local: LocalFindMe, action: str) -> None:
    response = requests.post(
        f"{local.api_host}/api/v1/web/guest/findme/{action}", json={}, timeout=10
    )
    assert response.status_code == 404


def test_the_engine_answers_keep_alive_requests_without_waiting_for_delayed_acks() -> None:
    # Without TCP_NODELAY, each keep-alive request after a connection's first
    # waited 40 ms for the client's delayed ACK (every trigger fire of a search).
    listening = bind("127.0.0.1", 0)
    try:
        assert listening.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listening.close()
