"""`findme search`: find the photos of a person, on a local engine of this process."""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from findme.cli.errors import UsageError
from findme.cli.follow import WATCH_SECONDS, all_status, follow
from findme.cli.job_store import open_job_store
from findme.cli.local_engine import (
    add_limit_flags,
    interrupts_held,
    interrupts_ignored,
    limits_of,
)
from findme.cli.output import small_faces_note, stopped, summary, with_file_names
from findme.cli.search_params import search_params
from findme.client import OpenWhiskClient
from findme.jobs import JobStore
from findme.local.pool import start_fork_server
from findme.local.runner import LocalFindMe
from findme.settings import DEFAULT_THRESHOLD, MAX_THRESHOLD, MIN_THRESHOLD, deployment_of
from findme.sources import SOURCES
from findme.stages.register import MAX_REFERENCES
from findme.store import REDIS_ERRORS

# A running job with no progress for this long lost its process (killed, crashed).
INTERRUPTED_AFTER_SECONDS = 30
# Reference faces take well under a second each, jittered; a busy machine, seconds.
REFERENCES_WAIT_SECONDS = 60


def register(commands: argparse._SubParsersAction) -> None:
    search = commands.add_parser(
        "search",
        help="find the photos of a person",
        description="Find the photos of a person in a folder, in the posts of an X,\n"
        "Mastodon or Bluesky search, or at a list of photo URLs, with a local engine\n"
        "that runs until the search ends. Ctrl-C stops it; --resume goes on.",
        epilog="examples:\n"
        "  findme search --reference me.jpg --folder ~/Pictures/pycon\n"
        "  findme search --reference me.jpg --query '#pycon' --server mastodon.social\n"
        "  findme search --handle ada.bsky.social --source bluesky --query '#pycon'\n"
        "  findme search --reference me.jpg --urls photo-urls.txt --json\n"
        "  findme search --resume JOB_ID",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    search.add_argument(
        "--reference",
        type=Path,
        action="append",
        metavar="PHOTO",
        help=f"a photo of the person (repeat for up to {MAX_REFERENCES}: more photos, "
        "sharper matches)",
    )
    search.add_argument(
        "--handle",
        help="or: the person's profile picture: an X username, a Mastodon address "
        "(@name@server) or a Bluesky handle (name.bsky.social)",
    )
    search.add_argument(
        "--folder",
        type=Path,
        metavar="DIR",
        help="search the photos of this folder and its subfolders",
    )
    search.add_argument(
        "--event", metavar="EVENT_ID", help="search an event's indexed photos (findme event)"
    )
    search.add_argument("--source", choices=SOURCES, help="where to search (default: guessed)")
    search.add_argument("--query", default="", help="the hashtags or words (e.g. '#pycon')")
    search.add_argument(
        "--server",
        action="append",
        metavar="HOST",
        help="a Mastodon server to search (repeat for more)",
    )
    search.add_argument(
        "--urls", type=Path, metavar="FILE", help="a text file of photo URLs, one a line"
    )
    search.add_argument(
        "--max-posts",
        type=int,
        default=1000,
        metavar="N",
        help="posts to read at most (on Mastodon: per server; default 1000)",
    )
    search.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"match distance, {MIN_THRESHOLD} to {MAX_THRESHOLD} "
        f"(default {DEFAULT_THRESHOLD}; lower is stricter)",
    )
    search.add_argument("--json", action="store_true", help="print one JSON document")
    search.add_argument(
        "--workers", type=int, metavar="N", help="compare workers (default: one per core)"
    )
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
    add_limit_flags(search)
    search.set_defaults(run=run)


def _engine_answers(deployment: str) -> bool:
    """Whether anything still listens where the job's engine listened (a `findme
    search` that was killed leaves nothing there)."""
    address = urlsplit(deployment)
    try:
        with socket.create_connection((address.hostname or "", address.port or 80), timeout=2):
            return True
    except (OSError, ValueError):
        return False


