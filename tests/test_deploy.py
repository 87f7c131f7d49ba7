"""Standing in for the platform: the runtime's calling convention, wskdeploy's rules,
the Dockerfile lint and the CI workflows."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
import yaml

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = Path(__file__).with_name("openwhisk_launcher.py")
API_KEY = f"{uuid.uuid4()}:{secrets.token_urlsafe(32)}"  # made up for each test run


class TriggerEndpoint(ThreadingHTTPServer):
    """A real HTTP endpoint that accepts trigger fires the way OpenWhisk does."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _TriggerHandler)
        self.fires: list[tuple[str, dict]] = []
        self.refused: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _TriggerHandler(BaseHTTPRequestHandler):
    server: TriggerEndpoint

    def do_POST(self) -> None:
        expected = "Basic " + base64.b64encode(API_KEY.encode()).decode()
        found = re.fullmatch(r"/api/v1/namespaces/_/triggers/(\w+)", self.path)
        if self.headers.get("Authorization") != expected:
            self.server.refused.append(self.path)
            return self._answer(401, {"error": "The supplied authentication is invalid"})
        if not found:
            self.server.refused.append(self.path)
            return self._answer(404, {"error": "The requested resource does not exist."})
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.fires.append((found.group(1), body))
        self._answer(202, {"activationId": "a" * 32})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def endpoint() -> Iterator[TriggerEndpoint]:
    server = TriggerEndpoint()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def run_action(
    name: str, params: dict, photo_root: Path, api_host: str, with_key: bool = True
) -> tuple[dict, str]:
    """One activation in a fresh interpreter, as the runtime runs it: (result, logs)."""
    message = {
        # Settings are package inputs: they arrive as parameters, never in the environment.
        "value": {**params, "redis_url": os.environ["REDIS_URL"], "photo_root": str(photo_root)},
        "api_host": api_host,
        "api_key": API_KEY if with_key else "",
        "namespace": "guest",
        "action_name": f"/guest/findme/{name}",
        "activation_id": "b" * 32,
        "deadline": "9999999999999",
    }
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    read, write = os.pipe()
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), str(ROOT / "actions" / f"{name}.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT / "actions",
        close_fds=False,
        preexec_fn=lambda: os.dup2(write, 3),
    )
    os.close(write)
    out, err = process.communicate(json.dumps(message).encode() + b"\n", timeout=300)
    with os.fdopen(read, "rb") as results:
        line = results.readline()
    assert process.returncode == 0, err.decode()
    return json.loads(line), (out + err).decode()


def test_every_action_runs_under_the_runtime_convention(
    endpoint: TriggerEndpoint, photo_root: Path, redis_client: redis.Redis
) -> None:
    # A folder no other test searched: its event is new, listed and compared step by step.
    fresh = photo_root / f"talk-{uuid.uuid4().hex[:8]}"
    shutil.copytree(photo_root / "event" / "talk", fresh)
    result, logs = run_action(
        "register_search",
        {"folder": fresh.name, "reference_path": "refs/obama.jpg"},
        photo_root,
        endpoint.url,
    )
    job_id = result["job_id"]
    # The place's event is created with the search: its listing, then the search.
    (_, listing), (_, searching) = endpoint.fires
    assert endpoint.fires == [("search_request", listing), ("search_request", {"job_id": job_id})]
    event_id = listing["job_id"]
    assert event_id != job_id

    result, logs = run_action("twitter_search", {"job_id": event_id}, photo_root, endpoint.url)
    assert result == {"job_id": event_id, "state": "comparing"}
    # Two compare activations woken for the queue (compare_activations' default).
    wakes = endpoint.fires[2:]
    assert [trigger for trigger, _ in wakes] == ["tweet_image", "tweet_image"]
    assert all(set(event) == {"job_id", "drainer"} for _, event in wakes)

    event = wakes[0][1]
    result, logs = run_action("compare_images", event, photo_root, endpoint.url, with_key=False)
    assert result == {"job_id": event_id, "indexed": 3, "failed": 0}, logs

    result, logs = run_action("twitter_search", searching, photo_root, endpoint.url)
    assert result == {"job_id": job_id, "state": "done"}, logs
    status, logs = run_action("search_status", {"job_id": job_id}, photo_root, endpoint.url)
    assert status["state"] == "done"
    assert len(status["matches"]) == 3
    assert endpoint.refused == []
    # No secret travels in a trigger payload, a result or a log line.
    secrets = [os.environ["REDIS_URL"], API_KEY.split(":")[1]]
    for text in [json.dumps(endpoint.fires), json.dumps(result), json.dumps(status), logs]:
        assert not any(secret in text for secret in secrets)


