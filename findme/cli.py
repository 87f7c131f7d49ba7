"""The `findme` command."""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import errno
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import zipfile
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
from findme.settings import (
    DEFAULT_THRESHOLD,
    MAX_THRESHOLD,
    MIN_THRESHOLD,
    SURE_FIND_PER_MIN_FACE,
    Settings,
    deployment_of,
)
from findme.sources import SOURCES
from findme.sources.folder import IMAGE_SUFFIXES, FolderSource, inside_root
from findme.sources.urls import MAX_URLS
from findme.stages.status import status_document
from findme.store import redis_client

WATCH_SECONDS = 0.05  # how often the CLI looks at its job's counts in Redis
UPLOAD_BYTES = 600_000  # per reference photo, before base64
MAX_URL_LIST_BYTES = 1_000_000  # leaves room under OpenWhisk's 1 MB for the rest
# A running job with no progress for this long lost its process (killed, crashed).
INTERRUPTED_AFTER_SECONDS = 30


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
        _check_photos(args.folder)
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


def _check_photos(folder: Path) -> None:
    """A folder without photos is a clear error; other files are mentioned, not hidden."""
    photos, skipped = 0, []
    for _, subdirs, files in os.walk(folder):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() in IMAGE_SUFFIXES:
                photos += 1
            else:
                skipped.append(name)
    kinds = ", ".join(sorted({Path(n).suffix.lower() or n for n in skipped})[:8])
    if photos == 0:
        found = f" (only {len(skipped)} other files: {kinds})" if skipped else " (it is empty)"
        raise UsageError(
            f"no photos in {folder}{found}; FindMe reads JPEG, PNG, GIF, BMP, WebP and TIFF"
        )
    if skipped:
        print(
            f"findme: skipping {len(skipped)} files that are not photos ({kinds})",
            file=sys.stderr,
        )


def all_status(client: OpenWhiskClient, job_id: str) -> tuple[int, dict[str, Any]]:
    """search_status read page by page (cursor "0", then next_cursor until null), so no
    answer passes OpenWhisk's 1 MB; a status without next_cursor is all in one page."""
    cursor: str | None = "0"
    whole: dict[str, Any] | None = None
    code = 200
    while cursor is not None:
        code, page = client.invoke(
            "search_status", {"job_id": job_id, "cursor": cursor, "limit": 1000}
        )
        if "state" not in page:
            return code, page
        if whole is None:
            whole = {**page, "matches": [], "failed": []}
        whole["matches"] += page.get("matches", [])
        whole["failed"] += page.get("failed", [])
        cursor = page.get("next_cursor")
    assert whole is not None
    whole.pop("next_cursor", None)
    return code, whole


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
                **({"author": m["author"]} if m.get("author") else {}),
            }
            for m in status["matches"]
        ],
        "failed": status["failed"],
        "photos_with_small_faces": status.get("photos_with_small_faces", 0),
        **({"warning": status["warning"]} if status.get("warning") else {}),
        **({"reference_notes": status["reference_notes"]} if status.get("reference_notes") else {}),
        **(
            {"reference_pictures": status["reference_pictures"]}
            if status.get("reference_pictures")
            else {}
        ),
    }


def _count(count: int, thing: str) -> str:
    return f"{count} {thing}" + ("" if count == 1 else "s")


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


