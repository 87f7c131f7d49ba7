"""FindMe's face encoder (dlib's ResNet on ONNX Runtime) against dlib's own
compute_face_descriptor, in the same run on the same faces: time a face and the
largest L2 distance between the two descriptors, for each of ONNX Runtime's graph
optimisation levels; then a reference's 10 jittered copies.

    .venv/bin/python benchmarks/encoder.py [--photos 30]

One thread each (dlib-bin has no BLAS; ONNX Runtime is set to one thread as in
findme.encoder). Each photo's faces go through each encoder as one call, the
encoders taking turns photo by photo so that a busy machine slows them alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import dlib
import numpy as np
import onnxruntime

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import photo_set  # noqa: E402

from findme import encoder, faces  # noqa: E402
from findme.images import decode_for_detection  # noqa: E402
from findme.settings import Settings  # noqa: E402

LEVELS = {
    "basic": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all (FindMe's)": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def _encoder_at(level: onnxruntime.GraphOptimizationLevel) -> encoder.Encoder:
    settings = Settings.load(env={})
    source = faces.models_directory() / "dlib_face_recognition_resnet_model_v1.dat"
    found = encoder.Encoder(source, settings.cache_dir)  # builds the cached model if need be
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = level
    found.session = onnxruntime.InferenceSession(
        str(encoder.cached_model_path(source, settings.cache_dir)),
        options,
        providers=["CPUExecutionProvider"],
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="findme-encoder-"))
    photo_set.build(work, args.photos)
    models = faces.models()
    dlib_encoder = dlib.face_recognition_model_v1(
        str(faces.models_directory() / "dlib_face_recognition_resnet_model_v1.dat")
    )
    ours = {name: _encoder_at(level) for name, level in LEVELS.items()}
    photos = []
    for path in sorted(work.iterdir()):
        pixels = decode_for_detection(path.read_bytes(), 1600)
        shapes = [models.landmarks(pixels.rgb, r) for r in faces.detect(pixels)]
        if shapes:
            photos.append((pixels.rgb, shapes))
    count = sum(len(s) for _, s in photos)
    times: dict[str, list[float]] = {"dlib-bin": [], **{name: [] for name in ours}}
    gaps: dict[str, float] = dict.fromkeys(ours, 0.0)
    for rgb, shapes in photos:
        start = time.perf_counter()
        theirs = np.array(
            dlib_encoder.compute_face_descriptor(rgb, dlib.full_object_detections(shapes))
        )
        times["dlib-bin"].append((time.perf_counter() - start) / len(shapes))
        for name, enc in ours.items():
            start = time.perf_counter()
            mine = enc.encode(rgb, shapes)
            times[name].append((time.perf_counter() - start) / len(shapes))
            gaps[name] = max(gaps[name], float(np.linalg.norm(mine - theirs, axis=1).max()))
    print(f"{len(photos)} photos, {count} faces, one thread")
    print(f"{'encoder':<28}{'ms a face (median)':>20}{'vs dlib-bin':>13}{'largest L2 gap':>16}")
    base = statistics.median(times["dlib-bin"])
    for name, values in times.items():
        median = statistics.median(values)
        gap = "-" if name == "dlib-bin" else f"{gaps[name]:.1e}"
        print(f"{name:<28}{median * 1000:>20.1f}{base / median:>12.1f}x{gap:>16}")
    rgb, shapes = photos[0]
    start = time.perf_counter()
    dlib_encoder.compute_face_descriptor(rgb, shapes[0], 10)
    theirs_s = time.perf_counter() - start
    start = time.perf_counter()
    ours["all (FindMe's)"].encode(rgb, shapes[:1], 10)
    ours_s = time.perf_counter() - start
    print(f"a reference's 10 jittered copies: dlib-bin {theirs_s:.2f} s, FindMe {ours_s:.2f} s")


if __name__ == "__main__":
    main()
