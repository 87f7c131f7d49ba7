"""The baseline of benchmarks/speed.py: face_recognition 1.3.0's default calls
(load_image_file, face_locations, face_encodings, face_distance) over photos, one
core, in a venv of its own with dlib-bin, as `pip install face_recognition` users
run it. Reads the reference (a descriptor in hex, or `reference_image`: a photo that
face_recognition encodes itself, as its users do) and photo paths as JSON on stdin;
writes each photo's seconds, whether the reference was found and the nearest face's
distance (null without a face), as JSON. The clock runs over the photos only.

    build/baseline-venv/bin/python benchmarks/baseline_defaults.py < job.json
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import types

import numpy as np

THRESHOLD = 0.6


def face_recognition_module() -> types.ModuleType:
    """face_recognition, with the pkg_resources its models package still imports."""
    if "pkg_resources" not in sys.modules:
        models = importlib.util.find_spec("face_recognition_models")
        base = next(iter(models.submodule_search_locations))
        shim = types.ModuleType("pkg_resources")
        shim.resource_filename = lambda _package, name: os.path.join(base, name)
        sys.modules["pkg_resources"] = shim
    import face_recognition

    return face_recognition


def main() -> None:
    job = json.load(sys.stdin)
    fr = face_recognition_module()
    if "reference_image" in job:
        reference = fr.face_encodings(fr.load_image_file(job["reference_image"]))[0]
    else:
        reference = np.frombuffer(bytes.fromhex(job["reference"]), dtype="<f4").astype(np.float64)
    warm = fr.load_image_file(job["paths"][0])
    fr.face_encodings(warm, fr.face_locations(warm))
    seconds, found, nearest = [], [], []
    for path in job["paths"]:
        start = time.perf_counter()
        image = fr.load_image_file(path)
        encodings = fr.face_encodings(image, fr.face_locations(image))
        gaps = fr.face_distance(encodings, reference) if encodings else np.empty(0)
        seconds.append(time.perf_counter() - start)
        found.append(bool(gaps.size and gaps.min() <= THRESHOLD))
        nearest.append(float(gaps.min()) if gaps.size else None)
    json.dump({"seconds": seconds, "found": found, "distances": nearest}, sys.stdout)


if __name__ == "__main__":
    main()
