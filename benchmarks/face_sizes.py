"""Recall of dlib's HOG detector by face size, for each way of scaling the photo:
the curve behind FindMe's detection scale (faces.HOG_SURE_FACE_PX) and its
greyscale detection. Faces from the committed portraits are pasted at known
sizes (24 to 96 px wide, as dlib boxes them) into 1200x800 JPEG photos.

    .venv/bin/python benchmarks/face_sizes.py
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dlib
import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from findme import faces  # noqa: E402
from findme.images import decode_for_detection  # noqa: E402
from tests import photo_variants as pv  # noqa: E402

SIZES = [24, 28, 32, 36, 40, 44, 48, 56, 64, 72, 80, 96]
PHOTOS_PER_SIZE = 6
FACES_PER_PHOTO = 6
Box = tuple[float, float, float, float]  # left, top, right, bottom


def _portraits() -> list[tuple[Image.Image, dlib.rectangle]]:
    detector = faces.models().detector
    out = []
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"):
        for image in (pv.photo(name), ImageOps.mirror(pv.photo(name))):
            rect = max(detector(np.asarray(image), 1), key=lambda r: r.area())
            out.append((image, rect))
    return out


def build_photos(seed: int = 3) -> list[tuple[int, bytes, list[Box]]]:
    rng = random.Random(seed)
    portraits = _portraits()
    photos = []
    for size in SIZES:
        for _ in range(PHOTOS_PER_SIZE):
            canvas = Image.new("RGB", (1200, 800), tuple(rng.randint(90, 230) for _ in range(3)))
            boxes = []
            for slot in range(FACES_PER_PHOTO):
                image, rect = rng.choice(portraits)
                k = size / rect.width()
                small = image.resize(
                    (round(image.width * k), round(image.height * k)), Image.Resampling.LANCZOS
                )
                x = (slot % 3) * 400 + rng.randint(0, max(0, 400 - small.width))
                y = (slot // 3) * 400 + rng.randint(0, max(0, 400 - small.height))
                canvas.paste(small, (x, y))
                boxes.append(
                    (x + rect.left() * k, y + rect.top() * k, x + rect.right() * k,
                     y + rect.bottom() * k)
                )  # fmt: skip
            photos.append((size, pv.encoded(canvas, "JPEG", quality=85), boxes))
    return photos


def _hits(rects: list[dlib.rectangle], boxes: list[Box]) -> int:
    """Placed faces whose centre lies inside a detection."""
    hits = 0
    for left, top, right, bottom in boxes:
        cx, cy = (left + right) / 2, (top + bottom) / 2
        hits += any(r.left() <= cx <= r.right() and r.top() <= cy <= r.bottom() for r in rects)
    return hits


def scaled(scale: float, grey: bool) -> Callable[[np.ndarray], list[dlib.rectangle]]:
    detector = faces.models().detector

    def detect(rgb: np.ndarray) -> list[dlib.rectangle]:
        image = Image.fromarray(rgb).convert("L") if grey else Image.fromarray(rgb)
        if scale != 1:
            image = image.resize(
                (round(image.width * scale), round(image.height * scale)),
                Image.Resampling.BILINEAR,
            )
        return [
            dlib.rectangle(*(round(v / scale) for v in (r.left(), r.top(), r.right(), r.bottom())))
            for r in detector(np.asarray(image), 0)
        ]

    return detect


def main() -> None:
    photos = build_photos()
    pixels = [(size, decode_for_detection(data, 1600).rgb, boxes) for size, data, boxes in photos]
    detector = faces.models().detector
    ways: list[tuple[str, Callable[[np.ndarray], list[dlib.rectangle]]]] = [
        ("face_recognition: RGB, upsampled once", lambda rgb: list(detector(rgb, 1))),
    ]
    for grey in (False, True):
        for scale in (1.0, 1.25, 1.5, 1.6, 1.75, 2.0):
            ways.append((f"{'grey' if grey else 'RGB '} scaled {scale:.2f}x", scaled(scale, grey)))
    ways.append(
        (
            "FindMe before: whole photo, min 40 px",
            lambda rgb: faces.detect_whole_photo(_as_pixels(rgb), 40),
        )
    )
    for min_face in (24, 32, 40, 56, 80):
        ways.append(
            (
                f"FindMe: MTCNN + HOG on crops, min {min_face}",
                lambda rgb, m=min_face: faces.detect(_as_pixels(rgb), m),
            )
        )
    print(f"{len(photos)} photos of 1200x800, {FACES_PER_PHOTO} faces each; recall by face width")
    print(f"{'detection':<40}{'ms/photo':>9} | " + " ".join(f"{s:>4}" for s in SIZES))
    for name, detect in ways:
        found = dict.fromkeys(SIZES, 0)
        start = time.perf_counter()
        for size, rgb, boxes in pixels:
            found[size] += _hits(detect(rgb), boxes)
        ms = (time.perf_counter() - start) / len(pixels) * 1000
        recall = [found[s] / (PHOTOS_PER_SIZE * FACES_PER_PHOTO) for s in SIZES]
        print(f"{name:<40}{ms:>9.0f} | " + " ".join(f"{r:4.2f}" for r in recall))


def _as_pixels(rgb: np.ndarray) -> faces.Pixels:
    return faces.Pixels(rgb=rgb, scale=1.0, width=rgb.shape[1], height=rgb.shape[0])


if __name__ == "__main__":
    main()
