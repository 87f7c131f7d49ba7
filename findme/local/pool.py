"""A pool of warm worker processes for one action, with the action's time limit.

A worker that overruns its limit is killed and replaced; one that dies is
replaced too, and its activation ends with an error (the job's own deadline
takes care of the photos it held).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.forkserver
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from findme.local import worker
from findme.local.activations import DEVELOPER_ERROR, WHISK_ERROR, Activation

log = logging.getLogger("findme.local")
# Workers are forked from a single-threaded fork server (never from this threaded
# engine) that has imported the stages and loaded dlib's models once.
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["findme.local.preload"])


def start_fork_server() -> None:
    """Starts the fork server without waiting for it: it preloads while the caller
    goes on, and the first worker started waits for it only if it is not ready."""
    multiprocessing.forkserver.ensure_running()


@dataclass
class Task:
    activation: Activation
    params: dict[str, Any]
    env: dict[str, str]


class _Worker:
    def __init__(self, action_file: str, env: dict[str, str]) -> None:
        self.conn, child = _context.Pipe()
        # The fork server's environment is that of its start: a worker gets this
        # process's environment of now, as a spawned one would.
        self.process = _context.Process(
            target=worker.serve, args=(child, action_file, {**os.environ, **env}), daemon=True
        )
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self, timeout: float) -> bool:
        if not self.ready and self.conn.poll(timeout):
            try:
                self.ready = self.conn.recv()[0] == "ready"
            except EOFError:
                return False
        return self.ready

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class WorkerPool:
    def __init__(
        self,
        name: str,
        action_file: str,
        size: int,
        timeout_ms: int,
        env: dict[str, str],
        on_finish: Callable[[Activation], None] | None = None,
    ) -> None:
        self.name, self.action_file, self.size = name, action_file, size
        self.timeout = timeout_ms / 1000
        self.env = env
        self.on_finish = on_finish
        self.tasks: queue.Queue[Task | None] = queue.Queue()
        self._workers: list[_Worker] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.restarts = 0

    def start(self) -> None:
        self._workers = [_Worker(self.action_file, self.env) for _ in range(self.size)]
        for index in range(self.size):
            thread = threading.Thread(
                target=self._loop, args=(index,), name=f"{self.name}-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wait_ready(self, timeout: float = 60) -> bool:
        return all(w.wait_ready(timeout) for w in self._workers)

    def submit(self, task: Task) -> None:
        self.tasks.put(task)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid]

    def stop(self) -> None:
        for _ in self._threads:
            self.tasks.put(None)
        for worker_ in self._workers:
            worker_.stop()

    def _replace(self, index: int) -> _Worker:
        with self._lock:
            self._workers[index].stop()
            self._workers[index] = _Worker(self.action_file, self.env)
            self.restarts += 1
            return self._workers[index]

    def _loop(self, index: int) -> None:
        while True:
            task = self.tasks.get()
            if task is None:
                return
            current = self._workers[index]
            result, logs, status = self._run(current, task)
            if status is not None:
                self._replace(index)
            task.activation.complete(result, logs, status)
            if self.on_finish:
                self.on_finish(task.activation)

    def _run(self, current: _Worker, task: Task) -> tuple[dict[str, Any], list[str], int | None]:
        """(result, logs, status) where status is None unless the worker must be replaced."""
        try:
            if not current.wait_ready(60):
                return {"error": "The action failed to initialize."}, [], WHISK_ERROR
            current.conn.send((task.env, task.params))
            if not current.conn.poll(self.timeout):
                limit = int(self.timeout * 1000)
                message = f"The action exceeded its time limits of {limit} milliseconds."
                return {"error": message}, [], DEVELOPER_ERROR
            result, logs = current.conn.recv()
            return result, logs, None
        except (EOFError, OSError, BrokenPipeError):
            message = "The action did not produce a valid response and exited unexpectedly."
            return {"error": message}, [], DEVELOPER_ERROR
