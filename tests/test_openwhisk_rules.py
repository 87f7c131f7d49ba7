"""The local engine is no kinder than a default OpenWhisk: one test per rule.

The rules, from apache/openwhisk's controller: 60 fires and 60 invocations a
namespace per wall-clock minute, refused attempts counted, 429 without
Retry-After; 30 activations in flight; a rule activation refused over a limit is
written into the trigger's logs and never run; nothing is run again; the
action's environment is built from scratch; 1 MB for requests and results;
web actions serve an error result's "error" field; final parameters.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from findme.local.runner import LocalFindMe

MANIFEST = Path(__file__).with_name("engine_actions") / "manifest.yaml"
TOO_MANY = "Too many requests in the last minute (count: 61, allowed: 60)."


def _fresh_minute(needed_seconds: float) -> None:
    """Waits for the next minute if this one has less than needed_seconds left,
    so a test's counts stay inside one of OpenWhisk's wall-clock minutes."""
    left = 60 - time.time() % 60
    if left < needed_seconds:
        time.sleep(left + 0.2)


@pytest.fixture()
def probe(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalFindMe]:
    # The engine's own environment, which no action may see.
    monkeypatch.setenv("FINDME_ENGINE_ONLY", "engine secret")
    monkeypatch.setenv("PROBE_BOUND_SETTING", "bound at deploy time")
    with LocalFindMe(photo_root=None, manifest_path=MANIFEST) as running:
        yield running


def _api(local: LocalFindMe) -> httpx.Client:
    user, key = local.auth.split(":")
    return httpx.Client(base_url=f"{local.api_host}/api/v1", auth=(user, key), timeout=60)


def test_the_61st_fire_in_a_minute_gets_openwhisks_429(probe: LocalFindMe) -> None:
    _fresh_minute(20)
    with _api(probe) as api:
        answers = [api.post("/namespaces/_/triggers/nap", json={"seconds": 0}) for _ in range(61)]
        again = api.post("/namespaces/_/triggers/nap", json={"seconds": 0})
    assert [a.status_code for a in answers[:60]] == [202] * 60
    refused = answers[60]
    assert refused.status_code == 429
    assert refused.json()["error"] == TOO_MANY
    assert "code" in refused.json()
    assert "retry-after" not in refused.headers
    # A refused attempt counts too.
    assert again.status_code == 429
    assert "count: 62" in again.json()["error"]


def test_the_61st_invocation_in_a_minute_gets_openwhisks_429(probe: LocalFindMe) -> None:
    _fresh_minute(20)
    with _api(probe) as api:
        codes = [
            api.post("/namespaces/_/actions/probe/sleeper", json={}).status_code for _ in range(61)
        ]
        web = httpx.get(f"{probe.api_host}/api/v1/web/guest/probe/answer.json")
    assert codes[:60] == [202] * 60
    assert codes[60] == 429
    assert web.status_code == 429  # web actions count against the same limit


def test_the_31st_activation_in_flight_is_refused_and_a_rule_refusal_is_only_logged(
    probe: LocalFindMe,
) -> None:
    _fresh_minute(20)
    with _api(probe) as api:
        for _ in range(30):  # one warm worker: they queue, all in flight
            assert (
                api.post("/namespaces/_/actions/probe/sleeper", json={"seconds": 0.3}).status_code
                == 202
            )
        refused = api.post("/namespaces/_/actions/probe/sleeper", json={})
        fired = api.post("/namespaces/_/triggers/nap", json={"seconds": 0, "marker": "lost"})
        assert refused.status_code == 429
        assert refused.json()["error"] == (
            "Too many concurrent requests in flight (count: 30, allowed: 30)."
        )
        # The fire itself is accepted; its rule's activation is refused and dropped.
        assert fired.status_code == 202
        assert probe.engine.wait_idle(60)
        trigger = api.get(f"/namespaces/_/activations/{fired.json()['activationId']}").json()
        ran = [a.record() for a in probe.engine.activations.recent(200, name="sleeper")]
    [log] = [json.loads(line) for line in trigger["logs"]]
    assert log["success"] is False and log["statusCode"] == 1
    assert log["error"].startswith("Too many concurrent requests in flight")
    assert "activationId" not in log
    assert not any("marker" in json.dumps(record) for record in ran)


def test_a_failed_rule_activation_is_never_run_again(probe: LocalFindMe) -> None:
    _fresh_minute(20)
    with _api(probe) as api:
        assert api.post("/namespaces/_/triggers/crash", json={"crash": True}).status_code == 202
    assert probe.engine.wait_idle(30)
    time.sleep(1)
    assert probe.engine.wait_idle(30)
    crashed = [a for a in probe.engine.activations.recent(100, name="sleeper")]
    assert len(crashed) == 1
    assert crashed[0].status_code == 2  # action developer error
    assert "exited unexpectedly" in crashed[0].result["error"]


def test_an_action_sees_none_of_the_engines_environment(probe: LocalFindMe) -> None:
    _fresh_minute(10)
    with _api(probe) as api:
        answer = api.post(
            "/namespaces/_/actions/probe/environment",
            params={"blocking": "true", "result": "true"},
            json={},
        ).json()
    seen = answer["environment"]
    assert "FINDME_ENGINE_ONLY" not in seen
    assert "PROBE_BOUND_SETTING" not in seen
    assert not [name for name in seen if name.startswith("FINDME_") or name == "REDIS_URL"]
    assert set(seen) <= {"PATH", "HOME", "LANG", "HOSTNAME"} | {
        n for n in seen if n.startswith("__OW_")
    }
    assert "__OW_DEADLINE" in seen and "__OW_ACTIVATION_ID" in seen
    # Settings arrive as parameters: the package input bound from the deployer's environment.
    assert "bound_setting" in answer["params"]
    assert os.environ["FINDME_ENGINE_ONLY"] == "engine secret"


def test_a_body_over_1_mb_is_refused_everywhere(probe: LocalFindMe) -> None:
    _fresh_minute(10)
    body = json.dumps({"pad": "x" * (1024 * 1024 + 100 * 1024)}).encode()  # 1.1 MB
    size = len(body)
    kind = {"Content-Type": "application/json"}
    with _api(probe) as api:
        fire = api.post("/namespaces/_/triggers/nap", content=body, headers=kind)
        invoke = api.post("/namespaces/_/actions/probe/sleeper", content=body, headers=kind)
    web = httpx.post(
        f"{probe.api_host}/api/v1/web/guest/probe/sleeper.json", content=body, headers=kind
    )
    for answer in (fire, invoke, web):
        assert answer.status_code == 413
        assert answer.json()["error"] == f"Request larger than allowed: {size} > 1048576 bytes."


def test_a_result_over_1_mb_becomes_openwhisks_error(probe: LocalFindMe) -> None:
    _fresh_minute(10)
    with _api(probe) as api:
        answer = api.post(
            "/namespaces/_/actions/probe/answer",
            params={"blocking": "true"},
            json={"big": 1024 * 1024},
        )
    record = answer.json()
    assert answer.status_code == 502
    assert record["response"]["result"]["error"].startswith(
        "The action produced a response that exceeded the allowed length"
    )


def test_web_actions_serve_errors_and_results_as_openwhisk_does(probe: LocalFindMe) -> None:
    _fresh_minute(10)
    web = f"{probe.api_host}/api/v1/web/guest/probe/answer"
    as_text = httpx.post(f"{web}.json", json={"error": "a bare string"})
    assert as_text.status_code == 400
    assert as_text.json()["error"] == "Response is not valid 'application/json'."
    shaped = {"statusCode": 404, "headers": {"Content-Type": "application/json"}}
    as_object = httpx.post(f"{web}.http", json={"error": {**shaped, "body": {"error": "gone"}}})
    assert as_object.status_code == 404 and as_object.json() == {"error": "gone"}
    no_body = httpx.post(f"{web}.http", json={"result": {"statusCode": 200}})
    assert no_body.status_code == 200 and no_body.content == b""
    plain = httpx.post(f"{web}.http", json={"result": {"a": 1}})
    assert plain.status_code == 204  # no body: .http serves nothing
    # Final: a web request may not set a bound parameter, nor OpenWhisk's own.
    for sneaky in ({"bound_setting": "mine"}, {"__ow_method": "post"}):
        refused = httpx.post(f"{web}.json", json=sneaky)
        assert refused.status_code == 400
        assert refused.json()["error"].startswith("Request defines parameters that are not allowed")


def test_json_nested_too_deep_is_refused_and_the_action_keeps_answering(
    probe: LocalFindMe,
) -> None:
    _fresh_minute(10)
    web = f"{probe.api_host}/api/v1/web/guest/probe/answer.json"
    for depth in (600, 5000, 100_000):
        body = '{"a":' * depth + "1" + "}" * depth
        refused = httpx.post(web, content=body, headers={"Content-Type": "application/json"})
        assert refused.status_code == 400
        assert refused.json()["error"] == "The request content was malformed."
    assert httpx.post(web, json={"result": {"fine": True}}).json() == {"fine": True}
