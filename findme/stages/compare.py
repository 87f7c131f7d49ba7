"""compare_images: finds the faces of a batch of photos and compares them with the reference."""

from __future__ import annotations

import json
from typing import Any

from findme import params
from findme.errors import BadRequest, NotFound, run_action
from findme.face_cache import faces_of
from findme.images import PhotoError
from findme.jobs import FINAL_STATES, JobStore, Outcome
from findme.matching import match_record
from findme.reference import load_references
from findme.settings import DEFAULT_THRESHOLD, Settings
from findme.sources import Source, open_source
from findme.store import job_store

MAX_BATCH = 100
MAX_ATTEMPTS = 2  # a photo that ended two activations (a crash, a timeout) is failed


def _entries(args: dict[str, Any]) -> list[dict[str, Any]]:
    photos = args.get("photos")
    if not isinstance(photos, list) or not photos:
        raise BadRequest("photos must be a non-empty list")
    if len(photos) > MAX_BATCH:
        raise BadRequest(f"photos holds at most {MAX_BATCH} entries")
    for entry in photos:
        if not isinstance(entry, dict) or not isinstance(entry.get("photo"), str):
            raise BadRequest('each entry of photos must be an object with a "photo" string')
    return photos


def _examine(
    job_id: str,
    entry: dict[str, Any],
    source: Source,
    references: Any,
    threshold: float,
    store: JobStore,
    settings: Settings,
) -> tuple[Outcome, str, int]:
    """The photo's outcome, its record, and how many faces it holds too small to be sure of."""
    try:
        photo = faces_of(source.read(entry), store, settings)
    except PhotoError as error:
        return Outcome.FAILED, str(error), 0
    meta = {
        "photo": entry["photo"],
        "post_url": entry.get("post_url"),
        "author": entry.get("author"),
        "digest": photo.digest,
    }
    # Kept so a review can re-rank this photo later without detecting again.
    store.remember_photo(job_id, entry["photo"], json.dumps(meta))
    record = match_record(meta, photo, references, threshold, settings)
    if record is None:
        return Outcome.NO_MATCH, "", photo.small_faces
    return Outcome.MATCH, json.dumps(record), photo.small_faces


def compare(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    job_id = params.job_id(args)
    entries = _entries(args)
    store = job_store(settings)
    job = store.fields(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.get("state") in FINAL_STATES:
        return {"job_id": job_id, "skipped": f"the job is {job['state']}"}
    references = load_references(job, store)
    if references is None:
        store.fail(job_id, "the reference descriptor has expired")
        return {"job_id": job_id, "skipped": "no reference descriptor"}
    threshold = float(job.get("threshold", DEFAULT_THRESHOLD))
    source = open_source(job, settings)
    counts = {outcome.value: 0 for outcome in Outcome}
    for entry in entries:
        if store.is_done(job_id, entry["photo"]):
            continue  # a redelivered event: the work is already recorded
        if store.start_attempt(job_id, entry["photo"]) > MAX_ATTEMPTS:
            outcome, payload, small = (
                Outcome.FAILED,
                "the photo stopped its worker twice (crash or timeout)",
                0,
            )
        else:
            outcome, payload, small = _examine(
                job_id, entry, source, references, threshold, store, settings
            )
        if store.record(job_id, entry["photo"], outcome, payload) == "recorded":
            counts[outcome.value] += 1
            if small:
                store.count_photo_with_small_faces(job_id)
    return {"job_id": job_id, **counts}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(compare, args)
