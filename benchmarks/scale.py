"""`make scale`: a 10,000-photo search through `findme search`, under OpenWhisk's
default limits (60 fires and 60 invocations a minute, 30 in flight, no
redelivery), and a check that every count is exact.

The photos are small (320 x 240) and generated from the committed public-domain
portraits: one in 25 holds Obama, one in 25 Biden, the rest hold no face. It
prints photos/s, fires, 429s, refused activations and sweeps, and writes
benchmarks/scale.json. A benchmark, not a timed test: it fails only when a
count is wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import photo_variants as pv  # noqa: E402

SIZE = (320, 240)


# Head and shoulders: a full-length portrait at 240 px has a face of 20 px,
# smaller than FindMe looks for.
CROPS = {"obama2.jpg": 0.4, "obama3.jpg": 0.4}


def _portrait(name: str, height: int, rng: random.Random) -> Image.Image:
    image = pv.photo(name)
    keep = CROPS.get(name, 1.0)
    image = image.crop((0, 0, image.width, int(image.height * keep)))
    scale = height / image.height
    return image.resize((max(1, int(image.width * scale)), height))


def build(out: Path, count: int, seed: int = 11) -> set[str]:
    """Writes count photos; returns the names of those holding Obama."""
    marker = out / f".built-{count}-{seed}-v3"
    truth_file = out / ".obama.json"
    if marker.exists():
        return set(json.loads(truth_file.read_text()))
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    people = {"obama": ["obama2.jpg", "obama3.jpg"], "biden": ["biden.jpg"]}
    obama: set[str] = set()
    for index in range(count):
        colour = tuple(rng.randint(40, 220) for _ in range(3))
        canvas = Image.new("RGB", SIZE, colour)
        # Texture so no two photos are the same bytes (the face cache stays out of it).
        for _ in range(6):
            x, y = rng.randint(0, SIZE[0]), rng.randint(0, SIZE[1])
            shade = tuple(rng.randint(0, 255) for _ in range(3))
            canvas.paste(shade, (x, y, x + rng.randint(10, 60), y + rng.randint(10, 60)))
        canvas = canvas.filter(ImageFilter.GaussianBlur(2))
        name = f"{index // 1000:02d}/photo-{index:05d}.jpg"
        if index % 25 in (3, 16):
            person = "obama" if index % 25 == 3 else "biden"
            portrait = _portrait(rng.choice(people[person]), rng.randint(200, 236), rng)
            canvas.paste(portrait, (rng.randint(0, max(0, SIZE[0] - portrait.width)), 0))
            if person == "obama":
                obama.add(name)
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        canvas.save(out / name, "JPEG", quality=85)
    truth_file.write_text(json.dumps(sorted(obama)))
    marker.touch()
    return obama


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--folder", type=Path, default=ROOT / "build" / "scale-photos")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "scale.json")
    args = parser.parse_args()
    folder = args.folder.with_name(f"{args.folder.name}-{args.photos}")
    expected = build(folder, args.photos)
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # the embedded Redis
    command = [
        sys.executable, "-m", "findme", "search", "--json", "--engine-stats",
        "--reference", str(ROOT / "tests" / "photos" / "obama.jpg"), "--folder", str(folder),
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return 1
    result = json.loads(done.stdout)
    stats = next(
        json.loads(line)["engine"]
        for line in done.stderr.splitlines()
        if line.startswith('{"engine"')
    )
    found = {m["photo"] for m in result["matches"]}
    checks = {
        "state is done": result["state"] == "done",
        "photos_total is exact": result["photos_total"] == args.photos,
        "photos_done == photos_total": result["photos_done"] == result["photos_total"],
        "no photo failed": result["photos_failed"] == 0,
        "matches are exactly Obama's photos": found == expected,
    }
    report = {
        "photos": args.photos,
        "seconds": round(seconds, 1),
        "photos_per_second": round(args.photos / seconds, 1),
        "matches": len(found),
        "missed": sorted(expected - found)[:20],
        "false": sorted(found - expected)[:20],
        "fires": stats["fires"],
        "fires_refused_429": stats["fires_refused_429"],
        "invocations": stats["invocations"],
        "invocations_refused_429": stats["invocations_refused_429"],
        "rule_activations_refused": stats["rule_activations_refused"],
        "sweeps": stats["activations"].get("sweep", 0),
        "activations": stats["activations"],
        "checks": checks,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    if not all(checks.values()):
        print("scale: a count is wrong: " + ", ".join(k for k, ok in checks.items() if not ok))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
