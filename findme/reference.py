"""The reference faces of a job: its photos of the person, and their descriptors,
cached hex-encoded in Redis.

A job has one to ten reference photos; each is reduced to its largest face, or
to the face the person chose in it (a box of faces_in_photo), encoded the
accurate way (dlib's jittered encoding), once per search. Photos without a face
are reported and skipped; a job with no usable reference fails.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from findme import faces, images
from findme.codec import descriptor_to_hex, hex_to_descriptor
from findme.download import fetch
from findme.jobs import JobStore, State
from findme.settings import Settings
from findme.sources import SourceUnavailable
from findme.sources.folder import inside_root, photo_root, read_limited
from findme.sources.profiles import network_of, profile_picture, shown


class ReferenceUnusable(Exception):
    """The job cannot go on; str(error) is the reason the user sees."""


NO_FACE = "no face in reference photo"
# What to try instead, said with every reference photo where no face was found.
NO_FACE_ADVICE = "use a larger, frontal, well-lit photo of your face"
CHOSEN_FACE_GONE = "the face you chose was not found in it again: choose it once more"


@dataclass
class References:
    fingerprints: list[str] = field(default_factory=list)
    descriptors: list[np.ndarray] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # references that could not be used, and why
    # The profile pictures used, so the search can say which one it took.
    pictures: list[dict[str, str]] = field(default_factory=list)
    # The face used in each usable reference photo: {reference: index in the job's
    # references, box: [top, right, bottom, left] in the photo's upright pixels}.
    faces: list[dict[str, Any]] = field(default_factory=list)


def _label(index: int, count: int, kind: str, value: str) -> str:
    if kind == "handle":
        network = network_of(value)
        name = shown(value, network) if network else value
    else:
        name = value or "upload"
    return f"reference {index + 1} of {count} ({name})" if count > 1 else "reference photo"


def _bytes_and_fingerprint(
    kind: str,
    value: str,
    upload: bytes | None,
    store: JobStore,
    settings: Settings,
    pictures: list[dict[str, str]],
    chosen: faces.Box | None = None,
) -> tuple[bytes | None, str]:
    """The photo's bytes (None when its descriptor is cached) and its cache key."""
    # How the face was found and encoded is part of the key: a descriptor cached by an
    # older way (which could pick another face of a tight crop) is not reused.
    jitter = f":j{settings.reference_jitters}:{faces.REFERENCE_DETECTOR}"
    if chosen is not None:  # another face of the same photo is another descriptor
        jitter += ":face" + "-".join(str(v) for v in chosen)
    if kind == "handle":
        picture = profile_picture(settings, value)
        pictures.append(
            {"handle": picture.handle, "network": picture.network, "picture": picture.url}
        )
        # X, Mastodon and Bluesky change the picture's URL when the picture changes.
        digest = hashlib.sha256(picture.url.encode()).hexdigest()
        fingerprint = f"{picture.network}-profile:{digest}{jitter}"
        if store.reference(fingerprint) is not None:
            return None, fingerprint
        data = fetch(picture.url, picture.hosts)
    elif kind == "image":
        if upload is None:
            raise images.PhotoError("the uploaded photo is no longer available")
        data = upload
    elif kind == "path":
        data = read_limited(inside_root(photo_root(settings), value, "reference_path"))
    elif kind == "url":
        data = fetch(value, settings.allowed_media_hosts | settings.url_hosts)
    else:
        raise images.PhotoError(f"unknown kind of reference {kind!r}")
    return data, hashlib.sha256(data).hexdigest() + jitter


def _reference_face(
    data: bytes, settings: Settings, chosen: faces.Box | None = None
) -> faces.Face | None:
    pixels = images.decode_for_detection(data, settings.detect_max_side)
    return faces.reference_face(pixels, settings.min_face_px, settings.reference_jitters, chosen)


def faces_in_photo(data: bytes, settings: Settings) -> dict[str, Any]:
    """The faces a person can choose from in a photo of themselves, before a search:
    their boxes (left to right, in the upright photo's pixels), the photo's size,
    and which one a search takes when the person chooses none (the largest)."""
    pixels = images.decode_for_detection(data, settings.detect_max_side)
    boxes = faces.face_boxes(pixels, settings.min_face_px)
    areas = [(right - left) * (bottom - top) for top, right, bottom, left in boxes]
    return {
        "faces": [{"box": list(box)} for box in boxes],
        "largest": areas.index(max(areas)) if areas else None,
        "width": pixels.width,
        "height": pixels.height,
    }


