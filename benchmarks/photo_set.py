"""A set of distinct event-like photos for benchmarks, built from the committed
public-domain portraits: about 1200 px wide, 1 to 6 people each, faces from about
60 to 300 px, with who is in each photo known."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import photo_variants as pv  # noqa: E402

PEOPLE = {
    "obama": ["obama2.jpg", "obama3.jpg", "obama_partial_face.jpg"],
    "biden": ["biden.jpg"],
}


def _portraits() -> list[tuple[str, Image.Image]]:
    out = []
    for person, files in PEOPLE.items():
        for file in files:
            image = pv.photo(file)
            out += [(person, image), (person, ImageOps.mirror(image))]
    return out


def build(out: Path, count: int, seed: int = 7) -> dict[str, set[str]]:
    """Writes count photos to out; returns photo name -> people in it."""
    rng = random.Random(seed)
    portraits = _portraits()
    out.mkdir(parents=True, exist_ok=True)
    truth = {}
    for index in range(count):
        people = rng.randint(1, 6)
        chosen = [rng.choice(portraits) for _ in range(people)]
        height = rng.randint(500, 900)
        canvas = Image.new("RGB", (1200, height), tuple(rng.randint(90, 230) for _ in range(3)))
        x = 0
        width_each = 1200 // people
        for _, portrait in chosen:
            scale = min(width_each / portrait.width, height / portrait.height) * rng.uniform(
                0.7, 1.0
            )
            shrunk = portrait.resize(
                (max(1, int(portrait.width * scale)), max(1, int(portrait.height * scale)))
            )
            canvas.paste(
                shrunk,
                (x + rng.randint(0, max(0, width_each - shrunk.width)), height - shrunk.height),
            )
            x += width_each
        name = f"event-{index:03d}.jpg"
        canvas.save(out / name, "JPEG", quality=rng.randint(75, 92))
        truth[name] = {person for person, _ in chosen}
    return truth
