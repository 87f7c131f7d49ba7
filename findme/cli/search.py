"""`findme search`: find the photos of a person, on a local engine of this process."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from findme.cli.errors import UsageError
from findme.cli.follow import all_status, follow
from findme.cli.job_store import open_job_store
from findme.cli.local_engine import add_limit_flags, limits_of, no_interrupts_for_children
from findme.cli.output import small_faces_note, summary
from findme.cli.search_params import search_params
from findme.client import OpenWhiskClient
from findme.local.runner import LocalFindMe
from findme.settings import DEFAULT_THRESHOLD, MAX_THRESHOLD, MIN_THRESHOLD, deployment_of
from findme.sources import SOURCES

# A running job with no progress for this long lost its process (killed, crashed).
INTERRUPTED_AFTER_SECONDS = 30


def register(commands: argparse._SubParsersAction) -> None:
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
    add_limit_flags(search)
    search.set_defaults(run=run)


def _resume_params(job_id: str) -> tuple[dict[str, str], Path | None]:
    with open_job_store() as store:
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
        with open_job_store() as store:
            store.cancel(job_id)
    root = Path(job["photo_root"]) if job.get("photo_root") else None
    if job.get("source") == "folder" and (root is None or not root.is_dir()):
        raise UsageError(f"the folder of job {job_id} is no longer there: {root}")
    return job, root


def run(args: argparse.Namespace) -> int:
    if args.resume:
        _, root = _resume_params(args.resume)
        params: dict[str, Any] = {}
    else:
        params = search_params(args)
        root = args.folder
    with no_interrupts_for_children():
        local = LocalFindMe(
            photo_root=root,
            compare_workers=args.workers,
            exit_after_stop=True,
            limits=limits_of(args),
        )
        local.start()
    job_id = ""
    try:
        client = OpenWhiskClient(local.api_host, local.auth)
        if args.resume:
            job_id = args.resume
            with open_job_store() as store:
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
            with open_job_store(local.redis_url) as store:
                status = follow(client, store, job_id, quiet=args.json)
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
        with no_interrupts_for_children():
            local.stop()
    result = summary(status)
    if args.json:
        print(json.dumps(result, indent=2))
    for note in result.get("reference_notes", []):
        print(f"findme: note: {note}: this reference photo was not used", file=sys.stderr)
    if args.json:
        if status["state"] != "done":
            print(f"findme: error: {status.get('error') or 'the search failed'}", file=sys.stderr)
        return 0 if status["state"] == "done" else 1
    if status["state"] != "done":
        # A search that never started (no face in the reference) has nothing to sum up.
        print(f"findme: error: {status.get('error') or 'the search failed'}", file=sys.stderr)
        return 1
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
