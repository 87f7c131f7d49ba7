"""The `findme` command (and `python -m findme`).

`findme search` and `findme serve` start the local engine's fork server first:
it imports the stages and loads dlib's models (about 0.45 s) while this process
imports the rest of the CLI and starts Redis, instead of after.
"""

from __future__ import annotations

import sys


def main() -> int:
    if sys.argv[1:2] in (["search"], ["serve"]):
        from findme.local.pool import start_fork_server

        start_fork_server()
    from findme.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
