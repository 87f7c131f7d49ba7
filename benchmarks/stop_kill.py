"""Kill test of the embedded Redis: acknowledged writes, then a stop of `findme serve`.

For each way to stop it, a real `findme serve` on a fresh data directory (no
REDIS_URL) takes writes (RPUSH, each one acknowledged) on its embedded Redis for
a few seconds; then the signal goes to its whole process group, as a terminal
sends Ctrl-C, while the writes go on until Redis stops answering or `findme
serve` has ended. The next `findme` on the same data counts what it finds.
"redis-server SIGKILL" kills Redis itself instead (the worst a process can
suffer; only a crash of the machine could lose more: the last second, fsync).

    env -u REDIS_URL .venv/bin/python benchmarks/stop_kill.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from findme.local.embedded_redis import EmbeddedRedis  # noqa: E402

KEY = "findme:test:writes"
STOPS = {
    "Ctrl-C (SIGINT to the group)": ("group", signal.SIGINT),
    "SIGTERM to the group": ("group", signal.SIGTERM),
    "closed terminal (SIGHUP to the group)": ("group", signal.SIGHUP),
    "crash (SIGKILL to the group)": ("group", signal.SIGKILL),
    "redis-server SIGKILL": ("redis", signal.SIGKILL),
}


def _serve(home: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["XDG_DATA_HOME"] = str(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "findme", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal gives it
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("FindMe is running"):
        raise RuntimeError(f"findme serve did not start: {line}")
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return process


def kill_test(target: str, number: int, seconds: float) -> tuple[int, int]:
    """(writes acknowledged, writes found by the next start)."""
    with tempfile.TemporaryDirectory(prefix="findme-kill-") as home:
        data = Path(home) / "findme"
        serve = _serve(Path(home))
        client = redis.Redis(unix_socket_path=str(data / "redis.sock"), retry=None)
        redis_pid = int(client.info("server")["process_id"])
        acknowledged, signal_at = 0, time.monotonic() + seconds
        while True:
            try:
                client.rpush(KEY, acknowledged)
            except (redis.RedisError, OSError):
                break  # Redis stopped
            acknowledged += 1
            if signal_at and time.monotonic() > signal_at:
                signal_at = 0
                if target == "group":
                    os.killpg(serve.pid, number)
                else:
                    os.kill(redis_pid, number)
            if not signal_at and acknowledged % 100 == 0 and serve.poll() is not None:
                break  # findme serve ended, its Redis kept running
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGINT)
        serve.wait(60)
        following = EmbeddedRedis(data)
        try:
            kept = redis.Redis.from_url(following.url).llen(KEY)
        finally:
            following.close()
        return acknowledged, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="writes before the signal")
    args = parser.parse_args()
    for name, (target, number) in STOPS.items():
        acknowledged, kept = kill_test(target, number, args.seconds)
        # A write Redis made as it stopped, whose answer never came back, is kept too.
        lost = max(0, acknowledged - kept)
        print(f"{name:38} {acknowledged:6} acknowledged, {kept:6} kept, {lost} lost")


if __name__ == "__main__":
    main()
