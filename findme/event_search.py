"""A person's search of an event: their reference faces against the faces the event's
index already holds (numpy, milliseconds), then against each photo indexed later.

Nothing is listed, downloaded or detected: the event did that once for everyone.
A search keeps its place in the index (matched_seq), so catching up reads only
the photos indexed since; matches are keyed by photo, so catching up twice (a
status poll and a compare activation at once) changes nothing.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from findme import event_faces, faces, places
from findme.errors import NotFound
from findme.face_cache import PhotoFaces
from findme.jobs import FINAL_STATES, JobStore, State
from findme.matching import match_record
from findme.reference import load_references, prepare_references
from findme.settings import DEFAULT_THRESHOLD, Settings

# A search stopped by its owner, or failed, gains nothing more.
STOPPED = (State.FAILED.value, State.CANCELLED.value)


def _photo_faces(entry: dict[str, Any], descriptors: np.ndarray) -> PhotoFaces:
    found = [
        faces.Face(box=tuple(box), descriptor=d.copy())
        for box, d in zip(entry["boxes"], descriptors, strict=True)
    ]
    return PhotoFaces(
        entry.get("digest", ""), found, entry["width"], entry["height"], entry.get("small_faces", 0)
    )


def catch_up(search_id: str, store: JobStore, settings: Settings) -> int:
    """Compares the photos the event indexed since the search last looked; returns how
    many new matches it recorded."""
    job = store.fields(search_id)
    if job is None or not job.get("event") or job.get("state") in STOPPED:
        return 0
    event_id = job["event"]
    seen_up_to = int(job.get("matched_seq") or 0)
    head = store.index_seq(event_id)  # read first: a photo indexed later waits its turn
    if head <= seen_up_to:
        return 0
    references = load_references(search_id, job, store)
    if references is None:
        return 0
    if seen_up_to == 0:
        indexed = event_faces.all_faces(event_id, store)  # kept by a warm activation
    else:
        indexed = event_faces.since(event_id, seen_up_to, store)
    threshold = float(job.get("threshold", DEFAULT_THRESHOLD))
    nearest = indexed.nearest_by_photo(references)
    close = [p for p, distance in nearest.items() if distance <= threshold]
    rejected = store.rejected(search_id) if close else set()
    entries = store.indexed_photos(event_id, [p for p in close if p not in rejected])
    now = time.time()
    records = {}
    for photo, entry in entries.items():
        faces_found = _photo_faces(entry, indexed.descriptors_of(photo))
        record = match_record(entry, faces_found, references, threshold, settings)
        if record is not None:
            records[photo] = {**record, "found": now}
    found = store.set_matches(search_id, records)
    store.advance(search_id, max(head, indexed.seq))
    return found


def indexed_photo(event_id: str, photo: str, store: JobStore) -> tuple[dict, PhotoFaces] | None:
    """What the event's index holds of one photo: its record and its faces."""
    entry = store.indexed_photos(event_id, [photo]).get(photo)
    faces_hex = store.indexed_faces(event_id, photo)
    if entry is None or not faces_hex:
        return None
    descriptors = event_faces.IndexedFaces.decode({photo: faces_hex}, 0).matrix
    return entry, _photo_faces(entry, descriptors)


def rematch(search_id: str, store: JobStore, settings: Settings) -> dict[str, int]:
    """Matches every indexed photo again against the search's references (after one
    was added): from the index alone, detecting nothing. Reviewed matches keep their
    verdict; rejected photos stay out."""
    job = store.fields(search_id) or {}
    event_id = job["event"]
    references = load_references(search_id, job, store)
    if references is None:
        raise NotFound("the reference descriptors of this search have expired")
    threshold = float(job.get("threshold", DEFAULT_THRESHOLD))
    rejected = store.rejected(search_id)
    indexed = event_faces.all_faces(event_id, store)
    nearest = indexed.nearest_by_photo(references)
    close = [p for p, distance in nearest.items() if distance <= threshold and p not in rejected]
    existing = {m["photo"]: m for m in store.matches(search_id)}
    records = {}
    for photo, entry in store.indexed_photos(event_id, close).items():
        record = match_record(
            entry,
            _photo_faces(entry, indexed.descriptors_of(photo)),
            references,
            threshold,
            settings,
        )
        if record is not None:
            before = existing.get(photo, {})
            records[photo] = {
                **record,
                "found": before.get("found", time.time()),
                **({"review": before["review"]} if before.get("review") else {}),
            }
    for photo, match in existing.items():
        if photo not in records and match.get("review") != "confirmed":
            store.drop_match(search_id, photo)
    store.set_matches(search_id, records)
    photos = store.index_size(event_id)
    return {"reranked": photos - len(rejected & set(nearest)), "not_cached": 0, "detected": 0}


def start(search_id: str, job: dict[str, str], store: JobStore, settings: Settings) -> str:
    """A person's search of an event: their reference faces, then everything the event
    indexed so far; it follows the event for what it indexes later."""
    prepare_references(search_id, job, store, settings)
    places.adopt(job["event"], store, settings)
    store.follow(job["event"], search_id)
    store.set_state(search_id, State.COMPARING)
    store.update(search_id, search_done="1")
    catch_up(search_id, store, settings)
    return complete(search_id, store)


def complete(search_id: str, store: JobStore) -> str:
    """Marks an event's search done once the event has indexed every photo it listed
    and the search has looked at all of them; returns the search's state."""
    job = store.fields(search_id) or {}
    state = job.get("state", "unknown")
    if state in FINAL_STATES or not job.get("event"):
        return state
    event = store.fields(job["event"])
    if event is None:
        store.fail(search_id, "the event was deleted by its organiser")
        return State.FAILED.value
    caught_up = int(job.get("matched_seq") or 0) >= store.index_seq(job["event"])
    if not caught_up or event.get("state") not in (State.DONE.value, State.FAILED.value):
        return state
    if event.get("state") == State.FAILED.value:
        # As a search of its own would: the photos found so far stay, the reason is said.
        store.fail(search_id, event.get("error", "the event's photos could not be read"))
        return State.FAILED.value
    store.set_state(search_id, State.DONE)
    store.update(search_id, finished=str(time.time()))
    return store.state(search_id) or "unknown"


def catch_up_followers(event_id: str, store: JobStore, settings: Settings) -> int:
    """Every search of the event gains the matches among its new photos."""
    found = 0
    for search_id in store.followers(event_id):
        if store.state(search_id) is None:
            store.unfollow(event_id, search_id)
            continue
        found += catch_up(search_id, store, settings)
        complete(search_id, store)
    return found
