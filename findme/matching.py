"""Turning a photo's faces and the reference faces into a match record."""

from __future__ import annotations

from typing import Any

import numpy as np

from findme import faces
from findme.face_cache import PhotoFaces
from findme.settings import Settings

STRONG, POSSIBLE = "strong", "possible"


def confidence(distance: float, settings: Settings) -> str:
    """A word a person can read: bands chosen from `findme eval` measurements."""
    return STRONG if distance <= settings.strong_distance else POSSIBLE


def match_record(
    meta: dict[str, Any],
    photo: PhotoFaces,
    references: np.ndarray,
    threshold: float,
    settings: Settings,
) -> dict[str, Any] | None:
    """The photo's closest face if within the threshold (one match per photo), else None."""
    match = faces.closest_match(photo.faces, references, threshold)
    if match is None:
        return None
    return {
        "photo": meta["photo"],
        "post_url": meta.get("post_url"),
        "author": meta.get("author"),
        "distance": round(match.distance, 4),
        "confidence": confidence(match.distance, settings),
        "box": list(match.face.box),
        "faces": len(photo.faces),
        "small_faces": photo.small_faces,
        "width": photo.width,
        "height": photo.height,
        # The post's own words for its photo, and whether its author marked it sensitive.
        **{key: meta[key] for key in ("alt", "sensitive") if key in meta},
    }
