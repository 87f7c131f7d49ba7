"""Precision and recall at the threshold, FindMe side by side with face_recognition
1.3.0's defaults in the same run, on labelled sets in `findme eval`'s format
(DIR/people/NAME/*, DIR/groups/* with labels.json).

Each portrait is the reference in turn, as a person would search with it, over
every other photo of the set: a pair is a match when a face of the photo is within
the threshold of the reference's face. FindMe does what `findme search` does (the
reference's largest face with FINDME_REFERENCE_JITTERS jittered copies, every face
of the photo, photos shrunk to FINDME_DETECT_MAX_SIDE); the baseline runs
load_image_file, face_locations and face_encodings with their defaults on the
photos as they are (benchmarks/baseline_faces.py, in the baseline venv), with the
largest face of the reference. A reference with no face found matches nothing.

    .venv/bin/python benchmarks/accuracy.py --baseline-python build/baseline-venv/bin/python \
        build/labelled-set build/real-set
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from findme import faces  # noqa: E402
from findme.evaluation import load_labelled  # noqa: E402
from findme.images import decode_for_detection  # noqa: E402
from findme.settings import DEFAULT_THRESHOLD, Settings  # noqa: E402


@dataclass
class Found:
    reference: np.ndarray | None  # the largest face, encoded as a reference
    faces: np.ndarray  # N x 128, every face of the photo


def findme_faces(paths: list[Path], settings: Settings) -> dict[Path, Found]:
    out = {}
    for path in paths:
        pixels = decode_for_detection(path.read_bytes(), settings.detect_max_side)
        ref = faces.reference_face(pixels, settings.min_face_px, settings.reference_jitters)
        found = faces.find_faces(pixels, settings.min_face_px)
        out[path] = Found(
            None if ref is None else ref.descriptor,
            np.array([f.descriptor for f in found], dtype=np.float64).reshape(-1, 128),
        )
    return out


def baseline_faces(python: str, paths: list[Path]) -> dict[Path, Found]:
    run = subprocess.run(
        [python, str(ROOT / "benchmarks" / "baseline_faces.py")],
        input=json.dumps([str(p) for p in paths]),
        capture_output=True,
        text=True,
        check=True,
    )
    out = {}
    for path, listed in json.loads(run.stdout).items():
        descriptors = [np.frombuffer(bytes.fromhex(f["descriptor"]), "<f4") for f in listed]
        areas = [(f["box"][2] - f["box"][0]) * (f["box"][1] - f["box"][3]) for f in listed]
        out[Path(path)] = Found(
            descriptors[int(np.argmax(areas))].astype(np.float64) if listed else None,
            np.array(descriptors, dtype=np.float64).reshape(-1, 128),
        )
    return out


def scores(
    found: dict[Path, Found], people: dict[str, list[Path]], truth: dict[Path, set[str]]
) -> dict[str, float | int]:
    hits = predicted = positives = no_reference = 0
    for name, portraits in people.items():
        for reference in portraits:
            descriptor = found[reference].reference
            no_reference += descriptor is None
            for photo, names in truth.items():
                if photo == reference:
                    continue
                same = name in names
                positives += same
                photo_faces = found[photo].faces
                if descriptor is None or not len(photo_faces):
                    continue
                gaps = np.linalg.norm(photo_faces - descriptor, axis=1)
                if gaps.min() <= DEFAULT_THRESHOLD:
                    predicted += 1
                    hits += same
    return {
        "precision": hits / predicted if predicted else 1.0,
        "recall": hits / positives if positives else 1.0,
        "missed": positives - hits,
        "false": predicted - hits,
        "positives": positives,
        "no_reference": no_reference,
        "faces": sum(len(f.faces) for f in found.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", type=Path, nargs="+")
    parser.add_argument("--baseline-python", required=True)
    args = parser.parse_args()
    settings = Settings.load()
    print(
        f"precision / recall at {DEFAULT_THRESHOLD}: each portrait the reference over every "
        "other photo; same-person pairs missed and different-person pairs matched"
    )
    columns = f"{'P':>6}{'R':>7}{'miss':>5}{'false':>6}{'faces':>6}"
    print(f"{'set':<22}{'pairs':>6}{'same':>6} | {'FindMe':^30} | {'face_recognition':^30}")
    print(f"{'':<34} | {columns} | {columns}")
    worse = False
    for root in args.sets:
        people, labels = load_labelled(root)
        truth = {p: {name} for name, files in people.items() for p in files} | labels
        paths = sorted(truth)
        ours = scores(findme_faces(paths, settings), people, truth)
        base = scores(baseline_faces(args.baseline_python, paths), people, truth)
        pairs = sum(len(v) for v in people.values()) * (len(paths) - 1)
        cells = [
            f"{s['precision']:>6.3f}{s['recall']:>7.3f}{s['missed']:>5}{s['false']:>6}{s['faces']:>6}"
            for s in (ours, base)
        ]
        print(f"{root.name:<22}{pairs:>6}{ours['positives']:>6} | {cells[0]} | {cells[1]}")
        for who, s in (("FindMe", ours), ("face_recognition", base)):
            if s["no_reference"]:
                print(f"  {who}: {s['no_reference']} reference photo(s) with no face found")
        worse |= ours["precision"] < base["precision"] or ours["recall"] < base["recall"]
    print("FindMe below face_recognition's defaults" if worse else "FindMe at least as good")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
