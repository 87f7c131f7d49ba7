"""compare_images: takes photos from the job's queue, finds their faces and compares them
with the reference, until its time is nearly up; then hands over to another activation."""

from __future__ import annotations

import json
import time
from typing import Any

from findme import event_search, params
from findme.codec import descriptor_to_hex
from findme.errors import NotFound, run_action
from findme.events import seconds_left
from findme.face_cache import faces_of
from findme.images import PhotoError
from findme.jobs import FINAL_STATES, JobStore, Outcome
from findme.matching import match_record
from findme.reference import load_references
from findme.settings import DEFAULT_THRESHOLD, Settings
from findme.sources import Source, open_source
from findme.stages.wake import wake_compare
from findme.store import job_store

MAX_ATTEMPTS = 2  # a photo that ended two activations (a crash, a timeout) is failed
STOPPED_TWICE = "the photo stopped its worker twice (crash or timeout)"
# A compare activation stops taking photos this long before its deadline: a photo's
# download (30 s at most) and detection must fit in what is left (a third of a
# shorter time limit).
STOP_BEFORE_DEADLINE_SECONDS = 40.0
# How long an activation waits for photos while the listing is still going on.
IDLE_WAIT_SECONDS = 5.0
LEASE_SLACK_MS = 5_000
WITHOUT_DEADLINE_LEASE_MS = 120_000
# An event's searches gain the matches among newly indexed photos this often.
FOLLOWERS_EVERY_SECONDS = 2.0


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
        **{key: entry[key] for key in ("alt", "sensitive") if key in entry},
    }
    # Kept so a review can re-rank this photo later without detecting again.
    store.remember_photo(job_id, entry["photo"], json.dumps(meta))
    record = match_record(meta, photo, references, threshold, settings)
    if record is None:
        return Outcome.NO_MATCH, "", photo.small_faces
    return Outcome.MATCH, json.dumps(record), photo.small_faces


def _index(
    event_id: str, entry: dict[str, Any], source: Source, store: JobStore, settings: Settings
) -> tuple[Outcome, str, int]:
    """An event's photo: its faces go into the event's index (no reference to compare)."""
    try:
        data = source.read(entry)
        store.count(event_id, "photos_read")  # downloads (or file reads) the event paid for
        photo = faces_of(data, store, settings)
    except PhotoError as error:
        return Outcome.FAILED, str(error), 0
    if photo.faces:
        meta = {
            "photo": entry["photo"],
            "post_url": entry.get("post_url"),
            "author": entry.get("author"),
            "digest": photo.digest,
            "width": photo.width,
            "height": photo.height,
            "small_faces": photo.small_faces,
            "boxes": [list(face.box) for face in photo.faces],
            **{key: entry[key] for key in ("alt", "sensitive") if key in entry},
        }
        faces_hex = [descriptor_to_hex(face.descriptor) for face in photo.faces]
        store.index_photo(event_id, entry["photo"], meta, faces_hex)
    return Outcome.NO_MATCH, "", photo.small_faces


def _lease_until_ms(settings: Settings) -> int:
    """A photo taken is this activation's until the platform would have ended it."""
    if settings.deadline_ms is not None:
        return settings.deadline_ms + LEASE_SLACK_MS
    return int(time.time() * 1000) + WITHOUT_DEADLINE_LEASE_MS


def _drain(job_id: str, job: dict[str, str], store: JobStore, settings: Settings) -> dict[str, int]:
    """Examines queued photos one at a time while this activation has time."""
    is_event = job.get("role") == "event"
    references = None if is_event else load_references(job_id, job, store)
    if references is None and not is_event:
        store.fail(job_id, "the reference descriptor has expired")
        return {}
    followers_seen = time.monotonic()
    threshold = float(job.get("threshold", DEFAULT_THRESHOLD))
    source = open_source(job, settings)
    counts = {outcome.value: 0 for outcome in Outcome}
    idle_since: float | None = None
    stop_at = min(STOP_BEFORE_DEADLINE_SECONDS, seconds_left(settings) / 3)
    while seconds_left(settings) > stop_at:
        taken = store.take(job_id, _lease_until_ms(settings))
        if taken is None:
            fields = store.fields(job_id) or {}
            if fields.get("search_done") == "1" or fields.get("state") in FINAL_STATES:
                break
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > IDLE_WAIT_SECONDS:
                break  # the listing wakes compare activations again as it queues photos
            time.sleep(0.2)
            continue
        idle_since = None
        entry, attempt = taken
        if attempt > MAX_ATTEMPTS:
            outcome, payload, small = Outcome.FAILED, STOPPED_TWICE, 0
        elif is_event:
            outcome, payload, small = _index(job_id, entry, source, store, settings)
        else:
            outcome, payload, small = _examine(
                job_id, entry, source, references, threshold, store, settings
            )
        if store.record(job_id, entry["photo"], outcome, payload) == "recorded":
            counts[outcome.value] += 1
            if small:  # counted once per photo: only the activation that recorded it
                store.count_photo_with_small_faces(job_id)
        if is_event and time.monotonic() - followers_seen > FOLLOWERS_EVERY_SECONDS:
            event_search.catch_up_followers(job_id, store, settings)
            followers_seen = time.monotonic()
    if is_event:
        event_search.catch_up_followers(job_id, store, settings)
    return counts


def compare(args: dict[str, Any]) -> dict[str, Any]:
    """One compare activation: drains the job's queue within its time limit, then
    makes sure compare activations go on while photos remain."""
    settings = Settings.load(args)
    job_id = params.job_id(args)
    token = params.optional_str(args, "drainer", 64)
    store = job_store(settings)
    job = store.fields(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    store = store.for_job(job)
    if job.get("state") in FINAL_STATES:
        return {"job_id": job_id, "skipped": f"the job is {job['state']}"}
    if token:
        store.add_drainer(job_id, token, _lease_until_ms(settings))
    try:
        counts = _drain(job_id, job, store, settings)
    finally:
        if token:
            store.remove_drainer(job_id, token)
    # Photos left (time ran out, or they were queued as this one stopped): hand over.
    wake_compare(job_id, store, settings)
    if job.get("role") == "event" and counts:
        counts = {"indexed": counts[Outcome.NO_MATCH.value], "failed": counts[Outcome.FAILED.value]}
    return {"job_id": job_id, **counts}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(compare, args)
