"""The `findme` command: one module a command, each with `register(commands)`, which
adds its parser and sets `run`, and `run(args) -> int`. A new command is a module
here and a line in COMMANDS; what commands share lives beside them (search_params,
follow, output, job_store, local_engine)."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from findme.cli import cancel, delete, jobs, report, search, serve
from findme.cli import eval as evaluate
from findme.cli.errors import UsageError
from findme.errors import ActionError
from findme.store import REDIS_ERRORS

# In the order `findme --help` lists them.
COMMANDS = (search, serve, report, jobs, evaluate, cancel, delete)

__all__ = ["COMMANDS", "UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="findme", description="The `findme` command.")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.run(args)
        sys.stdout.flush()  # a closed pipe is found here, not at exit
        return code
    except UsageError as error:
        print(f"findme: error: {error}", file=sys.stderr)
        return 2
    except REDIS_ERRORS as error:
        print(f"findme: error: Redis did not answer: {error}", file=sys.stderr)
        return 1
    except ActionError as error:  # REDIS_URL that names no Redis FindMe can use
        print(f"findme: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `findme jobs | head -3`: the reader left. What is left unwritten goes
        # nowhere, quietly, and the status is a program's stopped by SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
