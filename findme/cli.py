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
from findme.images import PhotoError, open_image, shrunk_jpeg
from findme.jobs import FINAL_STATES, JobStore
from findme.local.embedded_redis import EmbeddedRedis
from findme.local.engine import GUEST_AUTH
from findme.local.limits import Limits
from findme.local.runner import LocalFindMe
from findme.settings import DEFAULT_THRESHOLD, MAX_THRESHOLD, MIN_THRESHOLD, Settings
from findme.sources import SOURCES
from findme.sources.folder import FolderSource, inside_root
from findme.sources.urls import MAX_URLS
from findme.stages.status import status_document
from findme.store import redis_client

# Polls start quick and slow down to stay well inside OpenWhisk's 60 invocations
# a minute (a status activation costs about 3 ms in the local engine).
FIRST_POLL_SECONDS = 0.1
LAST_POLL_SECONDS = 2.0
UPLOAD_BYTES = 600_000  # per reference photo, before base64
MAX_URL_LIST_BYTES = 1_000_000  # leaves room under OpenWhisk's 1 MB for the rest


class UsageError(Exception):
    """One clear line for the user; exit status 2."""


def _read_reference(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read reference {path}: {error.strerror}") from None
    try:
        image = open_image(data)
    except PhotoError as error:
        raise UsageError(f"reference {path} is unusable: {error}") from None
    # OpenWhisk takes at most 1 MB a request: a phone photo is shrunk, as the page does.
    return data if len(data) <= UPLOAD_BYTES else shrunk_jpeg(image)


def _read_urls(path: Path) -> list[str]:
    """An organiser's photo URLs, one a line (blank lines and # comments skipped)."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read the URL list {path}: {error}") from None
    urls = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not urls:
        raise UsageError(f"{path} holds no URLs (one https photo URL a line)")
    if len(urls) > MAX_URLS:
        raise UsageError(f"{path} holds {len(urls)} URLs: give at most {MAX_URLS}")
    size = len(json.dumps(urls))
    if size > MAX_URL_LIST_BYTES:
        raise UsageError(
            f"{path} is {size} bytes as JSON: OpenWhisk takes at most 1 MB a request "
            "(10,000 URLs of about 90 characters); split the list into several searches"
        )
    return urls


def _source_params(args: argparse.Namespace) -> dict[str, Any]:
    """Which source a CLI search reads, and its register_search params."""
    source = args.source or (
        "folder"
        if args.folder is not None
        else "urls"
        if args.urls is not None
        else "mastodon"
        if args.server
        else "twitter"
    )
    if source == "folder":
        if args.folder is None or not args.folder.is_dir():
            raise UsageError(f"no such folder: {args.folder}")
        return {"source": "folder", "folder": "."}
    if source == "urls":
        if args.urls is None:
            raise UsageError("give --urls FILE, a text file of photo URLs, one a line")
        return {"source": "urls", "urls": _read_urls(args.urls)}
    if not args.query:
        raise UsageError(
            "give --folder DIR, or --query '#hashtag' to search X, Mastodon (with --server) "
            "or Bluesky (with --source bluesky), or --urls FILE"
        )
    if source == "mastodon":
        if not args.server:
            raise UsageError("give --server HOST (repeat for more) to search Mastodon")
        return {"source": "mastodon", "servers": args.server, "max_posts": args.max_posts}
    return {"source": source, "max_posts": args.max_posts}


def _search_params(args: argparse.Namespace) -> dict[str, Any]:
    """The register_search params of a CLI search, checked before any engine starts."""
    if not MIN_THRESHOLD <= args.threshold <= MAX_THRESHOLD:
        raise UsageError(f"--threshold must be between {MIN_THRESHOLD} and {MAX_THRESHOLD}")
    if (args.reference is None) == (args.handle is None):
        raise UsageError(
            "give one reference: --reference PHOTO, or --handle with an X username, "
            "a Mastodon address (@name@server) or a Bluesky handle (name.bsky.social)"
        )
    params: dict[str, Any] = {"query": args.query, "threshold": args.threshold}
    params.update(_source_params(args))
    if args.reference is not None:
        params["reference_image"] = [
            base64.b64encode(_read_reference(path)).decode() for path in args.reference
        ]
    else:
        params["handle"] = args.handle
    size = len(json.dumps(params))
    if params.get("urls") and size > MAX_URL_LIST_BYTES:
        raise UsageError(
            f"the URL list and the reference photos make a {size}-byte request: OpenWhisk "
            "takes at most 1 MB; give fewer URLs, or --handle instead of a photo"
        )
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
                "box": m["box"],
                **({"post_url": m["post_url"]} if m.get("post_url") else {}),
                **({"author": m["author"]} if m.get("author") else {}),
            }
            for m in status["matches"]
        ],
        "failed": status["failed"],
        **({"warning": status["warning"]} if status.get("warning") else {}),
        **({"reference_notes": status["reference_notes"]} if status.get("reference_notes") else {}),
        **(
            {"reference_pictures": status["reference_pictures"]}
            if status.get("reference_pictures")
            else {}
        ),
    }


def _invoke(client: OpenWhiskClient, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """A blocking invocation's result (the client waits out OpenWhisk's 429s)."""
    return client.invoke(action, params)[1]


def _all_pages(client: OpenWhiskClient, job_id: str) -> dict[str, Any]:
    """The whole status: search_status's pages of matches and failed photos joined."""
    status = _invoke(client, "search_status", {"job_id": job_id})
    cursor = status.get("next_cursor")
    while cursor:
        page = _invoke(client, "search_status", {"job_id": job_id, "cursor": cursor})
        status["matches"] += page.get("matches", [])
        status["failed"] += page.get("failed", [])
        cursor = page.get("next_cursor")
    return status


