"""A pool of warm worker processes for one action, with the action's time limit.

A worker that overruns its limit is killed and replaced; one that dies is
replaced too, and its activation ends with an error (the job's own deadline
takes care of the photos it held).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import multiprocessing.forkserver
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from findme.local import worker
from findme.local.activations import DEVELOPER_ERROR, WHISK_ERROR, Activation
from findme.local.limits import truncated_response

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
        # The worker's whole environment: what OpenWhisk's runtime would give it.
        self.process = _context.Process(
            target=worker.serve, args=(child, action_file, dict(env)), daemon=True
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
        result_limit: int | None = None,
    ) -> None:
        self.name, self.action_file, self.size = name, action_file, size
        self.timeout = timeout_ms / 1000
        self.env = env
        self.on_finish = on_finish
        self.result_limit = result_limit
        self.tasks: queue.Queue[Task | None] = queue.Queue()
        self._workers: list[_Worker] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
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
        self._stopping.set()
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
            try:
                task = self.tasks.get(timeout=0.5)
            except queue.Empty:
                # A worker that died while idle is replaced at once, not at the next call.
                if not self._stopping.is_set() and not self._workers[index].process.is_alive():
                    self._replace(index)
                continue
            if task is None:
                return
            current = self._workers[index]
            if not current.process.is_alive():
                current = self._replace(index)  # died while idle: never fail a request for it
            result, logs, status = self._run(current, task)
            if self._stopping.is_set():
                return  # the engine is stopping: no new worker, nothing more to record
            if status is not None:
                self._replace(index)
            elif self.result_limit is not None:
                result, status = self._bounded(result)
            task.activation.complete(result, logs, status)
            if self.on_finish:
                self.on_finish(task.activation)

    def _bounded(self, result: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
        """OpenWhisk's result limit: a larger result is replaced by an error."""
        size = len(json.dumps(result, default=str).encode())
        if self.result_limit is not None and size > self.result_limit:
            return {"error": truncated_response(size, self.result_limit)}, DEVELOPER_ERROR
        return result, None

    def _run(self, current: _Worker, task: Task) -> tuple[dict[str, Any], list[str], int | None]:
        """(result, logs, status) where status is None unless the worker must be replaced."""
        try:
            if not current.wait_ready(60):
                return {"error": "The action failed to initialize."}, [], WHISK_ERROR
            # The deadline runs from when the activation starts, not when it was queued.
            deadline = int(time.time() * 1000 + self.timeout * 1000)
            current.conn.send(({**task.env, "__OW_DEADLINE": str(deadline)}, task.params))
            if not current.conn.poll(self.timeout):
                limit = int(self.timeout * 1000)
                message = f"The action exceeded its time limits of {limit} milliseconds."
                return {"error": message}, [], DEVELOPER_ERROR
            result, logs = current.conn.recv()
            return result, logs, None
        except (EOFError, OSError, BrokenPipeError):
            message = "The action did not produce a valid response and exited unexpectedly."
            return {"error": message}, [], DEVELOPER_ERROR
        except Exception as error:  # e.g. parameters that cannot be sent: never kill the loop
            log.warning("activation %s: %s", task.activation.activation_id, type(error).__name__)
            return {"error": "The action could not be run."}, [], WHISK_ERROR