def _resumable(job_id: str) -> dict[str, str]:
    """The record of a job `--resume` may go on with; a job whose process was killed
    is stopped here first."""
    with open_job_store() as store:
        job = store.fields(job_id)
        if job is None:
            raise UsageError(f"no job {job_id} (unknown or expired)")
        if job.get("state") == "done":
            raise UsageError(f"job {job_id} is done: there is nothing left to search")
        if job.get("state") not in ("cancelled", "failed"):
            # Interrupted (its process was killed), unless its engine still answers
            # and it made progress lately: then another process is running it.
            recent = time.time() - float(job.get("updated", 0)) < INTERRUPTED_AFTER_SECONDS
            if recent and _engine_answers(job.get("deployment", "")):
                raise UsageError(
                    f"job {job_id} is still running (it made progress in the last "
                    f"{INTERRUPTED_AFTER_SECONDS} s); stop it first (findme cancel {job_id}), "
                    "or wait"
                )
            store.cancel(job_id)
    root = job.get("photo_root")
    if job.get("source") == "folder" and not (root and Path(root).is_dir()):
        raise UsageError(f"the folder of job {job_id} is no longer there: {root}")
    return job


def _event_root(event_id: str) -> Path | None:
    """The photo root an event of a folder was indexed from (its later photos are read
    there); None for the other sources."""
    with open_job_store() as store:
        event = store.fields(event_id)
    if event is None or event.get("role") != "event":
        raise UsageError(f"no event {event_id} (unknown, deleted or expired)")
    return Path(event["photo_root"]) if event.get("photo_root") else None


def _resume(client: OpenWhiskClient, local: LocalFindMe, job_id: str) -> None:
    here = deployment_of(local.api_host)
    with open_job_store(local.redis_url) as store:
        store.reopen(job_id)
        # This process's engine runs it now: its sweep re-drives it.
        store.update(job_id, deployment=here)
        event = (store.fields(job_id) or {}).get("event", "")
        if event and store.state(event) not in ("done", "failed"):
            # The event that lists and indexes its photos stopped with it: taken over
            # now, the photos its dead activations held queued again at once.
            store.update(event, deployment=here)
            store.take_over(event)
    if event:
        client.invoke("twitter_search", {"job_id": event})  # the listing, where it was left
        client.invoke("sweep", {})  # compare activations for what is queued
    # The search itself: its reference faces against the event's photos.
    client.invoke("twitter_search", {"job_id": job_id})
    print(f"findme: resuming search {job_id}", file=sys.stderr, flush=True)


def _register(client: OpenWhiskClient, params: dict[str, Any]) -> str:
    code, started = client.invoke("register_search", params)
    if "job_id" not in started:
        raise UsageError(started.get("error") or f"register_search answered HTTP {code}")
    print(f"findme: search {started['job_id']} started", file=sys.stderr, flush=True)
    return started["job_id"]


def _read_status(client: OpenWhiskClient, job_id: str) -> dict[str, Any]:
    code, status = all_status(client, job_id)
    if "state" not in status:  # a failed job's status is still a status
        raise UsageError(status.get("error") or f"search_status answered HTTP {code}")
    return status


def _wait_for_references(store: JobStore, job_id: str) -> None:
    """A source stage that took the uploaded reference photos (they are deleted once
    read) is let finish their descriptors before the engine stops: killed in between,
    it would leave a search that --resume cannot go on with."""
    deadline = time.monotonic() + REFERENCES_WAIT_SECONDS
    told = False
    while store.search_leased(job_id) and time.monotonic() < deadline:
        job = store.fields(job_id) or {}
        if job.get("reference_fingerprints") or job.get("state") == "failed":
            return
        if not told:
            print("findme: stopping once the reference faces are kept…", file=sys.stderr)
            told = True
        time.sleep(WATCH_SECONDS)