def _follow(client: OpenWhiskClient, store: JobStore, job_id: str, quiet: bool) -> dict[str, Any]:
    """Waits for the job's end with a progress bar on a terminal, printing matches as
    they are found. It watches the local engine's own Redis, so waiting costs none of
    OpenWhisk's 60 invocations a minute and sees the end at once; the result is then
    read as any client reads it, through search_status, page by page."""
    shown: set[str] = set()
    bar = tqdm(total=0, unit="photo", disable=quiet or None, file=sys.stderr, leave=False)

    def show(matches: list[dict[str, Any]]) -> None:
        for match in matches:
            if not quiet and match["photo"] not in shown:
                shown.add(match["photo"])
                post = f"  {match['post_url']}" if match.get("post_url") else ""
                small = match.get("small_faces", 0)
                note = f", {_count(small, 'face')} too small to compare reliably" if small else ""
                tqdm.write(
                    f"match  {match['photo']}  distance {match['distance']:.3f}"
                    f" ({match.get('confidence', 'possible')}{note}){post}"
                )

    try:
        while True:
            progress = store.progress(job_id)
            if progress is None:
                raise UsageError(f"no job {job_id} (unknown or expired)")
            bar.total, bar.n = progress["photos_total"], progress["photos_done"]
            bar.set_postfix(state=progress["state"], refresh=False)
            bar.refresh()
            if not quiet and progress["matches"] > len(shown):
                show(store.matches(job_id))
            if progress["state"] in FINAL_STATES:
                break
            time.sleep(WATCH_SECONDS)
        code, status = all_status(client, job_id)
        if "state" not in status:  # a failed job's status is still a status
            raise UsageError(status.get("error") or f"search_status answered HTTP {code}")
        show(status["matches"])
        return status
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


