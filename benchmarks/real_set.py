"""Builds a labelled set of real photos for `findme eval` and benchmarks/accuracy.py
from the committed photos (tests/photos/SOURCE.md): the photos unchanged, people
of known identity under people/, the group at a table (none of them) and small
copies of real photos under groups/.

    python benchmarks/real_set.py OUT_DIR
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import photo_variants as pv  # noqa: E402

PEOPLE = {
    "obama": [
        "obama.jpg",
        "obama2.jpg",
        "obama3.jpg",
        "obama_partial_face.jpg",
        "obama_partial_face2.jpg",
    ],
    "biden": ["biden.jpg"],
    "collins": ["astronaut.png"],
    "hopper": ["grace_hopper.jpg"],
    "hanks": ["Tom_Hanks_54745.png"],
    "messi": ["messi5.jpg"],
    "cameraman": ["camera.png"],
}
# Real photos posted small: the same scenes at a longest side of 300 to 500 px.
SMALL = {
    "obama3-400.jpg": ("obama3.jpg", 400, ["obama"]),
    "biden-500.jpg": ("biden.jpg", 500, ["biden"]),
    "obama2-300.jpg": ("obama2.jpg", 300, ["obama"]),
    "hopper-300.jpg": ("grace_hopper.jpg", 300, ["hopper"]),
}


def build(out: Path) -> Path:
    for name, files in PEOPLE.items():
        folder = out / "people" / name
        folder.mkdir(parents=True, exist_ok=True)
        for file in files:
            shutil.copyfile(pv.PHOTOS / file, folder / file)
    groups = out / "groups"
    groups.mkdir(parents=True, exist_ok=True)
    labels: dict[str, list[str]] = {"t1.jpg": []}  # six people, none of those above
    shutil.copyfile(pv.PHOTOS / "t1.jpg", groups / "t1.jpg")
    for file, (source, longest, names) in SMALL.items():
        (groups / file).write_bytes(pv.at_longest_side(pv.photo(source), longest))
        labels[file] = names
    (groups / "labels.json").write_text(json.dumps(labels, indent=2))
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "real-set")))
