"""`findme report`: the matches of a search as an HTML page, CSV, JSON or a zip of
the original photos."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from findme import report
from findme.cli.errors import UsageError
from findme.cli.job_store import add_job_id_argument, open_job_store
from findme.download import fetch
from findme.errors import BadRequest
from findme.images import PhotoError
from findme.job_words import search_name
from findme.settings import Settings
from findme.sources import SourceUnavailable
from findme.sources.bluesky import CDN_HOSTS
from findme.sources.folder import FolderSource, inside_root
from findme.sources.mastodon_server import MastodonServer
from findme.stages.status import status_document


def register(commands: argparse._SubParsersAction) -> None:
    trip = commands.add_parser(
        "report",
        help="the matches of a search, as a report",
        description="The matches of a search (finished, stopped or still running) as one "
        "HTML page with the photos inside, a CSV or JSON list, or a zip of the original "
        "photos. The report says whether the search ended, who it looked for and where.",
    )
    add_job_id_argument(trip)
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
        metavar="FILE",
        help="the file to write (default: findme-QUERY-DATE.EXT here, never replacing an "
        "earlier report; - for stdout)",
    )
    trip.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_job_store() as store:
        status = store.status(args.job_id)  # every match and failed photo, unpaged
        if status is None:
            raise UsageError(f"no job {args.job_id} (unknown or expired)")
        # The record's words (servers, reference files) beside the status's counts.
        document = {**status.fields, **status_document(status)}
        document["photo_root"] = status.fields.get("photo_root")
        document["folder"] = status.fields.get("folder", "")
        output, replaced = _output(args, document)
        if args.format == "zip":
            if str(output) == "-":
                raise UsageError("a zip is written to a file: give --output FILE.zip")
            written, missing = _write_zip(output, document, _photo_reader(status.fields))
            lost = f"; {missing} could not be read" if missing else ""
            print(f"wrote {output}: {written} photos{lost}{replaced}", file=sys.stderr)
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
        found = len(document["matches"])
        print(
            f"wrote {output} ({found} match{'' if found == 1 else 'es'}{replaced})",
            file=sys.stderr,
        )
    return 0


def _output(args: argparse.Namespace, document: dict[str, Any]) -> tuple[Path, str]:
    """The file to write, and the words that say what it replaced: a name the person
    gave replaces that file (and says so); a default name never replaces a report."""
    if args.output is not None:
        given = args.output
        replaces = str(given) != "-" and given.exists()
        return given, ", replacing the file that was there" if replaces else ""
    first = Path(_report_name(document, args.format))
    output, number = first, 1
    while output.exists():
        number += 1
        output = first.with_name(f"{first.stem}-{number}{first.suffix}")
    return output, f"; {first} was there already" if output != first else ""


def _report_name(document: dict[str, Any], extension: str) -> str:
    """findme-{query, folder or source}-{date}.{ext}: a name that says which search it
    was (the page names its reports the same way)."""
    words = re.sub(r"[^\w]+", "-", search_name(document)).strip("-")[:40] or "search"
    day = dt.datetime.fromtimestamp(document.get("created") or 0, dt.timezone.utc)
    return f"findme-{words}-{day:%Y-%m-%d}.{extension}"


def _write_zip(path: Path, document: dict[str, Any], read: Callable) -> tuple[int, int]:
    """The matched originals as one zip; returns (photos written, photos missing)."""
    written = missing = 0
    taken: set[str] = set()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for match in document["matches"]:
            data = read(match)
            if data is None:
                missing += 1
                continue
            name = _member_name(match["photo"], taken)
            taken.add(name)
            archive.writestr(name, data)
            written += 1
            if sys.stderr.isatty():
                print(f"\r{written} of {len(document['matches'])} photos", end="", file=sys.stderr)
    return written, missing


def _member_name(photo: str, taken: set[str]) -> str:
    """A photo's name in the zip: its path (a URL's host and path, without query or
    fragment), never climbing out of the folder it is unpacked in (no `..`, no leading
    `/`, no backslash), and never one already taken."""
    parts = urlsplit(photo)
    text = f"{parts.netloc}{parts.path}" if parts.scheme else photo
    segments = [s for s in text.replace("\\", "/").split("/") if s not in ("", ".", "..")]
    name = "/".join(segments) or "photo"
    stem, dot, suffix = name.rpartition(".")
    number = 1
    while name in taken:
        number += 1
        name = f"{stem}-{number}.{suffix}" if dot else f"{suffix}-{number}"
    return name


def _download_hosts(job: dict[str, str], settings: Settings) -> frozenset[str]:
    """Where a search's matched photos may be downloaded from, as its source allows."""
    source = job.get("source")
    if source == "urls":
        return settings.url_hosts
    if source == "bluesky":
        return CDN_HOSTS
    if source == "mastodon":  # each server and its media host, as the listing allowed
        hosts: set[str] = set()
        for server in json.loads(job.get("servers") or "[]"):
            try:
                hosts |= MastodonServer(server, settings).info().hosts
            except SourceUnavailable:
                hosts.add(server)
        return frozenset(hosts)
    return settings.allowed_media_hosts


def _photo_reader(job: dict[str, str]) -> Callable[[dict[str, Any]], bytes | None]:
    """Reads a matched photo for the report: from the job's folder, or where its source
    keeps it (a media host, a Mastodon server's, an organiser's photo host)."""
    settings = Settings.load()
    hosts: frozenset[str] | None = None

    def read(match: dict[str, Any]) -> bytes | None:
        nonlocal hosts
        try:
            if job.get("source") == "folder" and job.get("photo_root"):
                root = Path(job["photo_root"]).resolve()
                folder = inside_root(root, job.get("folder", "."), "folder")
                return FolderSource(root=root, folder=folder).read(match)
            hosts = _download_hosts(job, settings) if hosts is None else hosts
            return fetch(match["photo"], hosts)
        except (PhotoError, BadRequest):
            return None

    return read
