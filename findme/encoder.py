"""dlib's face encoder (the ResNet of `dlib_face_recognition_resnet_model_v1.dat`)
run by ONNX Runtime: the same descriptors as dlib's compute_face_descriptor, from
the same face chips, several times faster than the prebuilt dlib-bin runs it.

The ONNX form is written from the installed .dat file the first time it is needed
(findme.resnet_onnx, about 0.4 s) and kept in the cache directory, keyed by the
file and the converter's version; the runtime image bakes it in.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import dlib
import numpy as np
import onnxruntime

from findme import resnet_onnx

CHIP_SIZE = 150  # the network's input: dlib's aligned face chip
CHIP_PADDING = 0.25  # compute_face_descriptor's default
# dlib runs its network on at most 16 chips at a time; so does FindMe, which
# bounds the activations' memory (about 10 MB a chip at the first layers).
BATCH = 16


def _session(model: str | bytes) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    # One thread: the engine runs one worker per core. No thread pool also keeps
    # the session safe to fork from the local engine's fork server.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # All of ONNX Runtime's graph optimisations (its default), which include its
    # blocked-channel layout: twice as fast on one thread as the basic ones, and
    # the same descriptors to 1e-6 (docs/speed.md).
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def cached_model_path(source: Path, cache_dir: Path) -> Path:
    """Where the ONNX form of `source` is kept: named after the file's size and
    modification time (cheap to check on every cold start) and the converter's version."""
    stat = source.stat()
    key = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_dir / f"{source.stem}-{key}-c{resnet_onnx.CONVERTER_VERSION}.onnx"


def _load(source: Path, cache_dir: Path) -> onnxruntime.InferenceSession:
    """The session, from the cached ONNX file, or built from `source` and cached
    (atomically: workers may start together). A broken cache file is rebuilt; an
    unwritable cache directory only costs the build on each start."""
    path = cached_model_path(source, cache_dir)
    with contextlib.suppress(Exception):  # missing or broken: rebuilt below
        return _session(str(path))
    data = source.read_bytes()
    model = resnet_onnx.build(data, source.name, hashlib.sha256(data).hexdigest())
    serialised = model.SerializeToString()
    with contextlib.suppress(OSError):
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=cache_dir, suffix=".partial")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(serialised)
            os.replace(partial, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(partial)
    return _session(serialised)


class Encoder:
    """128-float descriptors of faces, given dlib's landmarks (5 or 68 points)."""

    def __init__(self, source: Path, cache_dir: Path) -> None:
        self.session = _load(source, cache_dir)

    def descriptors(self, chips: np.ndarray) -> np.ndarray:
        """N x 150 x 150 x 3 uint8 chips -> N x 128 float32, 16 chips a run."""
        runs = [
            self.session.run(None, {"chips": np.ascontiguousarray(chips[i : i + BATCH])})[0]
            for i in range(0, len(chips), BATCH)
        ]
        return np.concatenate(runs) if runs else np.empty((0, 128), dtype=np.float32)

    def encode(
        self, rgb: np.ndarray, shapes: Sequence[dlib.full_object_detection], jitters: int = 0
    ) -> np.ndarray:
        """Each face's descriptor (N x 128 float32), as dlib's compute_face_descriptor
        gives it: from the face's aligned 150 px chip, or with jitters > 1 the mean
        over that many randomly jittered copies of the chip (not the chip itself)."""
        if not shapes:
            return np.empty((0, 128), dtype=np.float32)
        chips = dlib.get_face_chips(
            rgb, dlib.full_object_detections(list(shapes)), CHIP_SIZE, CHIP_PADDING
        )
        if jitters <= 1:
            return self.descriptors(np.stack(chips))
        # dlib.jitter_image draws from one random generator seeded as the one of
        # dlib's encoder, so a fresh process gives the same copies as dlib would.
        copies = np.stack([copy for chip in chips for copy in dlib.jitter_image(chip, jitters)])
        per_face = self.descriptors(copies).reshape(len(chips), jitters, -1)
        return per_face.mean(axis=1, dtype=np.float32)
