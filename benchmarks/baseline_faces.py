"""The baseline of benchmarks/accuracy.py: the faces face_recognition 1.3.0's default
calls find and encode (load_image_file, face_locations, face_encodings), in the
baseline venv (scripts/baseline-venv.sh). Reads photo paths as JSON on stdin;
writes, for each, its faces' boxes and descriptors (hex), and the photo's width and
height, as JSON: {"faces": {path: [{box, descriptor}]}, "sizes": {path: [w, h]}}.

    build/baseline-venv/bin/python benchmarks/baseline_faces.py < paths.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline_defaults import face_recognition_module


def main() -> None:
    paths = json.load(sys.stdin)
    fr = face_recognition_module()
    found, sizes = {}, {}
    for path in paths:
        image = fr.load_image_file(path)
        locations = fr.face_locations(image)
        encodings = fr.face_encodings(image, locations)
        found[path] = [
            {"box": list(box), "descriptor": np.asarray(e, dtype="<f4").tobytes().hex()}
            for box, e in zip(locations, encodings, strict=True)
        ]
        sizes[path] = [image.shape[1], image.shape[0]]
    json.dump({"faces": found, "sizes": sizes}, sys.stdout)


if __name__ == "__main__":
    main()
