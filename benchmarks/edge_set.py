"""Builds a labelled set for `findme eval` and benchmarks/accuracy.py from the committed
photos (tests/photos/SOURCE.md) where faces meet the photo's edge: under people/, tight
crops as people post for a profile picture (the face filling a frame of 64 to 400 px,
grey ones, the face in a corner touching two edges), which serve as references; under
groups/, photos whose edge cuts a face by 15 to 45 % of its box, of the same people
(labelled) and of the people at a table (the left-most is one of the people; the
other five, strangers, are look-alikes if matched), and a few whole photos.

    python benchmarks/edge_set.py OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import photo_variants as pv  # noqa: E402

# The table's right-most face, and its top one (left, top, right, bottom).
TABLE_RIGHT, TABLE_TOP = (1121, 295, 1224, 398), (866, 71, 1003, 194)


def cut(name: str, edge: str, share: float) -> Image.Image:
    """The photo with `share` of the face's box cut off by one edge."""
    return pv.cut_by_edge(pv.photo(name), pv.FACES[name], edge, share)[0]


PEOPLE = {
    "obama": {
        "1-tight-150.jpg": lambda: pv.tight("obama.jpg", 0.0, 150),
        "2-grey-300.jpg": lambda: pv.tight("obama2.jpg", -0.05, 300, grey=True),
        "3-corner-200.jpg": lambda: pv.corner("obama3.jpg", 200),
        "4-avatar-64.jpg": lambda: pv.tight("obama3.jpg", -0.05, 64),
        "5-tight-400.jpg": lambda: pv.tight("obama3.jpg", 0.05, 400),
    },
    "biden": {
        "1-tight-150.jpg": lambda: pv.tight("biden.jpg", 0.0, 150),
        "2-grey-300.jpg": lambda: pv.tight("biden.jpg", 0.0, 300, grey=True),
        "3-corner-200.jpg": lambda: pv.corner("biden.jpg", 200),
        "4-avatar-grey-64.jpg": lambda: pv.tight("biden.jpg", 0.0, 64, grey=True),
        "5-tight-100.jpg": lambda: pv.tight("biden.jpg", -0.05, 100),
    },
    "hopper": {
        "1-tight-150.jpg": lambda: pv.tight("grace_hopper.jpg", 0.0, 150),
        "2-grey-150.jpg": lambda: pv.tight("grace_hopper.jpg", -0.05, 150, grey=True),
        "3-corner-300.jpg": lambda: pv.corner("grace_hopper.jpg", 300),
        "4-avatar-64.jpg": lambda: pv.tight("grace_hopper.jpg", 0.1, 64),
    },
    "collins": {
        "1-tight-200.jpg": lambda: pv.tight("astronaut.png", 0.0, 200),
        "2-grey-150.jpg": lambda: pv.tight("astronaut.png", -0.05, 150, grey=True),
        "3-corner-150.jpg": lambda: pv.corner("astronaut.png", 150),
        "4-avatar-grey-64.jpg": lambda: pv.tight("astronaut.png", -0.05, 64, grey=True),
    },
    "table-left": {
        "1-tight-150.jpg": lambda: pv.tight("t1.jpg", -0.05, 150),
        "2-tight-300.jpg": lambda: pv.tight("t1.jpg", 0.0, 300),
        "3-grey-200.jpg": lambda: pv.tight("t1.jpg", 0.1, 200, grey=True),
        "4-avatar-64.jpg": lambda: pv.tight("t1.jpg", -0.05, 64),
    },
}


def _table_cut(share_sides: float, share_top: float) -> Image.Image:
    """The six at the table, the outer two (and the top one) cut by the edges."""
    table = pv.photo("t1.jpg")
    left, right, top = pv.FACES["t1.jpg"], TABLE_RIGHT, TABLE_TOP
    return table.crop(
        (
            round(left[0] + share_sides * (left[2] - left[0])),
            round(top[1] + share_top * (top[3] - top[1])),
            round(right[2] - share_sides * (right[2] - right[0])),
            table.height,
        )
    )


GROUPS = {
    "cut-obama2-left.jpg": (lambda: cut("obama2.jpg", "left", 0.2), ["obama"]),
    "cut-obama-top.jpg": (lambda: cut("obama.jpg", "top", 0.15), ["obama"]),
    "cut-obama3-right.jpg": (lambda: cut("obama3.jpg", "right", 0.3), ["obama"]),
    "cut-biden-right.jpg": (lambda: cut("biden.jpg", "right", 0.25), ["biden"]),
    "cut-biden-bottom.jpg": (lambda: cut("biden.jpg", "bottom", 0.15), ["biden"]),
    "cut-hopper-left.jpg": (lambda: cut("grace_hopper.jpg", "left", 0.2), ["hopper"]),
    "cut-collins-left.jpg": (lambda: cut("astronaut.png", "left", 0.3), ["collins"]),
    "table-cut-15.jpg": (lambda: _table_cut(0.15, 0.15), ["table-left"]),
    "table-cut-30.jpg": (lambda: _table_cut(0.3, 0.25), ["table-left"]),
    "table-cut-45.jpg": (lambda: _table_cut(0.45, 0.35), ["table-left"]),
    "table-800.jpg": (lambda: pv.shrunk(pv.photo("t1.jpg"), 800), ["table-left"]),
    "obama3-600.jpg": (lambda: pv.shrunk(pv.photo("obama3.jpg"), 600), ["obama"]),
    "biden-500.jpg": (lambda: pv.shrunk(pv.photo("biden.jpg"), 500), ["biden"]),
    "hopper-400.jpg": (lambda: pv.shrunk(pv.photo("grace_hopper.jpg"), 400), ["hopper"]),
}


def build(out: Path) -> Path:
    for name, files in PEOPLE.items():
        folder = out / "people" / name
        folder.mkdir(parents=True, exist_ok=True)
        for file, make in files.items():
            (folder / file).write_bytes(pv.encoded(make(), quality=90))
    groups = out / "groups"
    groups.mkdir(parents=True, exist_ok=True)
    for file, (make, _) in GROUPS.items():
        (groups / file).write_bytes(pv.encoded(make(), quality=90))
    labels = {file: names for file, (_, names) in GROUPS.items()}
    (groups / "labels.json").write_text(json.dumps(labels, indent=2))
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "edge-set")))
