"""The reference faces of a job: its photos of the person, and their descriptors,
cached hex-encoded in Redis.

A job has one to ten reference photos; each is reduced to its largest face,
encoded the accurate way (dlib's jittered encoding), once per search. Photos
without a face are reported and skipped; a job with no usable reference fails.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from findme import faces, images
from findme.codec import descriptor_to_hex, hex_to_descriptor
from findme.download import fetch
from findme.jobs import JobStore
from findme.settings import Settings
from findme.sources import SourceUnavailable
from findme.sources.folder import inside_root, photo_root, read_limited
from findme.sources.profiles import network_of, profile_picture, shown


class ReferenceUnusable(Exception):
    """The job cannot go on; str(error) is the reason the user sees."""


NO_FACE = "no face in reference photo"


@dataclass
class References:
    fingerprints: list[str] = field(default_factory=list)
    descriptors: list[np.ndarray] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # references that could not be used, and why
    # The profile pictures used, so the search can say which one it took.
    pictures: list[dict[str, str]] = field(default_factory=list)


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
) -> tuple[bytes | None, str]:
    """The photo's bytes (None when its descriptor is cached) and its cache key."""
    jitter = f":j{settings.reference_jitters}"
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


def _descriptor(data: bytes, settings: Settings) -> np.ndarray | None:
    pixels = images.decode_for_detection(data, settings.detect_max_side)
    face = faces.reference_face(pixels, settings.min_face_px, settings.reference_jitters)
    return None if face is None else face.descriptor


def reference_descriptors(
    job_id: str, job: dict[str, str], store: JobStore, settings: Settings
) -> References:
    listed = json.loads(job.get("references", "[]"))
    uploads = store.take_uploads(job_id)
    found = References()
    for index, reference in enumerate(listed):
        kind, value = reference["kind"], reference.get("value", "")
        label = _label(index, len(listed), kind, value)
        try:
            data, fingerprint = _bytes_and_fingerprint(
                kind, value, uploads.get(index), store, settings, found.pictures
            )
            cached = store.reference(fingerprint)
            if cached is not None:
                descriptor = hex_to_descriptor(cached)
            else:
                descriptor = _descriptor(data, settings)
                if descriptor is None:
                    found.notes.append(f"{label}: no face")
                    continue
                store.save_reference(fingerprint, descriptor_to_hex(descriptor))
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
    if not found.descriptors:
        if len(listed) == 1:
            note = found.notes[0] if found.notes else NO_FACE
            raise ReferenceUnusable(NO_FACE if note.endswith("no face") else note)
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
