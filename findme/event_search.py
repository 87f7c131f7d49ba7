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

from findme import faces
from findme.codec import DESCRIPTOR_LENGTH
from findme.face_cache import PhotoFaces
from findme.jobs import FINAL_STATES, JobStore, State
from findme.matching import match_record
from findme.reference import load_references, prepare_references
from findme.settings import DEFAULT_THRESHOLD, Settings

_HEX_PER_FACE = DESCRIPTOR_LENGTH * 4 * 2
# A search stopped by its owner, or failed, gains nothing more.
STOPPED = (State.FAILED.value, State.CANCELLED.value)
_DTYPE = np.dtype("<f4")


def _nearest_by_photo(indexed: dict[str, str], references: np.ndarray) -> dict[str, float]:
    """Each photo's nearest face distance to any reference, all photos at once."""
    photos = [p for p, h in indexed.items() if h]
    if not photos:
        return {}
    counts = np.array([len(indexed[p]) // _HEX_PER_FACE for p in photos])
    raw = bytes.fromhex("".join(indexed[p] for p in photos))
    matrix = np.frombuffer(raw, dtype=_DTYPE).reshape(-1, DESCRIPTOR_LENGTH).astype(np.float32)
    refs = np.atleast_2d(references).astype(np.float32)
    # |a - b|^2 = |a|^2 + |b|^2 - 2ab, for 30,000 faces in one product
    squared = (
        (matrix * matrix).sum(axis=1)[:, None]
        + (refs * refs).sum(axis=1)[None, :]
        - 2.0 * matrix @ refs.T
    )
    nearest = np.sqrt(np.maximum(squared, 0.0)).min(axis=1)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    per_photo = np.minimum.reduceat(nearest, starts)
    return dict(zip(photos, per_photo.tolist(), strict=True))


def _photo_faces(entry: dict[str, Any], faces_hex: str) -> PhotoFaces:
    descriptors = np.frombuffer(bytes.fromhex(faces_hex), dtype=_DTYPE).reshape(
        -1, DESCRIPTOR_LENGTH
    )
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
    indexed = store.indexed_since(event_id, seen_up_to)
    threshold = float(job.get("threshold", DEFAULT_THRESHOLD))
    nearest = _nearest_by_photo(indexed, references)
    close = [p for p, distance in nearest.items() if distance <= threshold]
    rejected = store.rejected(search_id) if close else set()
    entries = store.indexed_photos(event_id, [p for p in close if p not in rejected])
    now = time.time()
    records = {}
    for photo, entry in entries.items():
        faces_found = _photo_faces(entry, indexed[photo])
        record = match_record(entry, faces_found, references, threshold, settings)
        if record is not None:
            records[photo] = {**record, "found": now}
    found = store.set_matches(search_id, records)
    store.advance(search_id, head)
    return found


def start(search_id: str, job: dict[str, str], store: JobStore, settings: Settings) -> str:
    """A person's search of an event: their reference faces, then everything the event
    indexed so far; it follows the event for what it indexes later."""
    prepare_references(search_id, job, store, settings)
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
