"""search_status: what a job has found so far."""

from __future__ import annotations

import json
from typing import Any

from findme import params
from findme.errors import BadRequest, NotFound, run_action
from findme.jobs import JobStatus
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
    stalled = store.stalled_since(job_id, settings.stall_seconds)
    if stalled is not None:
        store.fail(job_id, f"no progress for {settings.stall_seconds} s: the job was stopped")
    status = store.status(job_id, _cursor(args), int(limit))
    if status is None:
        raise NotFound(f"no job {job_id} (unknown or expired)")
    return status_document(status)


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(search_status, args)
