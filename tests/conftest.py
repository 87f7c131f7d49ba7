"""Shared fixtures: a real Redis, the real local engine, real photos."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

# Tests use the Redis on 127.0.0.1:6379 (started by .ci/run when none answers),
# in a database of their own that each session starts empty; or the Redis Cluster
# REDIS_URL names (`make test-cluster`).
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from findme import store
from findme.client import OpenWhiskClient
from findme.local.limits import Limits
from findme.local.runner import LocalFindMe
from findme.state import keys
from findme.state.base import RedisClient
from tests import photo_variants as pv


def suite_redis() -> RedisClient:
    """The Redis (or Redis Cluster) of REDIS_URL, as FindMe itself connects to it."""
    return store.redis_client(os.environ["REDIS_URL"])


@pytest.fixture(scope="session")
def redis_client() -> RedisClient:
    client = suite_redis()
    client.ping()
    client.flushdb()  # on a cluster: every primary
    return client


def make_event_folder(folder: Path) -> dict[str, bool]:
    """An event's photos; returns which contain Obama."""
    folder.mkdir(parents=True, exist_ok=True)
    obama2, obama3, biden = pv.photo("obama2.jpg"), pv.photo("obama3.jpg"), pv.photo("biden.jpg")
    files: dict[str, bytes] = {
        "talk/obama2.jpg": pv.encoded(obama2),
        "talk/obama3-grey.png": pv.encoded(pv.shrunk(obama3, 900).convert("L"), "PNG"),
        "talk/stage-rotated.jpg": pv.exif_rotated_jpeg(pv.shrunk(obama2, 800)),
        "hall/group.jpg": pv.encoded(pv.group(biden, obama3)),
        "hall/biden.jpg": pv.encoded(pv.shrunk(biden, 1200)),
        "hall/biden-palette.png": pv.encoded(pv.shrunk(biden, 700).convert("P"), "PNG"),
        "hall/suit.jpg": pv.encoded(pv.no_face(obama2)),
    }
    contains_obama = {
        "talk/obama2.jpg": True,
        "talk/obama3-grey.png": True,
        "talk/stage-rotated.jpg": True,
        "hall/group.jpg": True,
        "hall/biden.jpg": False,
        "hall/biden-palette.png": False,
        "hall/suit.jpg": False,
    }
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return contains_obama


BROKEN = {
    "broken/truncated.jpg": lambda: pv.encoded(pv.photo("biden.jpg"))[:4000],
    "broken/empty.jpg": lambda: b"",
    "broken/notes.jpg": lambda: b"these are my notes, not a photo\n",
}


@pytest.fixture(scope="session")
def photo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("photo-root")
    make_event_folder(root / "event")
    for name, data in BROKEN.items():
        (root / "event" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "event" / name).write_bytes(data())
    (root / "strangers").mkdir()
    biden = pv.photo("biden.jpg")
    (root / "strangers" / "biden.jpg").write_bytes(pv.encoded(biden))
    (root / "strangers" / "biden-small.jpg").write_bytes(pv.encoded(pv.shrunk(biden, 500)))
    (root / "refs").mkdir()
    (root / "refs" / "obama.jpg").write_bytes((pv.PHOTOS / "obama.jpg").read_bytes())
    (root / "refs" / "suit.jpg").write_bytes(pv.encoded(pv.no_face(pv.photo("obama.jpg"))))
    return root


def manifest_with_timeouts(folder: Path, timeouts_ms: dict[str, int]) -> Path:
    """A copy of manifest.yaml with shorter action time limits, as a cluster
    configured so would have: fault tests see lost activations re-driven sooner."""
    from findme.local.manifest import default_manifest_path

    original = default_manifest_path()
    document = yaml.safe_load(original.read_text())
    for package in document["packages"].values():
        for name, action in package["actions"].items():
            action["function"] = str(original.parent / action["function"])
            if name in timeouts_ms:
                action.setdefault("limits", {})["timeout"] = timeouts_ms[name]
    path = folder / "manifest.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture(scope="session")
def local(redis_client: RedisClient, photo_root: Path) -> Iterator[LocalFindMe]:
    with LocalFindMe(photo_root=photo_root, compare_workers=2) as running:
        yield running


# What a test of the shared engine may spend of OpenWhisk's 60 a minute without
# meeting the earlier tests' spending: a test that starts with less waits for the
# wall-clock minute to turn (the limit's own reset), not for a 429 in its middle.
MINUTE_HEADROOM = 20


@pytest.fixture(autouse=True)
def minute_headroom(request: pytest.FixtureRequest) -> None:
    if "local" not in request.fixturenames:
        return
    engine = request.getfixturevalue("local").engine
    limits = engine.config.limits
    while (
        engine.invocations.spent() > limits.invocations_per_minute - MINUTE_HEADROOM
        or engine.fires.spent() > limits.fires_per_minute - MINUTE_HEADROOM
    ):
        time.sleep(60 - time.time() % 60 + 0.1)


# The page tests run many people's searches a minute through one namespace: as on a
# cluster whose operator raised `invocationsPerMinute` for that, they get their own
# engine with more invocations a minute. Every other limit stays OpenWhisk's
# default, and the page's own 429 handling is tested with refused answers.
BUSY_CLUSTER = Limits(invocations_per_minute=1200, fires_per_minute=600)


@pytest.fixture(scope="module")
def busy_local(redis_client: RedisClient, photo_root: Path) -> Iterator[LocalFindMe]:
    with LocalFindMe(photo_root=photo_root, compare_workers=2, limits=BUSY_CLUSTER) as running:
        yield running


def wait_out_429(call: Callable[[], Any], attempts: int = 3) -> Any:
    """An HTTP call that waits out OpenWhisk's 429 (counted per wall-clock minute,
    with no Retry-After), as every FindMe client does."""
    for _ in range(attempts):
        answer = call()
        if answer.status_code != 429:
            return answer
        time.sleep(60 - time.time() % 60 + 0.5)
    return answer


@pytest.fixture()
def client(local: LocalFindMe) -> OpenWhiskClient:
    return OpenWhiskClient(local.api_host, local.auth)


def wait_for_job(client: OpenWhiskClient, job_id: str, timeout: float = 120) -> dict:
    """Waits for the job's end in Redis (no invocations: the engine enforces
    OpenWhisk's 60 a minute), then reads its status as a user would."""
    jobs = suite_redis()
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = jobs.hget(keys.job_key(job_id), "state")
        if state in (b"done", b"failed", b"cancelled"):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"job {job_id} did not finish in {timeout}s: {state}")
    _, status = client.invoke("search_status", {"job_id": job_id, "limit": 1000})
    return status