def test_an_action_without_the_api_key_says_which_annotation_it_needs(
    endpoint: TriggerEndpoint, photo_root: Path, redis_client: object
) -> None:
    # A folder nobody searched (one indexed a moment ago is searched with no trigger).
    fresh = photo_root / f"talk-{uuid.uuid4().hex[:8]}"
    shutil.copytree(photo_root / "event" / "talk", fresh)
    result, _ = run_action(
        "register_search",
        {"folder": fresh.name, "reference_path": "refs/obama.jpg"},
        photo_root,
        endpoint.url,
        with_key=False,
    )
    assert result["statusCode"] == 503
    assert "provide-api-key: true" in result["error"]
    assert endpoint.fires == []


# -- manifest.yaml against wskdeploy's rules ------------------------------------

MANIFEST = yaml.safe_load((ROOT / "manifest.yaml").read_text())
PACKAGE = MANIFEST["packages"]["findme"]
ACTIONS = PACKAGE["actions"]


def test_rules_join_existing_triggers_and_actions() -> None:
    assert set(PACKAGE["triggers"]) == {"search_request", "tweet_image", "sweep_tick"}
    rules = {spec["trigger"]: spec["action"] for spec in PACKAGE["rules"].values()}
    assert rules == {
        "search_request": "twitter_search",
        "tweet_image": "compare_images",
        "sweep_tick": "sweep",
    }
    # Nothing redelivers on OpenWhisk: the sweep runs on the alarms feed, every minute.
    tick = PACKAGE["triggers"]["sweep_tick"]
    assert tick["feed"] == "/whisk.system/alarms/interval" and tick["inputs"]["minutes"] == 1
    assert set(ACTIONS) == {
        "register_search",
        "twitter_search",
        "compare_images",
        "search_status",
        "delete_search",
        "cancel_search",
        "resume_search",
        "photo_faces",
        "review_match",
        "sweep",
        "sources",
        "create_event",
        "event_status",
        "takedown_photo",
        "update_event",
        "delete_event",
        "search_feed",
        "share_search",
    }


def test_web_actions_are_the_ones_people_call() -> None:
    web = {name for name, spec in ACTIONS.items() if spec.get("web") is True}
    assert web == {
        "register_search",
        "search_status",
        "delete_search",
        "cancel_search",
        "resume_search",
        "photo_faces",
        "review_match",
        "sources",
        "create_event",
        "event_status",
        "takedown_photo",
        "update_event",
        "delete_event",
        "search_feed",
        "share_search",
    }


def _fires_triggers(action: str) -> bool:
    stage = (ROOT / "actions" / f"{action}.py").read_text().split("from findme.stages import ")[1]
    source = (ROOT / "findme" / "stages" / f"{stage.split()[0]}.py").read_text()
    calls = ("fire_trigger(", "paced_fire(", "wake_compare(", "new_event(", "event_for_search(")
    return any(call in source for call in calls)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_action_is_deployable(action: str) -> None:
    spec = ACTIONS[action]
    assert (ROOT / spec["function"]).is_file()
    assert spec["docker"].startswith("$")  # the image and its tag come from the environment
    limits = spec["limits"]
    assert isinstance(limits["timeout"], int) and 100 <= limits["timeout"] <= 300_000
    assert isinstance(limits["memorySize"], int) and 128 <= limits["memorySize"] <= 512
    annotations = spec.get("annotations", {})
    assert annotations.get("provide-api-key", False) is _fires_triggers(action)
    assert annotations.get("final") is True  # package inputs cannot be overridden


def test_inputs_come_from_the_environment_and_no_secret_is_written() -> None:
    for name, spec in PACKAGE["inputs"].items():
        assert re.fullmatch(r"\$[A-Z_]+", spec["value"]), name
    text = (ROOT / "manifest.yaml").read_text()
    assert not re.search(r"(?i)(token|key|password|secret)\s*:\s*['\"]?[A-Za-z0-9_\-]{16,}", text)
    assert "redis://" not in text


# -- the runtime image and CI ----------------------------------------------------


def test_dockerfile_passes_hadolint_and_pins_its_base() -> None:
    dockerfile = ROOT / "runtime" / "Dockerfile"
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    run = subprocess.run([hadolint, str(dockerfile)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    text = dockerfile.read_text()
    base = re.search(r"ARG RUNTIME_IMAGE=(\S+)", text).group(1)
    assert re.fullmatch(r"openwhisk/action-python-v3\.1[12]:\d+\.\d+\.\d+", base)
    assert text.count("FROM ${RUNTIME_IMAGE}") == 2  # a build stage and a clean runtime stage


def test_workflows_build_push_and_deploy_with_secrets() -> None:
    deploy = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())
    test = yaml.safe_load((ROOT / ".github/workflows/test.yml").read_text())
    steps = json.dumps(deploy["jobs"])
    assert "runtime/Dockerfile" in steps and "${{ github.sha }}" in steps
    assert "wskdeploy -m manifest.yaml" in steps and "wskdeploy --preview" in steps
    assert "secrets.X_BEARER_TOKEN" in steps and "secrets.REDIS_URL" in steps
    assert "make test" in json.dumps(test["jobs"])
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
