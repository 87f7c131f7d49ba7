"""Stopping `findme serve` loses nothing (issue 23): Ctrl-C (SIGINT to the terminal's
whole process group), SIGTERM, a closed terminal (SIGHUP) or a crash (SIGKILL) of a
real `findme serve` with its embedded Redis, in the middle of a search; started again
on the same data, the search is still there and finishes with the exact counts."""

from __future__ import annotations

import base64
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from findme import reference
from findme.jobs import FINAL_STATES, JobStore, new_job_id
from findme.local.embedded_redis import EmbeddedRedis
from findme.settings import Settings
from tests import photo_variants as pv
from tests.conftest import make_event_folder, wait_out_429

OBAMA = base64.b64encode((pv.PHOTOS / "obama.jpg").read_bytes()).decode()
COPIES = 6  # of each event photo: a search long enough to be stopped in the middle
START_SECONDS = 300  # a loaded machine: the fork server loads the models first
SEARCH_SECONDS = 600


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    """A photo root whose folder "crowd" holds distinct copies of the event's photos
    (a byte more each: the face cache knows none of them); returns the root, how many
    photos, and how many show Obama."""
    root = tmp_path_factory.mktemp("stop-root")
    event = tmp_path_factory.mktemp("stop-event")
    contains_obama = make_event_folder(event)
    photos = matches = 0
    for copy in range(COPIES):
        for name, obama in contains_obama.items():
            target = root / "crowd" / f"{copy}-{name.replace('/', '-')}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((event / name).read_bytes() + bytes([copy]))
            photos, matches = photos + 1, matches + obama
    return root, photos, matches


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Serve:
    """A real `findme serve` in a process group of its own, as a terminal runs it
    (and so that signalling its group never reaches the test runner)."""

    def __init__(self, root: Path, data: Path, port: int, *, sigint_ignored: bool = False) -> None:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env["XDG_DATA_HOME"] = str(data)  # the embedded Redis keeps its data there
        command = ["serve", "--port", str(port), "--workers", "2", "--photos", str(root)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "findme", *command],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            # As `findme serve &` in a script, or under nohup, starts it.
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
            if sigint_ignored
            else None,
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.api = f"http://127.0.0.1:{port}"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def wait_running(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while (line := self._lines.get(timeout=max(0, deadline - time.monotonic()))) is not None:
            if line.startswith("FindMe is running"):
                return
        raise AssertionError("findme serve did not start:\n" + "".join(self.output))

    def last_words(self) -> str:
        """All it printed, once it has ended (its output read to the end)."""
        self._reader.join(timeout=60)
        return "".join(self.output)

    def signal(self, number: int) -> None:
        os.killpg(self.process.pid, number)  # as the terminal does: the whole group

    def stop(self) -> None:
        if self.process.poll() is None:
            self.signal(signal.SIGINT)
            self.process.wait(timeout=120)


@pytest.fixture()
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """XDG_DATA_HOME of the `findme serve` runs; whatever Redis they leave is stopped."""
    home = tmp_path_factory.mktemp("data")  # short: the Redis socket sits in it
    yield home
    if (home / "findme" / "redis.pid").exists():
        EmbeddedRedis(home / "findme").close()


def _store(data: Path) -> JobStore:
    client = redis.Redis(unix_socket_path=str(data / "findme" / "redis.sock"), retry=None)
    return JobStore(client, 3600)


def _wait_for(what: str, check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"waited {timeout} s for {what}")


@pytest.mark.parametrize(
    ("stop", "whole_group"),
    [(signal.SIGINT, True), (signal.SIGKILL, True), (signal.SIGKILL, False)],
    # A crash of findme serve alone leaves its workers finishing their activations.
    ids=["ctrl-c", "crash", "crash-of-findme-alone"],
)
def test_a_search_stopped_with_findme_serve_goes_on_when_it_starts_again(
    crowd: tuple[Path, int, int], data: Path, stop: signal.Signals, whole_group: bool
) -> None:
    root, photos, matches = crowd
    port = _free_port()
    first = Serve(root, data, port)
    try:
        first.wait_running()
        started = wait_out_429(
            lambda: requests.post(
                f"{first.api}/api/v1/web/guest/findme/register_search.http",
                json={"folder": "crowd", "reference_image": OBAMA},
                timeout=120,
            )
        )
        assert started.status_code == 200, started.text
        job_id = started.json()["job_id"]
        store = _store(data)
        # In the middle of the search: some photos compared, not all.
        progress = _wait_for(
            "photos compared",
            lambda: (found := store.progress(job_id)) and found["photos_done"] >= 2 and found,
            SEARCH_SECONDS,
        )
        assert progress["photos_done"] < photos, "the search ended before it was stopped"
        if whole_group:
            first.signal(stop)
        else:
            first.process.send_signal(stop)
        first.process.wait(timeout=120)
    finally:
        first.stop()
    if stop == signal.SIGINT:
        assert "FindMe stopped." in first.last_words()  # a clean stop, not a crash
    second = Serve(root, data, port)
    try:
        second.wait_running()
        assert store.progress(job_id) is not None, "the search no longer exists"
        _wait_for(
            "the search's end",
            lambda: (store.state(job_id) or "gone") in FINAL_STATES | {"gone"},
            SEARCH_SECONDS,
        )
        # What the page shows.
        status = wait_out_429(
            lambda: requests.get(
                f"{second.api}/api/v1/web/guest/findme/search_status.http",
                params={"job_id": job_id},
                timeout=60,
            )
        ).json()
        assert status["state"] == "done", status.get("error")
        assert status["photos_total"] == photos
        assert status["photos_done"] == photos and status["photos_failed"] == 0
        assert status["matches_total"] == matches
    finally:
        second.stop()


@pytest.mark.parametrize(
    "stop",
    [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL],
    ids=["ctrl-c", "sigterm", "closed-terminal", "crash"],
)
def test_every_acknowledged_write_survives_findme_serve_stopping(
    crowd: tuple[Path, int, int], data: Path, stop: signal.Signals
) -> None:
    root, _, _ = crowd
    serve = Serve(root, data, _free_port())
    acknowledged = 0
    try:
        serve.wait_running()
        client = _store(data).redis
        # Writes go on while the signal arrives and findme serve stops, until Redis
        # stops answering or findme serve has ended (a crash leaves Redis running).
        while serve.process.poll() is None:
            try:
                client.rpush("findme:test:writes", acknowledged)
            except (redis.ConnectionError, OSError):
                break
            acknowledged += 1
            if acknowledged == 2000:
                serve.signal(stop)
        serve.process.wait(timeout=120)
    finally:
        serve.stop()
    assert acknowledged > 2000
    again = EmbeddedRedis(data / "findme")  # the next `findme` on the same data
    try:
        kept = redis.Redis.from_url(again.url).lrange("findme:test:writes", 0, -1)
    finally:
        again.close()
    kept_values = [int(value) for value in kept]
    assert kept_values[:acknowledged] == list(range(acknowledged))
    # Beyond them, at most the write Redis made as it stopped, its answer lost.
    assert len(kept_values) <= acknowledged + 1


def test_ctrl_c_stops_findme_serve_started_with_interrupts_ignored(
    crowd: tuple[Path, int, int], data: Path
) -> None:
    root, _, _ = crowd
    serve = Serve(root, data, _free_port(), sigint_ignored=True)
    try:
        serve.wait_running()
        serve.signal(signal.SIGINT)
        serve.process.wait(timeout=120)
    finally:
        serve.stop()
    assert "FindMe stopped." in serve.last_words()


class Stopped(BaseException):
    """Stands for the end of the process (Ctrl-C, a crash) in the middle of a step."""


def test_a_search_stopped_while_its_reference_is_computed_keeps_the_uploaded_photo(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The uploaded photo was deleted as it was read: a search stopped before its
    # descriptor was saved failed on restart ("the uploaded photo is no longer available").
    store = JobStore(redis_client, 3600)
    job_id = new_job_id()
    references = '[{"kind": "image", "value": ""}]'
    photo = (pv.PHOTOS / "obama.jpg").read_bytes()
    store.create(job_id, {"job_id": job_id, "references": references}, uploads={0: photo})
    settings = Settings.load({"reference_jitters": "1"})
    encode = reference._reference_face

    def stopped(*args: Any, **kwargs: Any) -> None:
        raise Stopped

    monkeypatch.setattr(reference, "_reference_face", stopped)
    with pytest.raises(Stopped):
        reference.prepare_references(job_id, store.fields(job_id) or {}, store, settings)
    monkeypatch.setattr(reference, "_reference_face", encode)
    reference.prepare_references(job_id, store.fields(job_id) or {}, store, settings)
    assert reference.load_references(job_id, store.fields(job_id) or {}, store) is not None
    assert store.uploads(job_id) == {}  # deleted once the descriptor is kept