def _follow(client: OpenWhiskClient, job_id: str, quiet: bool) -> dict[str, Any]:
    """Polls search_status until the job ends, with a progress bar on a terminal."""
    shown: set[str] = set()
    bar = tqdm(total=0, unit="photo", disable=quiet or None, file=sys.stderr, leave=False)
    pause = FIRST_POLL_SECONDS
    try:
        while True:
            status = _invoke(client, "search_status", {"job_id": job_id})
            if "state" not in status:  # a failed job's status is still a status
                raise UsageError(status.get("error") or "search_status did not answer")
            if status["state"] in FINAL_STATES:
                status = _all_pages(client, job_id)
            bar.total = status["photos_total"]
            bar.n = status["photos_done"]
            bar.set_postfix(state=status["state"], failed=status["photos_failed"], refresh=False)
            bar.refresh()
            for match in status["matches"]:
                if not quiet and match["photo"] not in shown:
                    shown.add(match["photo"])
                    post = f"  {match['post_url']}" if match.get("post_url") else ""
                    tqdm.write(
                        f"match  {match['photo']}  distance {match['distance']:.3f}"
                        f" ({match.get('confidence', 'possible')}){post}"
                    )
            if status["state"] in FINAL_STATES:
                return status
            time.sleep(pause)
            pause = min(pause * 1.5, LAST_POLL_SECONDS)
    finally:
        bar.close()


def _limits(args: argparse.Namespace) -> Limits:
    """OpenWhisk's namespace limits for the engine: the defaults, a cluster's own
    values, or none at all (benchmarks that say so)."""
    if args.no_limits:
        return Limits.off()
    return Limits(
        fires_per_minute=args.fires_per_minute,
        invocations_per_minute=args.invocations_per_minute,
        concurrent_invocations=args.concurrent_invocations,
    )


def _add_limit_flags(parser: argparse.ArgumentParser) -> None:
    defaults = Limits()
    group = parser.add_argument_group(
        "OpenWhisk limits", "the engine enforces a default OpenWhisk's namespace limits"
    )
    group.add_argument(
        "--fires-per-minute", type=int, default=defaults.fires_per_minute, metavar="N"
    )
    group.add_argument(
        "--invocations-per-minute", type=int, default=defaults.invocations_per_minute, metavar="N"
    )
    group.add_argument(
        "--concurrent-invocations", type=int, default=defaults.concurrent_invocations, metavar="N"
    )
    group.add_argument(
        "--no-limits", action="store_true", help="turn the limits off (benchmarks only)"
    )


def command_search(args: argparse.Namespace) -> int:
    params = _search_params(args)
    with LocalFindMe(
        photo_root=args.folder,
        compare_workers=args.workers,
        exit_after_stop=True,
        limits=_limits(args),
    ) as local:
        client = OpenWhiskClient(local.api_host, local.auth)
        started = _invoke(client, "register_search", params)
        if "job_id" not in started:
            raise UsageError(started.get("error") or "register_search did not answer")
        status = _follow(client, started["job_id"], quiet=args.json)
        if args.engine_stats and local.engine:
            print(json.dumps({"engine": local.engine.stats()}), file=sys.stderr)
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
        limits=_limits(args),
        cors_origins=tuple(args.cors_origin or ()),
        allowed_hosts=tuple(args.allow_host or ()),
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
        status = store.status(args.job_id)  # every match and failed photo, unpaged
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
    print(f"deleted job {args.job_id}, its matches and its reference descriptors")
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
    search.add_argument(
        "--handle",
        help="or: the person's profile picture: an X username, a Mastodon address "
        "(@name@server) or a Bluesky handle (name.bsky.social)",
    )
    search.add_argument("--folder", type=Path, help="search the photos of this folder")
    search.add_argument("--source", choices=SOURCES, help="where to search (default: guessed)")
    search.add_argument("--query", default="", help="the hashtags or words (e.g. '#pycon')")
    search.add_argument(
        "--server", action="append", help="a Mastodon server to search (repeat for more)"
    )
    search.add_argument("--urls", type=Path, help="a text file of photo URLs, one a line")
    search.add_argument(
        "--max-posts", type=int, default=1000, help="posts to read at most (per Mastodon server)"
    )
    search.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"match distance, {MIN_THRESHOLD} to {MAX_THRESHOLD} "
        f"(default {DEFAULT_THRESHOLD}; lower is stricter)",
    )
    search.add_argument("--json", action="store_true", help="print one JSON document")
    search.add_argument("--workers", type=int, help="compare workers (default: one per core)")
    search.add_argument(
        "--engine-stats",
        action="store_true",
        help="print what OpenWhisk's limits did (fires, 429s, refused activations) to stderr",
    )
    _add_limit_flags(search)
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
    _add_limit_flags(serve)
    serve.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        help="let pages of this origin (https://host[:port]) call the server from a browser; "
        "repeat for more (or FINDME_CORS_ORIGINS=a,b); default: only the server's own page",
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        metavar="NAME",
        help="answer requests naming the server by this host name too (besides the --host, "
        "localhost, 127.0.0.1, [::1]); repeat for more (or FINDME_ALLOWED_HOSTS=a,b)",
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
