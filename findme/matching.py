"""Turning a photo's faces and the reference faces into a match record."""

from __future__ import annotations

from typing import Any

import numpy as np

from findme import cut_faces, faces
from findme.face_cache import PhotoFaces
from findme.settings import DEFAULT_THRESHOLD, Settings

STRONG, POSSIBLE = "strong", "possible"


def confidence(distance: float, settings: Settings, stricter_by: float = 0.0) -> str:
    """A word a person can read: bands chosen from `findme eval` measurements (a face
    cut by the photo's edge is held `stricter_by` nearer, findme.cut_faces)."""
    return STRONG if distance <= settings.strong_distance - stricter_by else POSSIBLE


def _scored(
    photo_faces: list[faces.Face], width: int, height: int, references: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """comparable_distances, and each face's findme.cut_faces.stricter_by."""
    gaps = faces.distances(photo_faces, references)
    stricter = np.array(
        [cut_faces.stricter_by(cut_faces.share_outside(f.box, width, height)) for f in photo_faces],
        dtype=np.float64,
    )
    out_of_reach = (stricter > 0) & (gaps > DEFAULT_THRESHOLD - stricter)
    return np.where(out_of_reach, np.inf, gaps), stricter


def comparable_distances(
    photo_faces: list[faces.Face], width: int, height: int, references: np.ndarray
) -> np.ndarray:
    """Each face's distance to the nearest reference, or infinity for a face cut by
    the edge that is farther than a cut face can match at any threshold: the
    distances a threshold is compared with (`findme eval` sweeps them too)."""
    return _scored(photo_faces, width, height, references)[0]


def match_record(
    meta: dict[str, Any],
    photo: PhotoFaces,
    references: np.ndarray,
    threshold: float,
    settings: Settings,
) -> dict[str, Any] | None:
    """The photo's closest face if within the threshold (one match per photo), else
    None. A face cut by the photo's edge matches only nearer (findme.cut_faces), and
    a whole face within the threshold is shown before a cut one a little nearer."""
    gaps, stricter = _scored(photo.faces, photo.width, photo.height, references)
    if not gaps.size or gaps.min() > threshold:
        return None
    best = int(np.argmin(np.where(gaps <= threshold, gaps + stricter, np.inf)))
    face, distance = photo.faces[best], float(gaps[best])
    return {
        "photo": meta["photo"],
        "post_url": meta.get("post_url"),
        "author": meta.get("author"),
        "distance": round(distance, 4),
        "confidence": confidence(distance, settings, float(stricter[best])),
        "box": list(face.box),
        # The face is cut by the photo's edge: matched only nearer than a whole one.
        "cut": bool(stricter[best] > 0),
        "faces": len(photo.faces),
        "small_faces": photo.small_faces,
        "width": photo.width,
        "height": photo.height,
        # The post's own words for its photo, and whether its author marked it sensitive.
        **{key: meta[key] for key in ("alt", "sensitive") if key in meta},
    }
