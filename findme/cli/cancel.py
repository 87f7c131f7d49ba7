"""`findme cancel`: stop a running search; it can be resumed."""

from __future__ import annotations

import argparse

from findme.cli.errors import UsageError
from findme.cli.job_store import add_job_id_argument, open_job_store


def register(commands: argparse._SubParsersAction) -> None:
    cancel = commands.add_parser(
        "cancel",
        help="stop a running search (it can be resumed)",
        description="Stop a running search, from another terminal or after its process "
        "was killed. What it found stays; findme search --resume JOB_ID goes on.",
    )
    add_job_id_argument(cancel)
    cancel.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_job_store() as store:
        state, stopped = store.cancel(args.job_id)
    if state == "unknown":
        raise UsageError(f"no job {args.job_id} (unknown or expired)")
    if stopped:
        print(f"stopped job {args.job_id}; go on with: findme search --resume {args.job_id}")
    else:
        print(f"job {args.job_id} had already ended ({state})")
    return 0
