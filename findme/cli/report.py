"""`findme report`: the matches of a search as an HTML page, CSV, JSON or a zip of
the original photos."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from findme import report
from findme.cli.errors import UsageError
from findme.cli.job_store import open_job_store
from findme.download import fetch
from findme.errors import BadRequest
from findme.images import PhotoError
from findme.settings import Settings
from findme.sources.folder import FolderSource, inside_root
from findme.stages.status import status_document


def register(commands: argparse._SubParsersAction) -> None:
    trip = commands.add_parser("report", help="the matches of a finished search, as a report")
    trip.add_argument("job_id")
    trip.add_argument(
        "--format",
        choices=("html", "csv", "json", "zip"),
        default="html",
        help="html: a page with the photos; csv, json: lists; zip: the original photos",
    )
    trip.add_argument(
        "--output",
        "-o",
        type=Path,
        help="the file to write (default: findme-QUERY-DATE.EXT here; - for stdout)",
    )
    trip.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_job_store() as store:
        status = store.status(args.job_id)  # every match and failed photo, unpaged
        if status is None:
            raise UsageError(f"no job {args.job_id} (unknown or expired)")
        document = {**status_document(status), "photo_root": status.fields.get("photo_root")}
        document["folder"] = status.fields.get("folder", "")
        document["references"] = status.fields.get("references", "[]")
        output = args.output or Path(_report_name(document, args.format))
        if args.format == "zip":
            if str(output) == "-":
                raise UsageError("a zip is written to a file: give --output FILE.zip")
            written, missing = _write_zip(output, document, _photo_reader(status.fields))
            lost = f"; {missing} could not be read" if missing else ""
            print(f"wrote {output}: {written} photos{lost}", file=sys.stderr)
            return 0 if not missing else 1
        if args.format == "csv":
            text = report.to_csv(document)
        elif args.format == "json":
            text = report.to_json(document)
        else:
            text = report.to_html(document, _photo_reader(status.fields))
    if str(output) == "-":
        sys.stdout.write(text)
    else:
        output.write_text(text)
        print(f"wrote {output} ({len(document['matches'])} matches)", file=sys.stderr)
    return 0


def _report_name(document: dict[str, Any], extension: str) -> str:
    """findme-{query or folder}-{date}.{ext}: a name that says which search it was."""
    what = document.get("query") or Path(document.get("photo_root") or "").name or "search"
    words = re.sub(r"[^\w]+", "-", what).strip("-")[:40] or "search"
    day = dt.datetime.fromtimestamp(document.get("created") or 0, dt.timezone.utc)
    return f"findme-{words}-{day:%Y-%m-%d}.{extension}"


def _write_zip(path: Path, document: dict[str, Any], read: Callable) -> tuple[int, int]:
    """The matched originals as one zip; returns (photos written, photos missing)."""
    written = missing = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for match in document["matches"]:
            data = read(match)
            if data is None:
                missing += 1
                continue
            name = match["photo"].split("://")[-1].split("?")[0].lstrip("/")
            archive.writestr(name, data)
            written += 1
            if sys.stderr.isatty():
                print(f"\r{written} of {len(document['matches'])} photos", end="", file=sys.stderr)
    return written, missing


def _photo_reader(job: dict[str, str]) -> Callable[[dict[str, Any]], bytes | None]:
    """Reads a matched photo for the report: from the job's folder, or its media host."""
    settings = Settings.load()

    def read(match: dict[str, Any]) -> bytes | None:
        try:
            if job.get("source") == "folder" and job.get("photo_root"):
                root = Path(job["photo_root"]).resolve()
                folder = inside_root(root, job.get("folder", "."), "folder")
                return FolderSource(root=root, folder=folder).read(match)
            return fetch(match["photo"], settings.allowed_media_hosts)
        except (PhotoError, BadRequest):
            return None

    return read
