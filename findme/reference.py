"""The reference face of a job: its photo, and its descriptor cached in Redis."""

from __future__ import annotations

import hashlib

import numpy as np

from findme import faces, images
from findme.codec import descriptor_to_hex, hex_to_descriptor
from findme.download import fetch
from findme.jobs import JobStore
from findme.settings import Settings
from findme.sources.folder import inside_root, photo_root, read_limited
from findme.sources.twitter import XUnavailable, profile_picture_url


class ReferenceUnusable(Exception):
    """The job cannot go on; str(error) is the reason the user sees."""


NO_FACE = "no face in reference photo"


def _reference_bytes(
    job_id: str, job: dict[str, str], store: JobStore, settings: Settings
) -> bytes:
    kind, value = job.get("reference_kind"), job.get("reference", "")
    try:
        if kind == "image":
            data = store.take_upload(job_id)
            if data is None:
                raise ReferenceUnusable("the uploaded reference photo is no longer available")
            return data
        if kind == "path":
            return read_limited(inside_root(photo_root(settings), value, "reference_path"))
        if kind == "url":
            return fetch(value, settings.allowed_media_hosts)
    except images.PhotoError as error:
        raise ReferenceUnusable(f"reference photo: {error}") from None
    raise ReferenceUnusable(f"unknown kind of reference {kind!r}")


def reference_descriptor(
    job_id: str, job: dict[str, str], store: JobStore, settings: Settings
) -> tuple[str, np.ndarray]:
    """The descriptor of the largest face of the reference photo, and its cache key.

    Photos are keyed by their content; an X profile picture by its URL, which
    X changes whenever the picture changes, so a cached one skips the download.
    """
    picture_url = None
    if job.get("reference_kind") == "handle":
        try:
            picture_url = profile_picture_url(settings, job.get("reference", ""))
        except XUnavailable as error:
            raise ReferenceUnusable(str(error)) from None
        fingerprint = "x-profile:" + hashlib.sha256(picture_url.encode()).hexdigest()
        cached = store.reference(fingerprint)
        if cached is not None:
            return fingerprint, hex_to_descriptor(cached)
        try:
            data = fetch(picture_url, settings.allowed_media_hosts)
        except images.PhotoError as error:
            raise ReferenceUnusable(f"profile picture: {error}") from None
    else:
        data = _reference_bytes(job_id, job, store, settings)
        fingerprint = hashlib.sha256(data).hexdigest()
    cached = store.reference(fingerprint)
    if cached is not None:
        return fingerprint, hex_to_descriptor(cached)
    try:
        pixels = images.decode_for_detection(data, settings.detect_max_side)
    except images.PhotoError as error:
        raise ReferenceUnusable(f"reference photo: {error}") from None
    face = faces.largest_face(faces.find_faces(pixels, settings.detect_upsample))
    if face is None:
        raise ReferenceUnusable(NO_FACE)
    store.save_reference(fingerprint, descriptor_to_hex(face.descriptor))
    return fingerprint, face.descriptor
