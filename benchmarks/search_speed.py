"""`findme search` against face_recognition's defaults on a folder of your own photos,
as issue 18's check runs it: in one run, the same photos and the same reference,
each tool as its users call it; photos a second end to end, and every photo one
tool matches and the other does not.

    .venv/bin/python benchmarks/search_speed.py --baseline-python build/baseline-venv/bin/python \\
        --reference ME.jpg --folder PHOTOS [--runs 3]

The baseline (one core, dlib-bin) encodes the reference with face_recognition's
face_encodings and calls face_locations, face_encodings and face_distance on each
photo, tolerance 0.6 (benchmarks/baseline_defaults.py); its clock runs over the
photos only (not its start-up or the reference), which favours it. `findme search`
is the command a person types: a new process, an empty embedded Redis, its
defaults, start-up included; the median of --runs. Both look at the same photos:
the image files `findme search` lists. `make bench` measures the same on composites
of the committed photos; this is for real ones, which the repository cannot hold
(docs/speed.md has the figures of one such set).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from findme.sources.folder import FolderSource  # noqa: E402

TOLERANCE = 0.6


def baseline(
    python: str, reference: Path, folder: Path, photos: list[str]
) -> tuple[float, dict[str, float]]:
    """face_recognition's seconds over the photos, and each photo's nearest distance."""
    job = {"reference_image": str(reference), "paths": [str(folder / p) for p in photos]}
    done = subprocess.run(
        [python, str(ROOT / "benchmarks" / "baseline_defaults.py")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    distances = {
        photo: gap
        for photo, gap in zip(photos, result["distances"], strict=True)
        if gap is not None
    }
    return sum(result["seconds"]), distances


def findme_search(reference: Path, folder: Path, data_home: Path) -> tuple[float, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["XDG_DATA_HOME"] = str(data_home)  # a fresh embedded Redis: nothing cached before
    command = [sys.executable, "-m", "findme", "search", "--json"]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, "--reference", str(reference), "--folder", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"findme search failed: {done.stderr.strip()}")
    return wall, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--baseline-python", required=True, help="the baseline venv's python")
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = args.folder.resolve()
    photos = [entry["photo"] for entry in FolderSource(root=folder, folder=folder).photos()]
    base_seconds, base_distances = baseline(args.baseline_python, args.reference, folder, photos)
    base_matches = {name for name, gap in base_distances.items() if gap <= TOLERANCE}
    work = Path(tempfile.mkdtemp(prefix="findme-search-speed-"))
    try:
        runs = [findme_search(args.reference, folder, work / f"data{i}") for i in range(args.runs)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    wall = statistics.median(seconds for seconds, _ in runs)
    result = runs[0][1]
    ours = {match["photo"]: match["distance"] for match in result["matches"]}
    print(f"{len(photos)} photos in {args.folder}, reference {args.reference.name}")
    print(
        f"face_recognition defaults: {base_seconds:7.1f} s  {len(photos) / base_seconds:6.2f} "
        f"photos/s  {len(base_matches)} matches"
    )
    print(
        f"findme search (median of {args.runs}): {wall:5.1f} s  {len(photos) / wall:6.2f} "
        f"photos/s  {len(ours)} matches  ({base_seconds / wall:.1f}x; runs "
        + ", ".join(f"{seconds:.2f} s" for seconds, _ in runs)
        + ")"
    )
    differ = sorted(base_matches ^ set(ours))
    print(f"photos matched by one and not the other: {len(differ)}")
    for name in differ:
        base_gap = base_distances.get(name)
        shown = "no face" if base_gap is None else f"{base_gap:.3f}"
        print(f"  {name}: face_recognition {shown}, findme {ours.get(name, 'no match')}")


if __name__ == "__main__":
    main()
