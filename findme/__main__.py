"""The `findme` command (and `python -m findme`).

`findme search` and `findme serve` start the local engine's fork server first:
it imports the stages and loads dlib's models (about 0.45 s) while this process
imports the rest of the CLI and starts Redis, instead of after.
"""

from __future__ import annotations

import signal
import sys


def main() -> int:
    if sys.argv[1:2] in (["search"], ["serve"]):
        from findme.local.pool import start_fork_server

        # The fork server and every worker it forks ignore Ctrl-C: the command
        # handles it once, cleanly (cancel, resume hint), without worker tracebacks.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        start_fork_server()
        signal.signal(signal.SIGINT, previous)
    from findme.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
