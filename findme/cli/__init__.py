"""The `findme` command: one module a command, each with `register(commands)`, which
adds its parser and sets `run`, and `run(args) -> int`. A new command is a module
here and a line in COMMANDS; what commands share lives beside them (search_params,
follow, output, job_store, local_engine)."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from findme import __version__
from findme.cli import cancel, delete, event, jobs, report, search, serve
from findme.cli import eval as evaluate
from findme.cli.errors import UsageError
from findme.errors import ActionError
from findme.store import REDIS_ERRORS

# In the order `findme --help` lists them.
COMMANDS = (search, serve, event, report, jobs, evaluate, cancel, delete)

__all__ = ["COMMANDS", "UsageError", "build_parser", "main"]


DESCRIPTION = """\
Find every photo of a person among the photos of an event: a folder, the posts of
an X, Mastodon or Bluesky search, or a list of photo URLs. Give FindMe a photo of
the person (or their username, for their profile picture); it keeps the photos
with their face in them, and says how close each face is."""

EXAMPLES = """\
examples:
  findme search --reference me.jpg --folder ~/Pictures/pycon
  findme search --reference me.jpg --reference me2.jpg --folder event/
  findme search --handle @ada@mastodon.social --query '#pycon' --server mastodon.social
  findme search --reference me.jpg --urls photo-urls.txt
  findme jobs                  the searches so far, with their job ids
  findme report JOB_ID         an HTML page of the matches (--format csv|json|zip)
  findme serve --photos ~/Pictures
                               the search page at http://127.0.0.1:3233/

Run findme COMMAND --help for the flags of a command."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="findme",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"findme {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", title="commands"
    )
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
