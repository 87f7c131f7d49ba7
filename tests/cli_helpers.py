"""Running `findme` as a person does: a new process, its words on stdout and stderr."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import redis
from PIL import Image

from findme.jobs import JobStore
from tests import photo_variants as pv
from tests.conftest import BROKEN, make_event_folder, suite_redis

OBAMA = str(pv.PHOTOS / "obama.jpg")


def findme(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "findme", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,
    )


def faceless_photo(folder: Path) -> Path:
    """suit.jpg: Obama's portrait with his face painted over, a photo without a face."""
    suit = folder / "suit.jpg"
    suit.write_bytes(pv.encoded(pv.no_face(pv.photo("obama.jpg"))))
    return suit


def event_folder(folder: Path) -> tuple[Path, dict[str, bool]]:
    """An event's photos and three broken files; which photos show Obama."""
    expected = make_event_folder(folder)
    for name, data in BROKEN.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data())
    return folder, expected


def start_findme(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A `findme` in a process group of its own, as a terminal runs it: Ctrl-C
    (os.killpg with SIGINT) reaches every process it started."""
    return subprocess.Popen(
        [sys.executable, "-m", "findme", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


def job_id_in(text: str) -> str:
    """The job id of "findme: search ID started" (or "resuming search ID")."""
    return text.split("search ", 1)[1].split()[0]


def wait_for(condition: Callable[[], object], what: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def jobs(url: str | None = None) -> JobStore:
    """The jobs of the tests' Redis (or of url: an embedded one), as the CLI sees them."""
    return JobStore(suite_redis() if url is None else redis.Redis.from_url(url), 3600)


def photos_done(job_id: str, url: str | None = None) -> int:
    return (jobs(url).progress(job_id) or {}).get("photos_done", 0)


def distinct_photos(folder: Path, prefix: str, count: int) -> None:
    """`count` photos of Obama, each of another size (1500 px and down) and with a
    pixel no earlier run had: no two share a face cache entry, so each is detected
    (about 60 to 100 ms a photo) and a search over them is still running when a
    test stops it after the first two."""
    folder.mkdir(parents=True, exist_ok=True)
    obama = pv.photo("obama2.jpg")
    salt = os.urandom(3)
    for i in range(count):
        longest = 1500 - 7 * i
        photo = obama.resize(
            (round(obama.width * longest / obama.height), longest), Image.Resampling.LANCZOS
        )
        photo.putpixel((0, 0), (salt[0], salt[1], salt[2]))
        (folder / f"{prefix}{i:02}.jpg").write_bytes(pv.encoded(photo, "JPEG", quality=90))


@contextlib.contextmanager
def busy_machine(burners: int = 2) -> Iterator[None]:
    """CPU burners for the length of the block: the load of a shared machine, where
    every step of a command takes longer and Ctrl-C lands anywhere."""
    processes = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(burners)]
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGKILL)
            process.wait()


def without_tracebacks(text: str) -> bool:
    return not any(
        word in text for word in ("Traceback", "KeyboardInterrupt", "BrokenPipeError", "Error:")
    )