def _stop(redis_url: str, client: OpenWhiskClient | None, job_id: str) -> dict[str, Any] | None:
    """Ctrl-C: the search is cancelled (resumable) and where it got to is said; its
    status instead when it had ended just before (its result stands). The job's own
    Redis is asked directly: a busy engine's invocations could wait a minute."""
    print(file=sys.stderr)  # off the line ^C was echoed on
    if not job_id:
        print("findme: stopped before the search started (nothing to resume)", file=sys.stderr)
        return None
    try:
        with open_job_store(redis_url) as store:
            state, _ = store.cancel(job_id)
            _wait_for_references(store, job_id)
            progress = store.progress(job_id)
    except REDIS_ERRORS as error:
        print(
            f"findme: stopped search {job_id}, but its Redis did not answer ({error}). "
            f"Go on with: findme search --resume {job_id}",
            file=sys.stderr,
        )
        return None
    if state == "unknown" or progress is None:
        print(f"findme: stopped; search {job_id} is no longer there (deleted?)", file=sys.stderr)
        return None
    if state == "cancelled" or client is None:
        print(stopped(f"stopped search {job_id}", job_id, progress), file=sys.stderr)
        return None
    return _read_status(client, job_id)


def run(args: argparse.Namespace) -> int:
    job_id, client, local = args.resume or "", None, None
    try:
        # Ctrl-C waits for the end of each step until the search is followed: no search
        # is left half-registered, without an id, or reopened with nothing driving it.
        with interrupts_held() as held:
            if args.resume:
                job, params = _resumable(args.resume), {}
                root = Path(job["photo_root"]) if job.get("photo_root") else None
                files = json.loads(job.get("reference_files") or "[]")
            else:
                params, root = search_params(args), args.folder
                files = [path.name for path in args.reference or []]
                if args.event:
                    root = _event_root(args.event)
            held.check()
            with interrupts_ignored():
                start_fork_server()  # __main__ started it already; its workers ignore Ctrl-C
            # Set once started: a start cut short stops what it started itself.
            local = LocalFindMe(
                photo_root=root,
                compare_workers=args.workers,
                exit_after_stop=True,
                limits=limits_of(args),
            ).start()
            client = OpenWhiskClient(local.api_host, local.auth)
            held.check()
            if args.resume:
                _resume(client, local, job_id)
            else:
                job_id = _register(client, params)
                if files:  # named as the person knows them, in notes, jobs and reports
                    with open_job_store(local.redis_url) as store:
                        store.update(job_id, reference_files=json.dumps(files))
        with open_job_store(local.redis_url) as store:
            status = follow(client, store, job_id, quiet=args.json)
        if args.engine_stats and local.engine:
            print(json.dumps({"engine": local.engine.stats()}), file=sys.stderr)
    except KeyboardInterrupt:
        with interrupts_ignored():  # a second Ctrl-C does not cut the stop short
            ended = _stop(local.redis_url if local else "", client, job_id)
        if ended is None:
            return 130
        status = ended
    except REDIS_ERRORS as error:
        raise UsageError(
            f"search {job_id} lost its Redis ({error}); once it answers: "
            f"findme search --resume {job_id}"
        ) from None
    finally:
        if local is not None:
            with interrupts_ignored():
                local.stop()
    return _result(args, job_id, with_file_names(status, files))


def _result(args: argparse.Namespace, job_id: str, status: dict[str, Any]) -> int:
    """The ended search's result: its matches, failed photos and notes; the exit status."""
    result = summary(status)
    if args.json:
        print(json.dumps(result, indent=2))
    for note in result.get("reference_notes", []):
        print(f"findme: note: {note}: this reference photo was not used", file=sys.stderr)
    if status["state"] == "cancelled":
        # Stopped from elsewhere: another terminal's `findme cancel`, or the page.
        what = f"search {job_id} was cancelled (findme cancel, or the page's Stop)"
        print(stopped(what, job_id, status), file=sys.stderr)
        return 1
    if status["state"] != "done":
        # A search that never started (no face in the reference) has nothing to sum up.
        print(f"findme: error: {status.get('error') or 'the search failed'}", file=sys.stderr)
        return 1
    if args.json:
        return 0
    for failed in result["failed"]:
        print(f"failed {failed['photo']}: {failed['reason']}", file=sys.stderr)
    print(
        f"{len(result['matches'])} of {result['photos_total']} photos match "
        f"({result['photos_failed']} failed)"
    )
    if result["photos_with_small_faces"]:
        print(small_faces_note(result["photos_with_small_faces"]))
    print(
        f"job {job_id}: findme report {job_id}  (HTML; --format csv|json|zip)",
        file=sys.stderr,
    )
    return 0
