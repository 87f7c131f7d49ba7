"""`findme delete`: a job, its matches and its reference descriptors, gone."""

from __future__ import annotations

import argparse

from findme.cli.errors import UsageError
from findme.cli.job_store import add_job_id_argument, open_job_store


def register(commands: argparse._SubParsersAction) -> None:
    delete = commands.add_parser(
        "delete",
        help="delete a search, its matches and its reference descriptors",
        description="Delete a search for good: its matches, its photo lists and its copy "
        "of the reference face descriptors (the face cache of the photos stays).",
    )
    add_job_id_argument(delete)
    delete.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_job_store() as store:
        if not store.delete(args.job_id):
            raise UsageError(f"no job {args.job_id} (unknown or expired)")
    print(f"deleted job {args.job_id}, its matches and its reference descriptors")
    return 0
