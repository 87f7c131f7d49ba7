"""`make scale`: a 10,000-photo search through `findme search`, under OpenWhisk's
default limits (60 fires and 60 invocations a minute, 30 in flight, no
redelivery), and a check that every count is exact. The search indexes the
folder as an event; then 20 people search that event within a minute under the
default limits, and 100 at once with a cluster's raised limits: each exact, each
timed from the request to its last match, reading no photo.

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
import statistics
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from findme.client import OpenWhiskClient  # noqa: E402
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
    people = searches_of_the_event(folder, expected, result)
    checks.update(people.pop("checks"))
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
        "searches of the indexed event": people,
        "checks": checks,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    if not all(checks.values()):
        print("scale: a count is wrong: " + ", ".join(k for k, ok in checks.items() if not ok))
        return 1
    return 0


def _search(client: OpenWhiskClient, event_id: str, reference: str) -> tuple[float, dict, int]:
    """One person's search of the event, as a page does it: register, then status reads
    until done (every 0.5 s); seconds from the request to the last match, the status,
    and the invocations it cost."""
    start = time.perf_counter()
    code, started = client.invoke(
        "register_search", {"event_id": event_id, "reference_image": reference}
    )
    if code != 200:
        raise RuntimeError(started)
    calls = 1
    while True:
        _, status = client.invoke("search_status", {"job_id": started["job_id"], "limit": 1000})
        calls += 1
        if status.get("state") in ("done", "failed", "cancelled"):
            return time.perf_counter() - start, status, calls
        time.sleep(0.5)


def searches_of_the_event(folder: Path, expected: set[str], first: dict) -> dict:
    """The event the first search indexed, searched by many people through a running
    engine: 20 within a minute under OpenWhisk's defaults, then 100 at once with a
    cluster's raised limits. Every one must be exact, and read no photo."""
    import base64
    from concurrent.futures import ThreadPoolExecutor
    from functools import partial

    from findme.local.limits import Limits
    from findme.local.runner import LocalFindMe
    from findme.state import keys
    from findme.store import redis_client

    reference = base64.b64encode((ROOT / "tests" / "photos" / "obama.jpg").read_bytes()).decode()
    event_id = first["event"]["event_id"]
    figures: dict = {}
    exact: list[bool] = []
    os.environ.pop("REDIS_URL", None)  # the embedded Redis the first search used
    runs = [
        ("20 people within a minute, default limits", Limits(), 20, 3),
        (
            "100 people at once, limits raised (1000 a minute, 100 in flight)",
            Limits(invocations_per_minute=1000, concurrent_invocations=100),
            100,
            100,
        ),
    ]
    for name, limits, people, at_once in runs:
        with LocalFindMe(photo_root=folder, limits=limits) as local:
            for pool in local.engine.pools.values():
                pool.wait_ready()
            raw = redis_client(local.redis_url)
            read_before = raw.hmget(keys.job_key(event_id), "photos_read", "pages_read")
            client = OpenWhiskClient(local.api_host, local.auth)
            time.sleep(60 - time.time() % 60 + 0.5)  # a fresh minute of the namespace's budget
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=at_once) as pool:
                done = list(pool.map(partial(_search, client, event_id), [reference] * people))
            wall = time.perf_counter() - started
            read_after = raw.hmget(keys.job_key(event_id), "photos_read", "pages_read")
        seconds = sorted(s for s, _, _ in done)
        exact += [{m["photo"] for m in status["matches"]} == expected for _, status, _ in done]
        figures[name] = {
            "all exact": all({m["photo"] for m in s["matches"]} == expected for _, s, _ in done),
            "seconds, median": round(statistics.median(seconds), 2),
            "seconds, slowest": round(seconds[-1], 2),
            "wall seconds for all": round(wall, 1),
            "invocations a search (register + status reads)": statistics.mean(c for *_, c in done),
            "photos read and pages listed meanwhile": [
                int(a or 0) - int(b or 0) for a, b in zip(read_after, read_before, strict=True)
            ],
        }
    figures["checks"] = {"every person's search of the event is exact": all(exact)}
    return figures


if __name__ == "__main__":
    sys.exit(main())
