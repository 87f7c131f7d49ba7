"""How a face's descriptor moves as the photo's edge cuts more of it: the measurements
behind findme/cut_faces.py.

Each face of the committed photos (tests/photos/SOURCE.md: Obama in three photos,
Biden, Hopper, Collins and the six at a table; at full size and at half size) is cut
by each edge in turn, by 0 to 50 % of its box, and found again as a search finds it.
For each cut face: how far its descriptor moved from the same face whole, how much
farther it got from its own person's reference (rise) and how much nearer the
nearest of the other 12 people's (drop), by the share of its box FindMe estimates
to be outside the photo from the box alone. The last columns are how much stricter
FindMe holds such a face (findme.cut_faces.stricter_by), which should cover the
drop, and how many faces came nearer another person than that.

    .venv/bin/python benchmarks/cut_faces.py
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from findme import cut_faces, faces  # noqa: E402
from findme.images import decode_for_detection  # noqa: E402
from findme.settings import DEFAULT_REFERENCE_JITTERS  # noqa: E402
from tests import photo_variants as pv  # noqa: E402

PEOPLE = {
    "obama.jpg": "obama",
    "obama2.jpg": "obama",
    "obama3.jpg": "obama",
    "biden.jpg": "biden",
    "grace_hopper.jpg": "hopper",
    "astronaut.png": "collins",
    "t1.jpg": None,  # six people, each their own
}
CUTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
EDGES = ("left", "right", "top", "bottom")
SHARE_BINS = ((0.0, 0.05), (0.05, 0.15), (0.15, 0.25), (0.25, 1 / 3), (1 / 3, 1.0))


@dataclass
class Cut:
    cut: float  # share of the face's box cut off
    share: float | None  # share outside the photo, as FindMe estimates it from the box
    drift: float  # distance from the same face whole
    rise: float  # distance to its own person's reference, minus the whole face's
    drop: float  # how much nearer the cut face came to another person (the most, of 12)


def _faces(image: Image.Image) -> tuple[list[faces.Face], int, int]:
    pixels = decode_for_detection(pv.encoded(image, quality=92), 1600)
    return faces.find_faces(pixels), pixels.width, pixels.height


def _overlap(box: faces.Box, other: tuple[float, float, float, float]) -> float:
    """The share of `other` (top, right, bottom, left) that `box` covers."""
    top, right = max(box[0], other[0]), min(box[1], other[1])
    bottom, left = min(box[2], other[2]), max(box[3], other[3])
    if right <= left or bottom <= top:
        return 0.0
    return (right - left) * (bottom - top) / ((other[1] - other[3]) * (other[2] - other[0]))


def measure() -> tuple[list[Cut], dict[float, list[int]]]:
    references: dict[str, np.ndarray] = {}
    for name, person in PEOPLE.items():
        if person and person not in references:
            pixels = decode_for_detection((pv.PHOTOS / name).read_bytes(), 1600)
            face = faces.reference_face(pixels, jitters=DEFAULT_REFERENCE_JITTERS)
            assert face is not None, name
            references[person] = face.descriptor
    for index, face in enumerate(_faces(pv.photo("t1.jpg"))[0]):
        references[f"table-{index}"] = face.descriptor
    names = list(references)
    matrix = np.stack([references[n] for n in names])
    cuts: list[Cut] = []
    found_by_cut: dict[float, list[int]] = {cut: [0, 0] for cut in CUTS}  # found, tried
    for name in PEOPLE:
        photo = pv.photo(name)
        for size in (1.0, 0.5):
            image = photo.resize((round(photo.width * size), round(photo.height * size)))
            whole, _, _ = _faces(image)
            for face in whole:
                gaps = np.linalg.norm(matrix - face.descriptor, axis=1)
                own = int(np.argmin(gaps))
                if gaps[own] > 0.45:  # a face of no one listed
                    continue
                others = np.delete(gaps, own)
                for edge in EDGES:
                    for cut in CUTS:
                        top, right, bottom, left = face.box
                        box = (left, top, right, bottom)
                        crop, dx, dy = pv.cut_by_edge(image, box, edge, cut)
                        want = (top - dy, right - dx, bottom - dy, left - dx)
                        found, width, height = _faces(crop)
                        found_by_cut[cut][1] += 1
                        best = max(found, key=lambda f: _overlap(f.box, want), default=None)
                        if best is None or _overlap(best.box, want) < 0.3:
                            continue
                        found_by_cut[cut][0] += 1
                        after = np.linalg.norm(matrix - best.descriptor, axis=1)
                        cuts.append(
                            Cut(
                                cut=cut,
                                share=cut_faces.share_outside(best.box, width, height),
                                drift=float(np.linalg.norm(best.descriptor - face.descriptor)),
                                rise=float(after[own] - gaps[own]),
                                drop=float(np.max(others - np.delete(after, own))),
                            )
                        )
    return cuts, found_by_cut


def main() -> None:
    cuts, found_by_cut = measure()
    print("faces found again, by the share of the box cut off:")
    print("  " + "  ".join(f"{c:.0%}: {f}/{t}" for c, (f, t) in found_by_cut.items()))
    print()
    print(
        f"{'share outside':<15}{'faces':>6}{'drift med':>10}{'max':>6}"
        f"{'rise mean':>10}{'max':>6}{'drop p95':>9}{'max':>6}{'FindMe stricter by':>20}"
        f"{'drop over it':>14}"
    )
    rows = [("clear of edges", [c for c in cuts if c.share is None])]
    for low, high in SHARE_BINS:
        chosen = [c for c in cuts if c.share is not None and low <= c.share < high]
        rows.append((f"{low:.2f}-{high:.2f}", chosen))
    for label, chosen in rows:
        if not chosen:
            continue
        drift = np.array([c.drift for c in chosen])
        rise = np.array([c.rise for c in chosen])
        drop = np.array([c.drop for c in chosen])
        shares = [c.share for c in chosen]
        stricter = sorted({round(cut_faces.stricter_by(s), 2) for s in shares})
        rule = "left out" if np.isinf(stricter[-1]) else f"{stricter[0]:.2f}-{stricter[-1]:.2f}"
        # Faces that came nearer another person than FindMe's margin for them, by how much.
        over = [c.drop - cut_faces.stricter_by(c.share) for c in chosen]
        over = [v for v in over if v > 0]
        beyond = f"{len(over)}, by {max(over):.3f}" if over else "0"
        print(
            f"{label:<15}{len(chosen):>6}{np.median(drift):>10.3f}{drift.max():>6.3f}"
            f"{rise.mean():>10.3f}{rise.max():>6.3f}{np.percentile(drop, 95):>9.3f}"
            f"{drop.max():>6.3f}{rule:>20}{beyond:>14}"
        )


if __name__ == "__main__":
    main()
