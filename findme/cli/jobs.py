"""`findme jobs`: the searches of this data directory, newest first."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from findme.cli.job_store import open_job_store


def register(commands: argparse._SubParsersAction) -> None:
    jobs = commands.add_parser("jobs", help="list the searches of this data directory")
    jobs.add_argument("--json", action="store_true")
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
    print(f"{'job id':<32}  {'state':<9}  {'started (UTC)':<16}  {'photos':>11}  matches  what")
    for row in map(_job_row, rows):
        photos = f"{row['photos_done']}/{row['photos_total']}"
        print(
            f"{row['job_id']:<32}  {row['state']:<9}  {row['created']:<16}  {photos:>11}"
            f"  {row['matches']:>7}  {row['what']}"
        )
    return 0


def _job_row(status: Any) -> dict[str, Any]:
    fields = status.fields
    created = dt.datetime.fromtimestamp(float(fields.get("created", 0)), dt.timezone.utc)
    what = fields.get("query") or (
        f"folder {Path(fields.get('photo_root', '')) / fields.get('folder', '')}"
        if fields.get("source") == "folder"
        else ""
    )
    return {
        "job_id": status.job_id,
        "state": status.state,
        "created": f"{created:%Y-%m-%d %H:%M}",
        "photos_done": status.photos_done,
        "photos_total": status.photos_total,
        "matches": len(status.matches),
        "what": what,
    }
