"""review_match: the person confirms or rejects a match; a confirmed face can join the
references, and every photo of the job is re-ranked from the face cache, detecting nothing."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from findme import event_search, face_cache, params
from findme.codec import descriptor_to_hex
from findme.errors import BadRequest, NotFound, run_action
from findme.face_cache import PhotoFaces
from findme.jobs import JobStore
from findme.matching import match_record
from findme.ownership import require_search_owner
from findme.reference import load_references
from findme.settings import DEFAULT_THRESHOLD, Settings
from findme.stages.register import MAX_REFERENCES
from findme.store import job_store

VERDICTS = ("confirm", "reject", "unreject")  # unreject: undo a "Not me"


def _add_reference(
    job_id: str,
    job: dict[str, str],
    photo: str,
    match: dict[str, Any],
    store: JobStore,
    settings: Settings,
) -> None:
    fingerprints = json.loads(job.get("reference_fingerprints", "[]"))
    if len(fingerprints) >= MAX_REFERENCES:
        raise BadRequest(f"add_reference: the search has {MAX_REFERENCES} references already")
    _, cached = _faces_of(job_id, job, photo, store, settings)
    face = next((f for f in cached.faces if list(f.box) == match["box"]), None) if cached else None
    if face is None:
        raise NotFound(f"the faces of {photo} are no longer cached")
    fingerprint = f"confirmed:{job_id}:{hashlib.sha256(photo.encode()).hexdigest()}"
    # The job's own: it goes with the job.
    store.keep_reference(job_id, fingerprint, descriptor_to_hex(face.descriptor), shared=False)
    if fingerprint not in fingerprints:
        fingerprints.append(fingerprint)
    store.update(job_id, reference_fingerprints=json.dumps(fingerprints))


def _faces_of(
    job_id: str, job: dict[str, str], photo: str, store: JobStore, settings: Settings
) -> tuple[dict[str, Any] | None, PhotoFaces | None]:
    """An examined photo's record and faces: from its event's index, or (a search that
    read its photos itself) from the face cache."""
    if job.get("event"):
        found = event_search.indexed_photo(job["event"], photo, store)
        return found if found is not None else (None, None)
    meta = store.seen_photos(job_id).get(photo)
    cached = face_cache.cached(meta.get("digest", ""), store, settings) if meta else None
    return meta, cached


def rerank(job_id: str, store: JobStore, settings: Settings) -> dict[str, int]:
    """Matches again, against the current references, from the cached faces only."""
    job = store.fields(job_id) or {}
    if job.get("event"):
        return event_search.rematch(job_id, store, settings)
    references: np.ndarray | None = load_references(job_id, job, store)
    if references is None:
        raise NotFound("the reference descriptors of this search have expired")
    threshold = float(job.get("threshold", DEFAULT_THRESHOLD))
    rejected = store.rejected(job_id)
    counts = {"reranked": 0, "not_cached": 0, "detected": 0}
    for photo, meta in store.seen_photos(job_id).items():
        if photo in rejected:
            continue
        cached = face_cache.cached(meta.get("digest", ""), store, settings)
        if cached is None:
            counts["not_cached"] += 1
            continue
        counts["reranked"] += 1
        existing = store.match(job_id, photo)
        record = match_record(meta, cached, references, threshold, settings)
        if record is not None:
            if existing and existing.get("review"):
                record["review"] = existing["review"]
            store.set_match(job_id, photo, record)
        elif existing and existing.get("review") != "confirmed":
            store.drop_match(job_id, photo)
    return counts


def _unreject(job_id: str, photo: str, store: JobStore, settings: Settings) -> dict[str, Any]:
    """Undoes a "Not me": the photo is matched again from its cached faces."""
    if not store.unreject(job_id, photo):
        raise NotFound(f"{photo} was not rejected in this search")
    job = store.fields(job_id) or {}
    references = load_references(job_id, job, store)
    meta, cached = _faces_of(job_id, job, photo, store, settings)
    if references is None or meta is None or cached is None:
        raise NotFound(f"the faces of {photo} are no longer cached")
    threshold = float(job.get("threshold", DEFAULT_THRESHOLD))
    record = match_record(meta, cached, references, threshold, settings)
    if record is not None:
        store.set_match(job_id, photo, record)
    return {"job_id": job_id, "photo": photo, "verdict": "unreject", "match": record is not None}


def review(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    params.require_post(args, "review_match")
    job_id = params.job_id(args)
    photo = params.required_str(args, "photo", 2048)
    verdict = params.required_str(args, "verdict", 16)
    if verdict not in VERDICTS:
        raise BadRequest(f"verdict must be one of: {', '.join(VERDICTS)}")
    add_reference = args.get("add_reference", False)
    if add_reference not in (True, False, "true", "false"):
        raise BadRequest("add_reference must be true or false")
    store = job_store(settings)
    job = store.fields(job_id)
    if job is None:
        raise NotFound(f"no job {job_id} (unknown or expired)")
    require_search_owner(job, args)
    if verdict == "unreject":
        return _unreject(job_id, photo, store, settings)
    match = store.match(job_id, photo)
    if match is None:
        raise NotFound(f"{photo} is not a match of this search")
    if verdict == "reject":
        store.reject(job_id, photo)
        return {"job_id": job_id, "photo": photo, "verdict": verdict}
    match["review"] = "confirmed"
    store.set_match(job_id, photo, match)
    result: dict[str, Any] = {"job_id": job_id, "photo": photo, "verdict": verdict}
    if add_reference in (True, "true"):
        _add_reference(job_id, job, photo, match, store, settings)
        result.update(rerank(job_id, store, settings))
    return result


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(review, args)
