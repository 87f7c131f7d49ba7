"""Profile pictures as references: FindMe beside face_recognition 1.3.0's defaults on
tight crops of every face of the committed photos (tests/photos/SOURCE.md).

Each face is cropped square around its box with a margin of -5 % (the frame cuts
into the face) to +20 % of its width, at 32 to 400 px, in colour and grey, and in a
corner of the frame touching two edges. For each crop: does FindMe read it as a
reference (its largest face, as `findme search --reference` does), do the defaults
(face_locations, then the largest face), and how far is the face read from the same
face in the whole photo.

    .venv/bin/python benchmarks/tight_crops.py --baseline-python build/baseline-venv/bin/python
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from accuracy import baseline_faces  # noqa: E402

from findme import faces  # noqa: E402
from findme.images import decode_for_detection  # noqa: E402
from tests import photo_variants as pv  # noqa: E402

PHOTOS = ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "grace_hopper.jpg"]
PHOTOS += ["astronaut.png", "t1.jpg"]
MARGINS = (-0.05, 0.0, 0.05, 0.1, 0.2)
SIZES = (32, 48, 64, 100, 150, 200, 300, 400)


def crops(folder: Path) -> list[tuple[Path, int, np.ndarray]]:
    """Writes the crops; returns each one's path, size and the whole face's descriptor."""
    made = []
    for name in PHOTOS:
        photo = pv.photo(name)
        whole = faces.find_faces(decode_for_detection((pv.PHOTOS / name).read_bytes(), 4000))
        for index, face in enumerate(whole):
            top, right, bottom, left = face.box
            box = (left, top, right, bottom)
            for size in SIZES:
                framings = {f"m{m:+.2f}": pv.framed(photo, box, m, size) for m in MARGINS}
                framings["corner"] = pv.in_corner(photo, box, size)
                for label, image in framings.items():
                    for grey in (False, True):
                        path = folder / f"{Path(name).stem}-{index}-{label}-{size}-{grey:d}.jpg"
                        (image.convert("L") if grey else image).save(path, quality=90)
                        made.append((path, size, face.descriptor))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-python", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        made = crops(Path(folder))
        theirs = baseline_faces(args.baseline_python, [path for path, _, _ in made])
        rows: dict[str, list[tuple[float | None, float | None]]] = {}
        for path, size, whole in made:
            ours = faces.reference_face(decode_for_detection(path.read_bytes(), 1600))
            base = theirs[path].reference
            band = "32-48 px" if size < 64 else "64 px" if size == 64 else "100-400 px"
            rows.setdefault(band, []).append(
                (
                    None if ours is None else float(np.linalg.norm(ours.descriptor - whole)),
                    None if base is None else float(np.linalg.norm(base - whole)),
                )
            )
    print(
        "tight crops read as references, and the distance of the face read to the same face whole"
    )
    print(
        f"{'crops':<12}{'count':>6} | {'FindMe reads':>13}{'median':>8}{'max':>7}"
        f" | {'defaults read':>14}{'median':>8}{'max':>7} | {'only defaults':>13}"
    )
    for band, pairs in rows.items():
        ours = [o for o, _ in pairs if o is not None]
        base = [b for _, b in pairs if b is not None]
        only_theirs = sum(o is None and b is not None for o, b in pairs)
        print(
            f"{band:<12}{len(pairs):>6} | {len(ours):>13}{np.median(ours):>8.3f}{max(ours):>7.3f}"
            f" | {len(base):>14}{np.median(base):>8.3f}{max(base):>7.3f} | {only_theirs:>13}"
        )


if __name__ == "__main__":
    main()
