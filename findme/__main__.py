"""The `findme` command (and `python -m findme`).

`findme search` and `findme serve` start the local engine's fork server first:
it imports the stages and loads dlib's models (about 0.45 s) while this process
imports the rest of the CLI and starts Redis, instead of after.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def _workers_stderr(to_log: bool) -> Iterator[None]:
    """For `findme search`, the fork server and its workers write their own stderr
    (never an activation's logs, which are captured) to a log file: a worker that
    ends with the command must not print on the person's terminal."""
    if not to_log:
        yield
        return
    import platformdirs

    directory = Path(platformdirs.user_log_dir("findme"))
    directory.mkdir(parents=True, exist_ok=True)
    saved = os.dup(2)
    with open(directory / "workers.log", "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def main() -> int:
    try:
        return _run()
    except KeyboardInterrupt:  # Ctrl-C before the command took over (while importing)
        return 130


def _run() -> int:
    if sys.argv[1:2] in (["search"], ["serve"]):
        from findme.local.pool import start_fork_server

        # The fork server and every worker it forks ignore Ctrl-C: the command
        # handles it once, cleanly (cancel, resume hint), without worker tracebacks.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        with _workers_stderr(sys.argv[1] == "search"):
            start_fork_server()
        signal.signal(signal.SIGINT, previous)
    from findme.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
