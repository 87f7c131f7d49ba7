"""compare_images: finds the faces of a batch of photos and compares them with the reference."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from findme import faces, params
from findme.codec import descriptor_to_hex, hex_to_descriptor
from findme.errors import BadRequest, NotFound, run_action
from findme.images import PhotoError, decode_for_detection
from findme.jobs import FINAL_STATES, JobStore, Outcome
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


def _faces_of(
    data: bytes, store: JobStore, settings: Settings
) -> tuple[list[faces.Face], int, int]:
    """The faces of a photo and its upright size: from the cache when this content was
    seen before (a search for someone else over the same event), else detected."""
    digest = hashlib.sha256(data).hexdigest()
    detection = f"{settings.detect_max_side}-{settings.detect_upsample}"
    cached = store.cached_faces(digest, detection)
    if cached is not None:
        document = json.loads(cached)
        found = [
            faces.Face(box=tuple(f["box"]), descriptor=hex_to_descriptor(f["descriptor"]))
            for f in document["faces"]
        ]
        return found, document["width"], document["height"]
    pixels = decode_for_detection(data, settings.detect_max_side)
    found = faces.find_faces(pixels, settings.detect_upsample)
    document = {
        "faces": [
            {"box": list(f.box), "descriptor": descriptor_to_hex(f.descriptor)} for f in found
        ],
        "width": pixels.width,
        "height": pixels.height,
    }
    store.save_faces(digest, detection, json.dumps(document))
    return found, pixels.width, pixels.height


def _examine(
    entry: dict[str, Any],
    source: Source,
    reference: Any,
    threshold: float,
    store: JobStore,
    settings: Settings,
) -> tuple[Outcome, str]:
    try:
        found, width, height = _faces_of(source.read(entry), store, settings)
    except PhotoError as error:
        return Outcome.FAILED, str(error)
    match = faces.closest_match(found, reference, threshold)
    if match is None:
        return Outcome.NO_MATCH, ""
    record = {
        "photo": entry["photo"],
        "post_url": entry.get("post_url"),
        "author": entry.get("author"),
        "distance": round(match.distance, 4),
        "box": list(match.face.box),
        "faces": len(found),
        "width": width,
        "height": height,
    }
    return Outcome.MATCH, json.dumps(record)


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
    descriptor_hex = store.reference(job.get("reference_fingerprint", ""))
    if descriptor_hex is None:
        store.fail(job_id, "the reference descriptor has expired")
        return {"job_id": job_id, "skipped": "no reference descriptor"}
    reference = hex_to_descriptor(descriptor_hex)
    threshold = float(job.get("threshold", DEFAULT_THRESHOLD))
    source = open_source(job, settings)
    counts = {outcome.value: 0 for outcome in Outcome}
    for entry in entries:
        if store.is_done(job_id, entry["photo"]):
            continue  # a redelivered event: the work is already recorded
        if store.start_attempt(job_id, entry["photo"]) > MAX_ATTEMPTS:
            outcome, payload = (
                Outcome.FAILED,
                "the photo stopped its worker twice (crash or timeout)",
            )
        else:
            outcome, payload = _examine(entry, source, reference, threshold, store, settings)
        if store.record(job_id, entry["photo"], outcome, payload) == "recorded":
            counts[outcome.value] += 1
    return {"job_id": job_id, **counts}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(compare, args)