@contextlib.contextmanager
def _no_interrupts_for_children() -> Iterator[None]:
    """Processes started in here (Redis, the fork server and every worker it forks)
    ignore Ctrl-C: the command handles it once, cleanly, instead of ninety tracebacks."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _resume_params(job_id: str) -> tuple[dict[str, str], Path | None]:
    with _job_store() as store:
        job = store.fields(job_id)
    if job is None:
        raise UsageError(f"no job {job_id} (unknown or expired)")
    if job.get("state") == "done":
        raise UsageError(f"job {job_id} is done: there is nothing left to search")
    if job.get("state") not in ("cancelled", "failed"):
        # Interrupted (its process was killed): stopped here first, unless it is
        # still making progress in another process.
        if time.time() - float(job.get("updated", 0)) < INTERRUPTED_AFTER_SECONDS:
            raise UsageError(
                f"job {job_id} is still running (it made progress in the last "
                f"{INTERRUPTED_AFTER_SECONDS} s); stop it first, or wait"
            )
        with _job_store() as store:
            store.cancel(job_id)
    root = Path(job["photo_root"]) if job.get("photo_root") else None
    if job.get("source") == "folder" and (root is None or not root.is_dir()):
        raise UsageError(f"the folder of job {job_id} is no longer there: {root}")
    return job, root


def command_search(args: argparse.Namespace) -> int:
    if args.resume:
        _, root = _resume_params(args.resume)
        params: dict[str, Any] = {}
    else:
        params = _search_params(args)
        root = args.folder
    with _no_interrupts_for_children():
        local = LocalFindMe(
            photo_root=root,
            compare_workers=args.workers,
            exit_after_stop=True,
            limits=_limits(args),
        )
        local.start()
    job_id = ""
    try:
        client = OpenWhiskClient(local.api_host, local.auth)
        if args.resume:
            job_id = args.resume
            with _job_store() as store:
                store.reopen(job_id)
                # This process's engine runs it now: its sweep re-drives it.
                store.update(job_id, deployment=deployment_of(local.api_host))
            # The source stage lists the folder again; photos already recorded are skipped.
            client.invoke("twitter_search", {"job_id": job_id})
            print(f"findme: resuming search {job_id}", file=sys.stderr)
        else:
            code, started = client.invoke("register_search", params)
            if "job_id" not in started:
                raise UsageError(started.get("error") or f"register_search answered HTTP {code}")
            job_id = started["job_id"]
            print(f"findme: search {job_id} started", file=sys.stderr)
        try:
            with _job_store(local.redis_url) as store:
                status = _follow(client, store, job_id, quiet=args.json)
            if args.engine_stats and local.engine:
                print(json.dumps({"engine": local.engine.stats()}), file=sys.stderr)
        except KeyboardInterrupt:
            _, answer = client.invoke("cancel_search", {"job_id": job_id})
            _, status = all_status(client, job_id)
            if answer.get("state") == "cancelled":
                print(
                    f"\nfindme: stopped search {job_id} after {status.get('photos_done', 0)} "
                    f"of {status.get('photos_total', 0)} photos "
                    f"({len(status.get('matches', []))} matches so far). "
                    f"Go on with: findme search --resume {job_id}",
                    file=sys.stderr,
                )
                return 130
            # It had ended just before Ctrl-C: the result stands.
    finally:
        with _no_interrupts_for_children():
            local.stop()
    summary = _summary(status)
    if args.json:
        print(json.dumps(summary, indent=2))
    for note in summary.get("reference_notes", []):
        print(f"findme: note: {note}: this reference photo was not used", file=sys.stderr)
    if args.json:
        if status["state"] != "done":
            print(f"findme: error: {status.get('error') or 'the search failed'}", file=sys.stderr)
        return 0 if status["state"] == "done" else 1
    if status["state"] != "done":
        # A search that never started (no face in the reference) has nothing to sum up.
        print(f"findme: error: {status.get('error') or 'the search failed'}", file=sys.stderr)
        return 1
    for failed in summary["failed"]:
        print(f"failed {failed['photo']}: {failed['reason']}", file=sys.stderr)
    print(
        f"{len(summary['matches'])} of {summary['photos_total']} photos match "
        f"({summary['photos_failed']} failed)"
    )
    if summary["photos_with_small_faces"]:
        print(_small_faces_note(summary["photos_with_small_faces"]))
    print(
        f"job {job_id}: findme report {job_id}  (HTML; --format csv|json|zip)",
        file=sys.stderr,
    )
    return 0


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return True


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # leaves the `with`, which stops the workers and Redis


def command_serve(args: argparse.Namespace) -> int:
    if args.photos and not args.photos.is_dir():
        raise UsageError(f"no such folder: {args.photos}")
    if args.port and not _port_free(args.host, args.port):
        raise UsageError(
            f"port {args.port} on {args.host} is in use (another findme serve?): "
            "stop it, or choose another port with --port"
        )
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
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with _no_interrupts_for_children():
            local.start()
        print(f"FindMe is running: open the search page at {local.api_host}/", flush=True)
        print(f"  photos: {local.photo_root or '(none: folder searches are off)'}", flush=True)
        print(f"  OpenWhisk API: {local.api_host}  auth: {local.auth}", flush=True)
        print("  stop with Ctrl-C", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    finally:
        with _no_interrupts_for_children():
            local.stop()
    print("FindMe stopped.", flush=True)
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
def _job_store(url: str | None = None) -> Iterator[JobStore]:
    """The jobs of url (a running engine's Redis), REDIS_URL, or of the embedded Redis
    that `findme search` uses."""
    embedded = None
    url = url or Settings.load().redis_url
    if not url:
        embedded = EmbeddedRedis()
        url = embedded.url
    try:
        yield JobStore(redis_client(url), Settings.load().job_ttl_seconds)
    finally:
        if embedded:
            embedded.close()


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


def command_report(args: argparse.Namespace) -> int:
    with _job_store() as store:
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


def command_jobs(args: argparse.Namespace) -> int:
    with _job_store() as store:
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


def command_cancel(args: argparse.Namespace) -> int:
    with _job_store() as store:
        state, stopped = store.cancel(args.job_id)
    if state == "unknown":
        raise UsageError(f"no job {args.job_id} (unknown or expired)")
    if stopped:
        print(f"stopped job {args.job_id}; go on with: findme search --resume {args.job_id}")
    else:
        print(f"job {args.job_id} had already ended ({state})")
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


EVAL_LEGEND = """
refs        reference portraits per person      jitter   re-encodings of each reference
pairs       (person, photo) pairs compared      P / R    precision / recall at the threshold
bestF1 t    threshold with the best F1          F1       harmonic mean of precision and recall
t@99%P      largest threshold with precision of at least 99 %
far true    largest distance of a photo that shows the person
near false  smallest distance of a photo that does not
margin      near false - far true (positive: one threshold separates them all)"""


def command_eval(args: argparse.Namespace) -> int:
    from findme import evaluation

    if not (args.folder / "people").is_dir():
        raise UsageError(f"{args.folder} has no people/ folder of portraits (see findme eval -h)")
    if not MIN_THRESHOLD <= args.threshold <= MAX_THRESHOLD:
        raise UsageError(f"--threshold must be between {MIN_THRESHOLD} and {MAX_THRESHOLD}")
    people, labels = evaluation.load_labelled(args.folder)
    if not people:
        raise UsageError(f"{args.folder}/people has no folders of portraits")
    # A person is found in their other portraits and in group photos labelled with them;
    # one with a single portrait and no group photo is a reference only: the photos
    # that match them are look-alikes (precision).
    in_groups = {name: sum(name in names for names in labels.values()) for name in people}
    findable = {
        name: len(p) if in_groups[name] else len(p) - 1
        for name, p in people.items()
        if len(p) + in_groups[name] >= 2
    }
    if not findable:
        raise UsageError(
            "no person can be found: give someone a second portrait, or a group photo "
            "labelled with them in groups/labels.json"
        )
    references_only = [name for name in people if name not in findable]
    if references_only:
        print(
            f"findme: note: {', '.join(references_only)}: one portrait each, used only as a "
            "reference (the photos that match them are look-alikes)",
            file=sys.stderr,
        )
    fewest = min(len(people[name]) for name in findable)
    usable = min(findable.values())  # each person keeps a photo of them to be found
    counts = sorted({min(count, usable) for count in args.references if count > 0})
    if not counts:
        raise UsageError("--references must hold whole numbers of at least 1")
    if max(args.references) > usable:
        print(
            f"findme: note: with {_count(fewest, 'portrait')} for some people, at most "
            f"{usable} can be references; --references "
            f"{','.join(map(str, args.references))} is read as {','.join(map(str, counts))}",
            file=sys.stderr,
        )
    rows = evaluation.evaluate(args.folder, counts, args.jitters, args.threshold)
    if args.json:
        print(evaluation.as_json(rows))
        return 0
    print(evaluation.table(rows, args.threshold))
    print(EVAL_LEGEND)
    best = rows[-1]
    suggested = min(max(best.best_f1_threshold, MIN_THRESHOLD), MAX_THRESHOLD)
    print(
        f"\nsuggested --threshold {suggested:.2f} (the best F1 with "
        f"{_count(best.references, 'reference')}, {_count(best.jitters, 'jitter')}"
        + (
            f"; {best.threshold_99_precision:.2f} keeps precision at 99 %)"
            if best.threshold_99_precision is not None
            else ")"
        )
    )
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
    search.add_argument(
        "--resume",
        metavar="JOB_ID",
        help="go on with a stopped search (Ctrl-C or cancel): photos already examined are kept",
    )
    _add_limit_flags(search)
    search.set_defaults(run=command_search)

    serve = commands.add_parser("serve", help="run the local OpenWhisk-compatible engine")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this computer only)",
    )
    serve.add_argument(
        "--port", type=int, default=3233, help="port of the page and the API (default 3233)"
    )
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
    trip.set_defaults(run=command_report)

    jobs = commands.add_parser("jobs", help="list the searches of this data directory")
    jobs.add_argument("--json", action="store_true")
    jobs.set_defaults(run=command_jobs)

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
    evaluate.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"the threshold P and R are measured at ({MIN_THRESHOLD} to {MAX_THRESHOLD})",
    )
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=command_eval)

    cancel = commands.add_parser("cancel", help="stop a running search (it can be resumed)")
    cancel.add_argument("job_id")
    cancel.set_defaults(run=command_cancel)

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
