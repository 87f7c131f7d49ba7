"""`findme jobs`: the searches of this data directory, newest first, each with who
it looks for, where, at which threshold, and what it found."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from findme.cli.job_store import open_job_store
from findme.cli.output import printable
from findme.job_words import reference_names, where

WHO_WIDTH = 24  # a long list of reference files is cut to this, with "+N"


def register(commands: argparse._SubParsersAction) -> None:
    jobs = commands.add_parser(
        "jobs",
        help="list the searches of this data directory",
        description="The searches kept in this data directory (or REDIS_URL), newest "
        "first: their state, photos checked, matches, threshold, who they look for "
        "(the reference) and where they look.",
    )
    jobs.add_argument("--json", action="store_true", help="print them as one JSON list")
    jobs.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_job_store() as store:
        rows = [status for job_id in store.job_ids() if (status := store.status(job_id))]
    rows.sort(key=lambda s: float(s.fields.get("created", 0)), reverse=True)
    if args.json:
        print(json.dumps([_job_row(s) for s in rows], indent=2))
        return 0
    if not rows:
        print("no searches in this data directory (findme search starts one)")
        return 0
    print(
        f"{'job id':<32}  {'state':<9}  {'started (UTC)':<16}  {'photos':>11}  matches"
        f"  threshold  {'who (reference)':<{WHO_WIDTH}}  where"
    )
    for row in map(_job_row, rows):
        photos = f"{row['photos_done']}/{row['photos_total']}"
        print(
            printable(
                f"{row['job_id']:<32}  {row['state']:<9}  {row['created']:<16}  {photos:>11}"
                f"  {row['matches']:>7}  {row['threshold']:>9}  {_who(row['references'])}"
                f"  {row['where']}"
            )
        )
    return 0


def _who(names: list[str]) -> str:
    """The references in WHO_WIDTH characters: as many names as fit, then "+N"."""
    shown = ", ".join(names)
    for count in range(len(names), 0, -1):
        more = f" +{len(names) - count}" if count < len(names) else ""
        shown = ", ".join(names[:count]) + more
        if len(shown) <= WHO_WIDTH:
            break
    if len(shown) > WHO_WIDTH:
        shown = shown[: WHO_WIDTH - 1] + "…"
    return f"{shown:<{WHO_WIDTH}}"


def _job_row(status: Any) -> dict[str, Any]:
    fields = status.fields
    created = dt.datetime.fromtimestamp(float(fields.get("created", 0)), dt.timezone.utc)
    return {
        "job_id": status.job_id,
        "state": status.state,
        "created": f"{created:%Y-%m-%d %H:%M}",
        "photos_done": status.photos_done,
        "photos_total": status.photos_total,
        "matches": status.matches_total,
        "threshold": f"{float(fields.get('threshold') or 'nan'):.2f}",
        "references": reference_names(fields),
        "where": where(fields, full_path=True),
    }
