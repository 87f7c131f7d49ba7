"""search_status: what a job has found so far."""

from __future__ import annotations

import json
import time
from typing import Any

from findme import event_search, params
from findme.errors import BadRequest, Forbidden, NotFound, run_action
from findme.job_words import search_name, where
from findme.jobs import JobStatus, JobStore
from findme.ownership import may_view
from findme.settings import Settings
from findme.store import job_store

# A match is about 300 bytes, a failed photo about 110: a page of each at the
# largest limit stays far under OpenWhisk's 1 MB result limit.
DEFAULT_PAGE = 500
MAX_PAGE = 1000


def status_document(status: JobStatus) -> dict[str, Any]:
    """The status of a job; "error" is present only for a failed job, since OpenWhisk
    counts any result holding an "error" field as a failed activation."""
    fields = status.fields
    document = {
        "job_id": status.job_id,
        "state": status.state,
        "query": fields.get("query", ""),
        "source": fields.get("source", ""),
        "folder": fields.get("folder", "") if fields.get("source") == "folder" else "",
        # In a person's words, as `findme jobs` and the CLI's reports say them.
        "where": where(fields),
        "name": search_name(fields),
        "threshold": float(fields.get("threshold", "nan")),
        "created": float(fields.get("created", "0")),
        "finished": float(fields["finished"]) if "finished" in fields else None,
        "photos_total": status.photos_total,
        "photos_done": status.photos_done,
        "photos_failed": status.photos_failed,
        "photos_queued": status.queued,
        "matches_total": status.matches_total,
        # Photos holding faces too small to be sure to find (faces.Detection.too_small).
        "photos_with_small_faces": int(fields.get("photos_with_small_faces", "0")),
        "search_done": fields.get("search_done") == "1",
        # Whether its link works for anyone who has it (its owner may stop sharing).
        "shared": fields.get("shared", "1") != "0",
        "matches": status.matches,
        "failed": status.failed,
        # Matches and failed photos come in pages: ask again with this cursor.
        "next_cursor": status.next_cursor,
    }
    notes = json.loads(fields.get("reference_notes") or "[]")
    if notes:
        document["reference_notes"] = notes  # reference photos that could not be used
    pictures = json.loads(fields.get("reference_pictures") or "[]")
    if pictures:
        document["reference_pictures"] = pictures  # the profile pictures the search used
    used = json.loads(fields.get("reference_faces") or "[]")
    if used:
        document["reference_faces"] = used  # the face used in each reference photo, its box
    if fields.get("warning"):
        document["warning"] = fields["warning"]
    if fields.get("error"):
        document["error"] = fields["error"]
    return document


def _event_part(store: JobStore, fields: dict[str, str]) -> dict[str, Any]:
    """What a search of an event says of the event (its counts are the search's)."""
    event_id = fields["event"]
    event = store.fields(event_id) or {}
    part: dict[str, Any] = {
        "event": {
            "event_id": event_id,
            "name": event.get("name", fields.get("event_name", "")),
            "state": event.get("state", "deleted"),
            "live_until": _live_until(event),
        },
        "photos_with_small_faces": int(event.get("photos_with_small_faces", "0")),
    }
    if event.get("warning"):
        part["warning"] = event["warning"]
    return part


def _live_until(event: dict[str, str]) -> float | None:
    until = float(event.get("live_until") or 0)
    return until if until > time.time() else None


def _cursor(args: dict[str, Any]) -> int:
    cursor = params.optional_str(args, "cursor", 16) or "0"
    if not cursor.isdigit():
        raise BadRequest("cursor must be a next_cursor this action returned")
    return int(cursor)


def search_status(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    job_id = params.job_id(args)
    limit = params.number_in_range(args, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
    store = job_store(settings)
    # Read first: a match found while this answer is made is new to the next one.
    now = time.time()
    fields = store.fields(job_id) or {}
    if not may_view(fields, args):
        raise Forbidden("its owner stopped sharing this search: only they can see it now")
    follows_event = bool(fields.get("event")) and fields.get("search_done") == "1"
    # A search of an event waits on the event's indexing, which has its own stall check.
    if not follows_event and store.stalled_since(job_id, settings.stall_seconds) is not None:
        store.fail(job_id, f"no progress for {settings.stall_seconds} s: the job was stopped")
    if follows_event:
        # Reading only what the event indexed since the search last looked: cheap.
        event_search.catch_up(job_id, store, settings)
        event_search.complete(job_id, store)
    offset = _cursor(args)
    status = store.status(job_id, offset, int(limit))
    if status is None:
        raise NotFound(f"no job {job_id} (unknown or expired)")
    document = status_document(status)
    if status.fields.get("event") and status.fields.get("search_done") == "1":
        document.update(_event_part(store, status.fields))
    since = params.number_in_range(args, "since", 0, 0, 1e11)
    if since:
        # An open page asks for what is new since it last looked ("2 new photos of
        # you"): the counts, and only the matches found since, however big the search.
        fresh = [m for m in store.matches(job_id) if m.get("found", 0) > since]
        document.update(matches=fresh[: int(limit)], failed=[], next_cursor=None)
        document["matches_new"] = len(fresh)
    document["now"] = now  # the next `since`: this answer's moment, on the server's clock
    return document


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(search_status, args)
