"""One warm worker process: loads an action file as OpenWhisk's Python runtime does
and runs activations sent over a pipe, keeping its globals (and models) between them."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import runpy
import sys
import traceback
from multiprocessing.connection import Connection
from typing import Any

from findme import replay
from findme.settings import Settings


class _LogLines:
    """A stream that keeps what the action prints as OpenWhisk log lines."""

    def __init__(self, stream: str, lines: list[str]) -> None:
        self.stream, self.lines, self._partial = stream, lines, ""

    def write(self, text: str) -> int:
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        for line in complete:
            stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
            self.lines.append(f"{stamp.replace('+00:00', 'Z')} {self.stream}: {line}")
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self.write("\n")

    def isatty(self) -> bool:
        return False


def _run(main: Any, params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    # Tests replay recorded third-party answers; the cassette is a bound parameter.
    replay.install_from(Settings.load(params, env={}).replay_file)
    lines: list[str] = []
    out, err = _LogLines("stdout", lines), _LogLines("stderr", lines)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result = main(params)
            if not isinstance(result, dict):
                result = {"error": "The action did not return a dictionary."}
        except Exception as error:
            traceback.print_exc()
            result = {"error": f"An error has occurred: {type(error).__name__}"}
        out.flush()
        err.flush()
    return result, lines


def serve(conn: Connection, action_file: str, env: dict[str, str]) -> None:
    """The worker's loop: (activation env, params) in, (result, logs) out.

    env is the whole environment the worker runs with, built as OpenWhisk's
    runtime builds it: nothing of the engine's own environment."""
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, os.path.dirname(action_file))
    main = runpy.run_path(action_file, run_name="__action__")["main"]
    try:
        conn.send(("ready", os.getpid()))
    except OSError:  # the engine stopped while this worker was starting
        return
    while True:
        try:
            activation_env, params = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):  # the engine has gone
            return
        for name in [n for n in os.environ if n.startswith("__OW_")]:
            del os.environ[name]  # one activation's values never leak into the next
        os.environ.update(env)
        os.environ.update(activation_env)
        result = _run(main, params)
        try:
            conn.send(result)
        except OSError:  # the engine has gone (its command ended): so does this worker
            return
