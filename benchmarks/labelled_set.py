"""Builds the labelled set for `findme eval` from the committed public-domain photos:
portraits per person (originals, shrunk, mirrored, cropped, grey) and group composites.

    python benchmarks/labelled_set.py OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import photo_variants as pv  # noqa: E402


def _crop_to_upper_half(image: Image.Image) -> Image.Image:
    return image.crop((0, 0, image.width, image.height // 2))


def build(out: Path) -> Path:
    obama = {n: pv.photo(f"{n}.jpg") for n in ("obama", "obama2", "obama3", "obama_partial_face")}
    biden = pv.photo("biden.jpg")
    people = {
        "obama": {
            "1-obama.jpg": obama["obama"],
            "2-obama2.jpg": obama["obama2"],
            "3-obama3.jpg": obama["obama3"],
            "4-partial.jpg": obama["obama_partial_face"],
            "5-mirrored.jpg": ImageOps.mirror(obama["obama2"]),
            "6-small.jpg": pv.shrunk(obama["obama3"], 320),
            "7-grey.jpg": obama["obama"].convert("L").convert("RGB"),
            "8-cropped.jpg": _crop_to_upper_half(obama["obama2"]),
        },
        "biden": {
            "1-biden.jpg": biden,
            "2-mirrored.jpg": ImageOps.mirror(biden),
            "3-small.jpg": pv.shrunk(biden, 400),
            "4-grey.jpg": biden.convert("L").convert("RGB"),
            "5-cropped.jpg": _crop_to_upper_half(biden),
            "6-rotated.jpg": biden.rotate(8, expand=True, fillcolor=(255, 255, 255)),
        },
    }
    for name, files in people.items():
        (out / "people" / name).mkdir(parents=True, exist_ok=True)
        for file, image in files.items():
            (out / "people" / name / file).write_bytes(pv.encoded(pv.shrunk(image, 1200)))
    groups = {
        "stage.jpg": (pv.group(biden, obama["obama3"]), ["biden", "obama"]),
        "panel.jpg": (
            pv.group(ImageOps.mirror(biden), pv.shrunk(obama["obama2"], 500)),
            ["biden", "obama"],
        ),
        "hall.jpg": (pv.group(biden, pv.no_face(obama["obama"])), ["biden"]),
        "lobby.jpg": (pv.group(pv.no_face(biden), obama["obama_partial_face"]), ["obama"]),
        "empty.jpg": (pv.group(pv.no_face(biden), pv.no_face(obama["obama2"])), []),
    }
    (out / "groups").mkdir(parents=True, exist_ok=True)
    for file, (image, _) in groups.items():
        (out / "groups" / file).write_bytes(pv.encoded(pv.shrunk(image, 1200)))
    (out / "groups" / "labels.json").write_text(
        json.dumps({file: names for file, (_, names) in groups.items()}, indent=2)
    )
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "labelled-set")))
