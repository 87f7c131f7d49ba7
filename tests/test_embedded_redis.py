"""The embedded Redis that `findme search` and `findme serve` start without REDIS_URL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    db = tmp_path / "redis.db"
    first = EmbeddedRedis(db)
    redis_client(first.url).set("findme:test:first", "1")
    other = subprocess.Popen(
        [sys.executable, "-c", OTHER_FINDME, str(db)],
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
    again = EmbeddedRedis(db)
    try:
        client = redis.Redis.from_url(again.url)
        assert client.get("findme:test:first") == b"1"
        assert client.get("findme:test:second") == b"2"
    finally:
        again.close()
