"""Detection on real photos (not composites), at the sizes they are posted at: the
faces FindMe's cascade finds and those dlib's HOG over the whole photo finds (what
FindMe did before the cascade), per longest side, and every face one finds that the
other misses.

The photos are the committed real ones (tests/photos/SOURCE.md): portraits with
faces of 200 to 600 px at the larger sizes, a group at a table, a profile, glasses,
a tilted head, a face cut by the edge, a small face in a sports photo. Each is
resized (up or down) to each longest side, saved as a JPEG, and decoded as FindMe
decodes a photo (shrunk to FINDME_DETECT_MAX_SIDE).

    .venv/bin/python benchmarks/real_faces.py [--sizes 300,400,...] [--min-face 40] [--upsampled]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import dlib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from findme import faces  # noqa: E402
from findme.images import decode_for_detection  # noqa: E402
from findme.settings import DEFAULT_MIN_FACE_PX  # noqa: E402
from tests import photo_variants as pv  # noqa: E402

PHOTOS = [
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "obama_partial_face.jpg",
    "obama_partial_face2.jpg",
    "biden.jpg",
    "astronaut.png",
    "camera.png",
    "grace_hopper.jpg",
    "messi5.jpg",
    "t1.jpg",
    "Tom_Hanks_54745.png",
]
SIZES = [300, 400, 500, 600, 800, 1000, 1200, 1400, 1600, 2000, 2400]
# Whole-photo HOG's finds that are no face, looked at by eye: where they are, as
# (left, top, right, bottom) fractions of the photo, and what they are.
NOT_FACES = {
    "astronaut.png": [
        ((0.2, 0.6, 0.5, 0.9), "the mission patch on the left arm"),
        ((0.5, 0.6, 0.7, 0.8), "the name tag"),
    ],
    "obama3.jpg": [((0.05, 0.05, 0.25, 0.25), "the chandelier, blurred")],
}


def _centre_inside(rect: dlib.rectangle, other: dlib.rectangle) -> bool:
    x, y = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
    return other.left() <= x <= other.right() and other.top() <= y <= other.bottom()


def _same_face(a: dlib.rectangle, b: dlib.rectangle) -> bool:
    return _centre_inside(a, b) or _centre_inside(b, a)


def _not_a_face(name: str, rect: dlib.rectangle, width: int, height: int) -> str:
    """What whole-photo HOG's find is, when it is a known non-face; else ""."""
    x, y = (rect.left() + rect.right()) / 2 / width, (rect.top() + rect.bottom()) / 2 / height
    for (left, top, right, bottom), what in NOT_FACES.get(name, []):
        if left <= x <= right and top <= y <= bottom:
            return what
    return ""


def _where(rect: dlib.rectangle) -> str:
    return f"{rect.width()} px at ({rect.left()}, {rect.top()})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--min-face", type=int, default=DEFAULT_MIN_FACE_PX)
    parser.add_argument("--max-side", type=int, default=1600)
    parser.add_argument(
        "--upsampled",
        action="store_true",
        help="whole-photo HOG as face_recognition runs it (RGB, upsampled once), "
        "not FindMe's (grey, scaled for FINDME_MIN_FACE)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    smallest = 0.8 * args.min_face  # the cascade's promise: every face from this width up
    faces.models()  # loaded before any timing
    originals = {name: pv.photo(name) for name in PHOTOS}
    print(
        f"{len(PHOTOS)} real photos at each longest side, detected at most "
        f"{args.max_side} px, FINDME_MIN_FACE {args.min_face} (faces from {smallest:.0f} px)"
    )
    print(
        f"{'longest side':>12} | {'whole-photo HOG':>15} {'ms':>6} | "
        f"{'cascade':>8} {'ms':>6} | ratio"
    )
    differences: list[str] = []
    totals = {"whole": 0, "cascade": 0, "missed": 0, "whole_ms": 0.0, "cascade_ms": 0.0}
    for side in sizes:
        count = {"whole": 0, "cascade": 0}
        spent = {"whole": 0.0, "cascade": 0.0}
        for name, image in originals.items():
            pixels = decode_for_detection(pv.at_longest_side(image, side), args.max_side)
            start = time.process_time()
            if args.upsampled:
                whole = list(faces.models().detector(pixels.rgb, 1))
            else:
                whole = faces.detect_whole_photo(pixels, args.min_face)
            spent["whole"] += time.process_time() - start
            start = time.process_time()
            found = faces.detect(pixels, args.min_face)
            spent["cascade"] += time.process_time() - start
            whole = [r for r in whole if r.width() >= smallest]
            count["whole"] += len(whole)
            count["cascade"] += len(found)
            for rect in whole:
                if not any(_same_face(rect, f) for f in found):
                    height, width = pixels.rgb.shape[:2]
                    what = _not_a_face(name, rect, width, height)
                    note = f" (no face: {what})" if what else ""
                    totals["missed"] += not note
                    differences.append(
                        f"  {side:>5} {name}: whole-photo HOG only, {_where(rect)}{note}"
                    )
            for rect in found:
                if not any(_same_face(rect, w) for w in whole):
                    differences.append(f"  {side:>5} {name}: cascade only, {_where(rect)}")
        n = len(originals)
        whole_ms, cascade_ms = spent["whole"] / n * 1000, spent["cascade"] / n * 1000
        print(
            f"{side:>12} | {count['whole']:>15} {whole_ms:>6.0f} | {count['cascade']:>8} "
            f"{cascade_ms:>6.0f} | {whole_ms / cascade_ms:4.1f}x"
        )
        for key in ("whole", "cascade"):
            totals[key] += count[key]
            totals[f"{key}_ms"] += spent[key]
    print(
        f"{'all':>12} | {totals['whole']:>15} {'':>6} | {totals['cascade']:>8} {'':>6} | "
        f"{totals['whole_ms'] / totals['cascade_ms']:4.1f}x"
    )
    print("faces one finds and the other misses (CPU time per photo above):")
    print("\n".join(differences) if differences else "  none")
    print(f"faces whole-photo HOG finds that the cascade misses: {totals['missed']}")


if __name__ == "__main__":
    main()
