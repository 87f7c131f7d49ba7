"""`findme event`: an organiser's events on this data directory. `create` lists a place
to look and indexes its photos once (on a local engine of this process, as `findme
search` runs); then each person's `findme search --event ID` is a comparison.

    findme event create --folder event-photos/ --name "PyCon 2026"
    findme event create --server mastodon.social --query '#pycon' --live-hours 48
    findme event status ID | list | takedown ID PHOTO | delete ID

The CLI is the operator's, on its own data: taking photos down and deleting need no
owner key here (the web actions ask for it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from findme import event_admin
from findme.cli.errors import UsageError
from findme.cli.job_store import open_job_store
from findme.cli.local_engine import add_limit_flags, interrupts_ignored, limits_of
from findme.cli.output import printable
from findme.cli.search_params import source_params
from findme.client import OpenWhiskClient
from findme.jobs import FINAL_STATES, JobStore
from findme.local.runner import LocalFindMe
from findme.settings import Settings
from findme.sources import SOURCES
from findme.stages.event_status import event_document

WATCH_SECONDS = 0.2


def register(commands: argparse._SubParsersAction) -> None:
    event = commands.add_parser(
        "event",
        help="an organiser's events: photos indexed once, each person's search in seconds",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = event.add_subparsers(dest="event_command", required=True)
    create = actions.add_parser("create", help="index a place's photos once, for every search")
    create.add_argument("--folder", type=Path, help="the event's photos, in this folder")
    create.add_argument("--source", choices=SOURCES, help="where to look (default: guessed)")
    create.add_argument("--query", default="", help="the hashtags or words (e.g. '#pycon')")
    create.add_argument(
        "--server", action="append", help="a Mastodon server to read (repeat for more)"
    )
    create.add_argument("--urls", type=Path, help="a text file of photo URLs, one a line")
    create.add_argument(
        "--max-posts", type=int, default=1000, help="posts to read at most (per Mastodon server)"
    )
    create.add_argument("--name", default="", help="what attendees see (default: the place)")
    create.add_argument(
        "--live-hours",
        type=float,
        default=0,
        help="keep reading new posts for this long (while `findme serve` runs)",
    )
    create.add_argument("--retention-days", type=float, help="how long the index is kept")
    create.add_argument("--json", action="store_true", help="print one JSON document")
    create.add_argument("--workers", type=int, help="compare workers (default: one per core)")
    add_limit_flags(create)
    create.set_defaults(run=run_create)

    status = actions.add_parser("status", help="how far an event's indexing has come")
    status.add_argument("event_id", help="the event's id (findme event list shows them)")
    status.add_argument("--json", action="store_true", help="print one JSON document")
    status.set_defaults(run=run_status)

    listing = actions.add_parser("list", help="the events of this data directory")
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    listing.set_defaults(run=run_list)

    takedown = actions.add_parser(
        "takedown", help="take a photo down: gone from the index and every search's results"
    )
    takedown.add_argument("event_id", help="the event's id")
    takedown.add_argument("photo", help="the photo as results name it (path or URL)")
    takedown.set_defaults(run=run_takedown)

    delete = actions.add_parser("delete", help="delete an event, its index and its results")
    delete.add_argument("event_id", help="the event's id")
    delete.set_defaults(run=run_delete)


def _event(store: JobStore, event_id: str) -> dict[str, str]:
    event = store.fields(event_id)
    if event is None or event.get("role") != "event":
        raise UsageError(f"no event {event_id} (unknown, deleted or expired)")
    return event


def run_create(args: argparse.Namespace) -> int:
    args.threshold = 0.6  # source_params shares search's checks; no reference here
    params: dict[str, Any] = {"query": args.query, **source_params(args)}
    params["name"] = args.name
    params["live_hours"] = args.live_hours
    if args.retention_days is not None:
        params["retention_days"] = args.retention_days
    local = None
    try:
        local = LocalFindMe(
            photo_root=args.folder, compare_workers=args.workers, limits=limits_of(args)
        ).start()
        client = OpenWhiskClient(local.api_host, local.auth)
        code, created = client.invoke("create_event", params)
        if "event_id" not in created:
            raise UsageError(created.get("error") or f"create_event answered HTTP {code}")
        print(f"findme: event {created['event_id']} created", file=sys.stderr, flush=True)
        with open_job_store(local.redis_url) as store:
            _wait_indexed(store, created["event_id"], quiet=args.json)
            document = event_document(created["event_id"], store, Settings.load())
    except KeyboardInterrupt:
        print(
            "\nfindme: stopped; the event keeps what it indexed (findme serve goes on)",
            file=sys.stderr,
        )
        return 130
    finally:
        if local is not None:
            with interrupts_ignored():
                local.stop()
    document["owner_key"] = created["owner_key"]
    if args.json:
        print(json.dumps(document, indent=2))
        return 0 if document["state"] == "done" else 1
    _print_status(document)
    print(
        f"owner key (keep it: the page asks for it to take photos down or delete the event): "
        f"{created['owner_key']}"
    )
    print(f"people search it with: findme search --event {created['event_id']} --reference ME.jpg")
    if created.get("live_until"):
        print("it stays live while `findme serve` runs: new posts are read every minute")
    return 0 if document["state"] == "done" else 1


def _wait_indexed(store: JobStore, event_id: str, quiet: bool) -> None:
    bar = tqdm(total=0, unit="photo", disable=quiet or None, file=sys.stderr, leave=False)
    try:
        while True:
            progress = store.progress(event_id) or {"state": "gone"}
            bar.total, bar.n = progress.get("photos_total", 0), progress.get("photos_done", 0)
            bar.set_postfix(state=progress["state"], refresh=False)
            bar.refresh()
            if progress["state"] in (*FINAL_STATES, "gone"):
                return
            time.sleep(WATCH_SECONDS)
    finally:
        bar.close()


def _count(number: int, noun: str) -> str:
    return (
        f"{number} {noun}"
        if number == 1
        else f"{number} {noun}{'es' if noun.endswith('h') else 's'}"
    )


def _when(seconds: float | None) -> str:
    if not seconds:
        return "never"
    return f"{dt.datetime.fromtimestamp(seconds, dt.timezone.utc):%Y-%m-%d %H:%M} UTC"


def _print_status(document: dict[str, Any]) -> None:
    print(f"event {document['event_id']}: {printable(document['name'])} ({document['state']})")
    print(
        f"  {document['photos_listed']} photos listed, {document['photos_indexed']} indexed, "
        f"{document['photos_failed']} failed; {document['faces']} faces in "
        f"{document['photos_with_faces']} photos"
    )
    for failed in document["failed"][:10]:
        print(f"  failed {printable(failed['photo'])}: {printable(failed['reason'])}")
    if document["photos_taken_down"]:
        print(f"  {_count(document['photos_taken_down'], 'photo')} taken down")
    live = f"; live until {_when(document['live_until'])}" if document["live_until"] else ""
    print(f"  read {_when(document['last_read'])}{live}; {_count(document['searches'], 'search')}")


def run_status(args: argparse.Namespace) -> int:
    with open_job_store() as store:
        _event(store, args.event_id)
        document = event_document(args.event_id, store, Settings.load())
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        _print_status(document)
    return 0


def run_list(args: argparse.Namespace) -> int:
    with open_job_store() as store:
        settings = Settings.load()
        rows = [event_document(e, store, settings) for e in store.job_ids(role="event")]
    rows.sort(key=lambda d: d["created"], reverse=True)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no events in this data directory (findme event create makes one)")
        return 0
    print(f"{'event id':<32}  {'state':<9}  {'photos':>13}  {'faces':>6}  name")
    for row in rows:
        photos = f"{row['photos_indexed']}/{row['photos_listed']}"
        print(
            f"{row['event_id']:<32}  {row['state']:<9}  {photos:>13}  {row['faces']:>6}  "
            f"{printable(row['name'])}"
        )
    return 0


def run_takedown(args: argparse.Namespace) -> int:
    with open_job_store() as store:
        _event(store, args.event_id)
        done = event_admin.take_down(
            args.event_id, args.photo, store.for_job(store.fields(args.event_id))
        )
    searches = done["removed_from_searches"]
    also = f" and from {_count(searches, 'search')}" if searches else ""
    print(f"took down {args.photo}: gone from the index{also}; it is never indexed again")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    with open_job_store() as store:
        _event(store, args.event_id)
        done = event_admin.delete(args.event_id, store, Settings.load())
    emptied = done["searches_emptied"]
    also = f"; {_count(emptied, 'search')} lost its photos" if emptied else ""
    print(f"deleted event {args.event_id} and every face it indexed{also}")
    return 0