def _box_fingerprint(fingerprint: str) -> str:
    """Where the box of a cached reference descriptor is cached, beside it."""
    return fingerprint + ":box"


def reference_descriptors(
    job_id: str, job: dict[str, str], store: JobStore, settings: Settings
) -> References:
    listed = json.loads(job.get("references", "[]"))
    uploads = store.uploads(job_id)
    found = References()
    for index, reference in enumerate(listed):
        kind, value = reference["kind"], reference.get("value", "")
        chosen = tuple(reference["face"]) if reference.get("face") else None
        label = _label(index, len(listed), kind, value)
        try:
            data, fingerprint = _bytes_and_fingerprint(
                kind, value, uploads.get(index), store, settings, found.pictures, chosen
            )
            cached = store.reference(fingerprint)
            if cached is not None:
                descriptor = hex_to_descriptor(cached)
                box = json.loads(store.reference(_box_fingerprint(fingerprint)) or "null")
            else:
                face = _reference_face(data, settings, chosen)
                if face is None:
                    missing = CHOSEN_FACE_GONE if chosen else f"no face found ({NO_FACE_ADVICE})"
                    found.notes.append(f"{label}: {missing}")
                    continue
                descriptor, box = face.descriptor, list(face.box)
                store.save_reference(fingerprint, descriptor_to_hex(descriptor))
                store.save_reference(_box_fingerprint(fingerprint), json.dumps(box))
        except SourceUnavailable as error:
            if len(listed) == 1:
                raise ReferenceUnusable(str(error)) from None
            found.notes.append(f"{label}: {error}")
            continue
        except images.PhotoError as error:
            found.notes.append(f"{label}: {error}")
            continue
        # The job's own copy: another person deleting their search with the same
        # photo removes nothing this job needs.
        store.keep_reference(job_id, fingerprint, descriptor_to_hex(descriptor))
        found.fingerprints.append(fingerprint)
        found.descriptors.append(descriptor)
        found.faces.append({"reference": index, **({"box": box} if box else {})})
    if not found.descriptors:
        if len(listed) == 1:
            note = found.notes[0] if found.notes else NO_FACE
            no_face = note.endswith(f"no face found ({NO_FACE_ADVICE})")
            raise ReferenceUnusable(f"{NO_FACE}: {NO_FACE_ADVICE}" if no_face else note)
        raise ReferenceUnusable("no face in any reference photo: " + "; ".join(found.notes))
    return found


def load_references(job_id: str, job: dict[str, str], store: JobStore) -> np.ndarray | None:
    """The job's reference descriptors as a matrix, or None when they have expired."""
    descriptors = []
    own = store.job_references(job_id)
    for fingerprint in json.loads(job.get("reference_fingerprints", "[]")):
        # Jobs started before the per-job copies have only the shared cache.
        cached = own.get(fingerprint) or store.reference(fingerprint)
        if cached is not None:
            descriptors.append(hex_to_descriptor(cached))
    return np.stack(descriptors) if descriptors else None


def prepare_references(
    job_id: str, job: dict[str, str], store: JobStore, settings: Settings
) -> None:
    """Reference descriptors, once per job (a continuation, or a resumed search whose
    uploads were deleted once read, finds them done)."""
    if job.get("reference_fingerprints") and load_references(job_id, job, store) is not None:
        return
    store.set_state(job_id, State.SEARCHING)
    try:
        references = reference_descriptors(job_id, job, store, settings)
    except ReferenceUnusable:
        store.forget_uploads(job_id)  # the search fails: nothing reads them again
        raise
    store.update(
        job_id,
        reference_fingerprints=json.dumps(references.fingerprints),
        reference_notes=json.dumps(references.notes),
        reference_faces=json.dumps(references.faces),
        reference_pictures=json.dumps(references.pictures),
    )
    # Only now: a search stopped before this point finds its photos again.
    store.forget_uploads(job_id)
