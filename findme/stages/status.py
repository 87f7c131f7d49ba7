"""search_status: what a job has found so far."""

from __future__ import annotations

import json
from typing import Any

from findme import params
from findme.errors import NotFound, run_action
from findme.jobs import JobStatus
from findme.settings import Settings
from findme.store import job_store


def status_document(status: JobStatus) -> dict[str, Any]:
    """The status of a job; "error" is present only for a failed job, since OpenWhisk
    counts any result holding an "error" field as a failed activation."""
    fields = status.fields
    document = {
        "job_id": status.job_id,
        "state": status.state,
        "query": fields.get("query", ""),
        "source": fields.get("source", ""),
        "threshold": float(fields.get("threshold", "nan")),
        "created": float(fields.get("created", "0")),
        "finished": float(fields["finished"]) if "finished" in fields else None,
        "photos_total": status.photos_total,
        "photos_done": status.photos_done,
        "photos_failed": status.photos_failed,
        # Photos holding faces too small to be sure to find (faces.Detection.too_small).
        "photos_with_small_faces": int(fields.get("photos_with_small_faces", "0")),
        "search_done": fields.get("search_done") == "1",
        "matches": status.matches,
        "failed": status.failed,
    }
    notes = json.loads(fields.get("reference_notes") or "[]")
    if notes:
        document["reference_notes"] = notes  # reference photos that could not be used
    used = json.loads(fields.get("reference_faces") or "[]")
    if used:
        document["reference_faces"] = used  # the face used in each reference photo, its box
    if fields.get("warning"):
        document["warning"] = fields["warning"]
    if fields.get("error"):
        document["error"] = fields["error"]
    return document


def search_status(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    job_id = params.job_id(args)
    store = job_store(settings)
    stalled = store.stalled_since(job_id, settings.stall_seconds)
    if stalled is not None:
        store.fail(job_id, f"no progress for {settings.stall_seconds} s: the job was stopped")
    status = store.status(job_id)
    if status is None:
        raise NotFound(f"no job {job_id} (unknown or expired)")
    return status_document(status)


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(search_status, args)
