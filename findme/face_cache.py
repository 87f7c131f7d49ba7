"""The per-photo face cache: the faces found in a photo's content, shared by every
search over the same photos, so a second search (or a re-ranking) detects nothing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from findme import faces
from findme.codec import descriptor_to_hex, hex_to_descriptor
from findme.images import decode_for_detection
from findme.jobs import JobStore
from findme.settings import Settings


@dataclass(frozen=True)
class PhotoFaces:
    digest: str  # sha256 of the photo's bytes
    faces: list[faces.Face]
    width: int  # upright size of the original photo
    height: int
    small_faces: int = 0  # faces too small to be sure of (faces.Detection.too_small)


def detection_key(settings: Settings) -> str:
    """What the faces found depend on, besides the photo: part of the cache key."""
    return f"{faces.DETECTOR}-{settings.detect_max_side}-{settings.min_face_px}"


def cached(digest: str, store: JobStore, settings: Settings) -> PhotoFaces | None:
    text = store.cached_faces(digest, detection_key(settings))
    if text is None:
        return None
    document = json.loads(text)
    found = [
        faces.Face(box=tuple(f["box"]), descriptor=hex_to_descriptor(f["descriptor"]))
        for f in document["faces"]
    ]
    return PhotoFaces(
        digest, found, document["width"], document["height"], document.get("small_faces", 0)
    )


def faces_of(data: bytes, store: JobStore, settings: Settings) -> PhotoFaces:
    """From the cache when this content was seen before, else decoded and detected."""
    digest = hashlib.sha256(data).hexdigest()
    hit = cached(digest, store, settings)
    if hit is not None:
        return hit
    pixels = decode_for_detection(data, settings.detect_max_side)
    detection = faces.detect_faces(pixels, settings.min_face_px)
    found = faces.find_faces(pixels, settings.min_face_px, detection.rects)
    document = {
        "faces": [
            {"box": list(f.box), "descriptor": descriptor_to_hex(f.descriptor)} for f in found
        ],
        "width": pixels.width,
        "height": pixels.height,
        "small_faces": detection.too_small,
    }
    store.save_faces(digest, detection_key(settings), json.dumps(document))
    return PhotoFaces(digest, found, pixels.width, pixels.height, detection.too_small)
