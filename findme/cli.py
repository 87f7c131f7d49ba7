"""The `findme` command."""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from findme import report
from findme.client import OpenWhiskClient
from findme.download import fetch
from findme.errors import BadRequest
from findme.images import PhotoError, open_image
from findme.jobs import FINAL_STATES, JobStore
from findme.local.embedded_redis import EmbeddedRedis
from findme.local.engine import GUEST_AUTH
from findme.local.runner import LocalFindMe
from findme.settings import (
    DEFAULT_THRESHOLD,
    MAX_THRESHOLD,
    MIN_THRESHOLD,
    SURE_FIND_PER_MIN_FACE,
    Settings,
)
from findme.sources.folder import FolderSource, inside_root
from findme.stages.status import status_document
from findme.store import redis_client

POLL_SECONDS = 0.1  # a status activation costs about 3 ms in the local engine


class UsageError(Exception):
    """One clear line for the user; exit status 2."""


def _read_reference(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read reference {path}: {error.strerror}") from None
    try:
        open_image(data)
    except PhotoError as error:
        raise UsageError(f"reference {path} is unusable: {error}") from None
    return data


def _search_params(args: argparse.Namespace) -> dict[str, Any]:
    """The register_search params of a CLI search, checked before any engine starts."""
    if not MIN_THRESHOLD <= args.threshold <= MAX_THRESHOLD:
        raise UsageError(f"--threshold must be between {MIN_THRESHOLD} and {MAX_THRESHOLD}")
    if (args.reference is None) == (args.handle is None):
        raise UsageError("give one reference: --reference PHOTO or --handle X_USERNAME")
    params: dict[str, Any] = {"query": args.query, "threshold": args.threshold}
    if args.folder is not None:
        if not args.folder.is_dir():
            raise UsageError(f"no such folder: {args.folder}")
        params.update(source="folder", folder=".")
    elif not args.query:
        raise UsageError("give --folder DIR, or --query '#hashtag' to search X")
    else:
        params.update(source="twitter", max_posts=args.max_posts)
    if args.reference is not None:
        params["reference_image"] = [
            base64.b64encode(_read_reference(path)).decode() for path in args.reference
        ]
    else:
        params["handle"] = args.handle
    return params


def _summary(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "job_id": status["job_id"],
        "state": status["state"],
        "error": status.get("error"),
        "photos_total": status["photos_total"],
        "photos_done": status["photos_done"],
        "photos_failed": status["photos_failed"],
        "matches": [
            {
                "photo": m["photo"],
                "distance": m["distance"],
                "confidence": m.get("confidence"),
                "faces": m.get("faces"),
                "small_faces": m.get("small_faces", 0),
                "box": m["box"],
                **({"post_url": m["post_url"]} if m.get("post_url") else {}),
            }
            for m in status["matches"]
        ],
        "failed": status["failed"],
        "photos_with_small_faces": status.get("photos_with_small_faces", 0),
        **({"warning": status["warning"]} if status.get("warning") else {}),
        **({"reference_notes": status["reference_notes"]} if status.get("reference_notes") else {}),
    }


def _faces(count: int) -> str:
    return f"{count} face{'s' if count != 1 else ''}"


def _small_faces_note(photos: int) -> str:
    """Why a photo of the person can be missed, and what would find it."""
    min_face = Settings.load().min_face_px
    smallest = round(SURE_FIND_PER_MIN_FACE * min_face)
    held = "photo holds" if photos == 1 else "photos hold"
    return (
        f"{photos} {held} faces under {smallest} px, too small to compare reliably: "
        f"a photo of you there can be missed (FINDME_MIN_FACE={min_face}; "
        "a lower one looks for smaller faces, more slowly)"
    )


def _follow(client: OpenWhiskClient, job_id: str, quiet: bool) -> dict[str, Any]:
    """Polls search_status until the job ends, with a progress bar on a terminal."""
    shown: set[str] = set()
    bar = tqdm(total=0, unit="photo", disable=quiet or None, file=sys.stderr, leave=False)
    try:
        while True:
            code, status = client.invoke("search_status", {"job_id": job_id})
            if "state" not in status:  # a failed job's status is still a status
                raise UsageError(status.get("error") or f"search_status answered HTTP {code}")
            bar.total = status["photos_total"]
            bar.n = status["photos_done"]
            bar.set_postfix(state=status["state"], failed=status["photos_failed"], refresh=False)
            bar.refresh()
            for match in status["matches"]:
                if not quiet and match["photo"] not in shown:
                    shown.add(match["photo"])
                    post = f"  {match['post_url']}" if match.get("post_url") else ""
                    small = match.get("small_faces", 0)
                    note = f", {_faces(small)} too small to compare reliably" if small else ""
                    tqdm.write(
                        f"match  {match['photo']}  distance {match['distance']:.3f}"
                        f" ({match.get('confidence', 'possible')}{note}){post}"
                    )
            if status["state"] in FINAL_STATES:
                return status
            time.sleep(POLL_SECONDS)
    finally:
        bar.close()


def command_search(args: argparse.Namespace) -> int:
    params = _search_params(args)
    with LocalFindMe(
        photo_root=args.folder, compare_workers=args.workers, exit_after_stop=True
    ) as local:
        client = OpenWhiskClient(local.api_host, local.auth)
        code, started = client.invoke("register_search", params)
        if "job_id" not in started:
            raise UsageError(started.get("error") or f"register_search answered HTTP {code}")
        status = _follow(client, started["job_id"], quiet=args.json)
    summary = _summary(status)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for failed in summary["failed"]:
            print(f"failed {failed['photo']}: {failed['reason']}", file=sys.stderr)
        print(
            f"{len(summary['matches'])} of {summary['photos_total']} photos match "
            f"({summary['photos_failed']} failed)"
        )
        if summary["photos_with_small_faces"]:
            print(_small_faces_note(summary["photos_with_small_faces"]))
    if status["state"] != "done":
        print(f"findme: error: {status.get('error') or 'the search failed'}", file=sys.stderr)
        return 1
    return 0


def command_serve(args: argparse.Namespace) -> int:
    if args.photos and not args.photos.is_dir():
        raise UsageError(f"no such folder: {args.photos}")
    local = LocalFindMe(
        photo_root=args.photos,
        host=args.host,
        port=args.port,
        auth=args.auth,
        compare_workers=args.workers,
        web_secret=args.web_secret,
    )
    with local:
        print(f"FindMe: OpenWhisk API on {local.api_host}", flush=True)
        print(f"  auth: {local.auth}", flush=True)
        print(f"  photos: {local.photo_root or '(none: folder searches are off)'}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


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


@contextlib.contextmanager
def _job_store() -> Iterator[JobStore]:
    """The jobs of REDIS_URL, or of the embedded Redis that `findme search` uses."""
    embedded = None
    url = Settings.load().redis_url
    if not url:
        embedded = EmbeddedRedis()
        url = embedded.url
    try:
        yield JobStore(redis_client(url), Settings.load().job_ttl_seconds)
    finally:
        if embedded:
            embedded.close()


def command_report(args: argparse.Namespace) -> int:
    with _job_store() as store:
        status = store.status(args.job_id)
        if status is None:
            raise UsageError(f"no job {args.job_id} (unknown or expired)")
        document = status_document(status)
        if args.format == "csv":
            text = report.to_csv(document)
        elif args.format == "json":
            text = report.to_json(document)
        else:
            text = report.to_html(document, _photo_reader(status.fields))
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def command_delete(args: argparse.Namespace) -> int:
    with _job_store() as store:
        if not store.delete(args.job_id):
            raise UsageError(f"no job {args.job_id} (unknown or expired)")
    print(f"deleted job {args.job_id}, its matches and its reference descriptor")
    return 0


def _numbers(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text!r}") from None


def command_eval(args: argparse.Namespace) -> int:
    from findme import evaluation

    if not (args.folder / "people").is_dir():
        raise UsageError(f"{args.folder} has no people/ folder of portraits (see findme eval -h)")
    rows = evaluation.evaluate(args.folder, args.references, args.jitters, args.threshold)
    print(evaluation.as_json(rows) if args.json else evaluation.table(rows, args.threshold))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="findme", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    search = commands.add_parser("search", help="find the photos of a person")
    search.add_argument(
        "--reference",
        type=Path,
        action="append",
        help="a photo of the person (repeat for up to 10: more photos, sharper matches)",
    )
    search.add_argument("--handle", help="or: the person's X username (their profile picture)")
    search.add_argument("--folder", type=Path, help="search the photos of this folder")
    search.add_argument("--query", default="", help="search X for this (e.g. '#pycon')")
    search.add_argument("--max-posts", type=int, default=1000, help="X posts to read at most")
    search.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"match distance, {MIN_THRESHOLD} to {MAX_THRESHOLD} "
        f"(default {DEFAULT_THRESHOLD}; lower is stricter)",
    )
    search.add_argument("--json", action="store_true", help="print one JSON document")
    search.add_argument("--workers", type=int, help="compare workers (default: one per core)")
    search.set_defaults(run=command_search)

    serve = commands.add_parser("serve", help="run the local OpenWhisk-compatible engine")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3233)
    serve.add_argument("--photos", type=Path, help="the photo root folder searches may use")
    serve.add_argument("--auth", default=GUEST_AUTH, help="UUID:KEY (default: the guest key)")
    serve.add_argument("--workers", type=int, help="compare workers (default: one per core)")
    serve.add_argument(
        "--web-secret",
        help="require this X-Require-Whisk-Auth header on web actions (or FINDME_WEB_SECRET)",
    )
    serve.set_defaults(run=command_serve)

    trip = commands.add_parser("report", help="the matches of a finished search, as a report")
    trip.add_argument("job_id")
    trip.add_argument("--format", choices=("html", "csv", "json"), default="html")
    trip.add_argument("--output", "-o", type=Path, help="write here instead of to stdout")
    trip.set_defaults(run=command_report)

    evaluate = commands.add_parser(
        "eval",
        help="precision, recall and distances on a labelled folder",
        description="DIR/people/NAME/* holds portraits of each person (the first ones in "
        "name order are the references); DIR/groups/* other photos, labelled in "
        'DIR/groups/labels.json as {"photo.jpg": ["NAME", ...]}.',
    )
    evaluate.add_argument("folder", type=Path)
    evaluate.add_argument("--references", type=_numbers, default=[1, 3], help="e.g. 1,3")
    evaluate.add_argument("--jitters", type=_numbers, default=[0, 20], help="e.g. 0,20,100")
    evaluate.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=command_eval)

    delete = commands.add_parser("delete", help="delete a job, its matches and its descriptor")
    delete.add_argument("job_id")
    delete.set_defaults(run=command_delete)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as error:
        print(f"findme: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
