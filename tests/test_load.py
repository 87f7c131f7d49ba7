"""Load: twenty searches of fifty photos at once through `findme serve`."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests

from tests import photo_variants as pv

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
SEARCHES, PHOTOS = 20, 50


def _event(folder: Path) -> set[str]:
    """Fifty small photos, every fifth of Obama."""
    folder.mkdir(parents=True)
    obama = [pv.photo("obama2.jpg"), pv.photo("obama3.jpg")]
    others = [pv.photo("biden.jpg"), pv.no_face(pv.photo("obama3.jpg"))]
    expected = set()
    for index in range(PHOTOS):
        shows_obama = index % 5 == 0
        image = obama[index % 2] if shows_obama else others[index % 2]
        if shows_obama:
            expected.add(f"{index:02d}.jpg")
        (folder / f"{index:02d}.jpg").write_bytes(pv.encoded(pv.shrunk(image, 360 + index)))
    return expected


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PeakMemory(threading.Thread):
    """The largest resident memory of a process and its children, sampled."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process, self.peak_mb, self.running = psutil.Process(pid), 0.0, True

    def run(self) -> None:
        while self.running:
            try:
                tree = [self.process, *self.process.children(recursive=True)]
                total = sum(p.memory_info().rss for p in tree if p.is_running())
                self.peak_mb = max(self.peak_mb, total / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.2)


def test_twenty_searches_at_once(tmp_path: Path, redis_client: object) -> None:
    expected = _event(tmp_path / "photos" / "event")
    port = _port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "findme",
            "serve",
            "--photos",
            str(tmp_path / "photos"),
            "--port",
            str(port),
            # A cluster configured for twenty people at once (OpenWhisk's defaults
            # are 60 invocations a minute and 30 in flight for the whole namespace).
            "--invocations-per-minute",
            "2000",
            "--fires-per-minute",
            "600",
            "--concurrent-invocations",
            "200",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().startswith("FindMe is running: open the search page at")
        web = f"http://127.0.0.1:{port}/api/v1/web/guest/findme"
        memory = PeakMemory(server.pid)
        memory.start()
        reference = base64.b64encode((pv.PHOTOS / "obama.jpg").read_bytes()).decode()
        started = time.monotonic()

        def search(_: int) -> dict:
            answer = requests.post(
                f"{web}/register_search.http",
                timeout=60,
                json={"folder": "event", "reference_image": reference},
            )
            job_id = answer.json()["job_id"]
            while True:
                status = requests.get(
                    f"{web}/search_status.http", params={"job_id": job_id}, timeout=60
                ).json()
                if status["state"] in ("done", "failed"):
                    return status
                time.sleep(0.5)

        with ThreadPoolExecutor(SEARCHES) as pool:
            results = list(pool.map(search, range(SEARCHES)))
        wall = time.monotonic() - started
        memory.running = False
        memory.join()
    finally:
        server.terminate()
        server.wait(30)
    for status in results:
        assert status["state"] == "done"
        assert status["photos_done"] == PHOTOS
        assert {m["photo"] for m in status["matches"]} == expected
    figures = {
        "searches": SEARCHES,
        "photos_each": PHOTOS,
        "wall_seconds": round(wall, 1),
        "photos_per_second": round(SEARCHES * PHOTOS / wall, 1),
        "peak_memory_mb": round(memory.peak_mb),
        "cores": os.cpu_count(),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(figures, indent=2))
    print("load:", figures)
