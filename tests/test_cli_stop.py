"""Ctrl-C on `findme search`, and a search stopped from elsewhere, on a busy machine:
never a traceback, never a lost search, and `--resume` always goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.cli_helpers import (
    OBAMA,
    busy_machine,
    distinct_photos,
    findme,
    job_id_in,
    jobs,
    photos_done,
    start_findme,
    wait_for,
    without_tracebacks,
)

PHOTOS = 16


def _job_ids() -> set[str]:
    return set(jobs().job_ids())


def _resumes_to_the_end(job_id: str, env: dict[str, str] | None = None) -> None:
    resumed = findme("search", "--json", "--resume", job_id, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert without_tracebacks(resumed.stderr), resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["job_id"] == job_id and result["state"] == "done"
    assert result["photos_total"] == result["photos_done"] == PHOTOS
    assert len(result["matches"]) == PHOTOS


@pytest.mark.parametrize("moment", ["registered", "started", "comparing"])
def test_ctrl_c_on_a_busy_machine_stops_cleanly_and_resumes(tmp_path: Path, moment: str) -> None:
    folder = tmp_path / "photos"
    distinct_photos(folder, moment[0], PHOTOS)
    before = _job_ids()
    with busy_machine():
        search = start_findme(
            "search", "--workers", "1", "--reference", OBAMA, "--folder", str(folder)
        )
        if moment == "registered":  # the job is in Redis; its id may not be printed yet
            wait_for(lambda: _job_ids() - before, "the job's record")
        elif moment == "started":  # queued: nothing listed yet
            assert "findme: search " in search.stderr.readline()
        else:
            wait_for(lambda: _job_ids() - before, "the job's record")
            (job_id,) = _job_ids() - before
            wait_for(lambda: photos_done(job_id) >= 2, "two photos compared")
        os.killpg(search.pid, signal.SIGINT)
        _, err = search.communicate(timeout=120)
    assert search.returncode == 130, err
    assert without_tracebacks(err), err
    (job_id,) = _job_ids() - before
    assert f"findme: stopped search {job_id}" in err
    assert f"Go on with: findme search --resume {job_id}" in err
    if moment == "comparing":
        done = int(err.split(" after ", 1)[1].split(" of ")[0])
        assert 2 <= done < PHOTOS and f"of {PHOTOS} photos" in err
    listed = findme("jobs")
    assert any(
        line.startswith(job_id) and " cancelled " in line for line in listed.stdout.splitlines()
    )
    _resumes_to_the_end(job_id)


def test_ctrl_c_with_the_embedded_redis_on_a_busy_machine(tmp_path: Path) -> None:
    """No REDIS_URL: the search's own Redis, whatever Ctrl-C does to it."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    folder = tmp_path / "photos"
    distinct_photos(folder, "e", PHOTOS)
    socket = tmp_path / "data" / "findme" / "redis.sock"
    with busy_machine():
        search = start_findme(
            "search", "--workers", "1", "--reference", OBAMA, "--folder", str(folder), env=env
        )
        job_id = job_id_in(search.stderr.readline())
        wait_for(lambda: photos_done(job_id, f"unix://{socket}") >= 2, "two photos compared")
        os.killpg(search.pid, signal.SIGINT)
        _, err = search.communicate(timeout=120)
        assert search.returncode == 130, err
        assert without_tracebacks(err), err
        assert f"Go on with: findme search --resume {job_id}" in err
        _resumes_to_the_end(job_id, env)


def test_a_killed_search_resumes_at_once(tmp_path: Path) -> None:
    """A crash (SIGKILL to every process of the search): nothing was cancelled, and
    nothing runs it any more; --resume sees that and goes on."""
    folder = tmp_path / "photos"
    distinct_photos(folder, "k", PHOTOS)
    search = start_findme("search", "--workers", "1", "--reference", OBAMA, "--folder", str(folder))
    job_id = job_id_in(search.stderr.readline())
    wait_for(lambda: photos_done(job_id) >= 2, "two photos compared")
    os.killpg(search.pid, signal.SIGKILL)
    search.wait(timeout=30)
    _resumes_to_the_end(job_id)
    done_twice = findme("search", "--resume", job_id)
    assert done_twice.returncode == 2 and "nothing left to search" in done_twice.stderr


def test_a_search_running_elsewhere_is_not_resumed_twice(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    distinct_photos(folder, "r", 80)  # seconds of work: still running when resumed
    search = start_findme("search", "--workers", "1", "--reference", OBAMA, "--folder", str(folder))
    job_id = job_id_in(search.stderr.readline())
    wait_for(lambda: photos_done(job_id) >= 1, "a photo compared")
    workers = psutil.Process(search.pid).children(recursive=True)
    for worker in workers:
        worker.suspend()  # still running when the second terminal asks, however fast
    try:
        refused = findme("search", "--resume", job_id)
    finally:
        for worker in workers:
            worker.resume()
    os.killpg(search.pid, signal.SIGINT)
    _, err = search.communicate(timeout=120)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.strip() == (
        f"findme: error: job {job_id} is still running (it made progress in the last 30 s); "
        f"stop it first (findme cancel {job_id}), or wait"
    )
    assert search.returncode == 130 and f"findme: stopped search {job_id}" in err, err


def test_a_search_cancelled_from_another_terminal_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    distinct_photos(folder, "c", PHOTOS)
    search = start_findme("search", "--workers", "1", "--reference", OBAMA, "--folder", str(folder))
    job_id = job_id_in(search.stderr.readline())
    wait_for(lambda: photos_done(job_id) >= 2, "two photos compared")
    # Its workers wait while the other terminal cancels, so the search is still running
    # when the cancel comes, however fast the machine.
    workers = psutil.Process(search.pid).children(recursive=True)
    for worker in workers:
        worker.suspend()
    try:
        cancelled = findme("cancel", job_id)
    finally:
        for worker in workers:
            worker.resume()
    assert cancelled.returncode == 0, cancelled.stderr
    assert "stopped job" in cancelled.stdout, cancelled.stdout
    out, err = search.communicate(timeout=120)
    assert search.returncode == 1, err
    assert "the search failed" not in err and without_tracebacks(err), err
    assert f"findme: search {job_id} was cancelled (findme cancel, or the page's Stop)" in err
    assert f"Go on with: findme search --resume {job_id}" in err
    assert "photos match" not in out  # no result line for a search that did not finish
    _resumes_to_the_end(job_id)


def test_findme_jobs_into_a_closed_pipe_is_quiet() -> None:
    """`findme jobs | head -1`: head leaves after one line; findme ends quietly."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before findme writes a word
    run = subprocess.run(
        [sys.executable, "-m", "findme", "jobs"],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    os.close(write_end)
    assert run.stderr == ""
    assert run.returncode == 141  # as for a program stopped by SIGPIPE, like git log | head
