"""dlib's face encoder on ONNX Runtime gives dlib's own descriptors (real photos,
real models: dlib's compute_face_descriptor from the installed dlib is the reference)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dlib
import numpy as np
import pytest
from PIL import Image, ImageOps

from findme import encoder, faces, resnet_onnx
from findme.images import decode_for_detection
from tests import photo_variants as pv

RESNET = "dlib_face_recognition_resnet_model_v1.dat"
# The bound the issue sets: L2 distance between FindMe's descriptor and dlib's for
# the same face; FindMe's match threshold is 0.6 on the same scale. Measured: at
# most about 1e-6.
SAME = 1e-4


@pytest.fixture(scope="module")
def dlib_encoder() -> dlib.face_recognition_model_v1:
    return dlib.face_recognition_model_v1(str(faces.models_directory() / RESNET))


def _real_photos() -> dict[str, Image.Image]:
    """Every committed photo, and the variants of them FindMe is asked to handle."""
    photos = {p.name: pv.photo(p.name) for p in sorted(pv.PHOTOS.glob("*.jpg"))}
    variants = {}
    for name, image in photos.items():
        variants[f"{name} mirrored"] = ImageOps.mirror(image)
        variants[f"{name} grey"] = image.convert("L").convert("RGB")
        variants[f"{name} small"] = pv.shrunk(image, 320)
        variants[f"{name} rotated"] = image.rotate(8, expand=True, fillcolor=(255, 255, 255))
    group = pv.group(photos["biden.jpg"], photos["obama3.jpg"], photos["obama2.jpg"])
    return {**photos, **variants, "group of three": group}


def _faces(image: Image.Image) -> tuple[np.ndarray, list[dlib.full_object_detection]]:
    """The working image and the 5-point landmarks of each face FindMe detects in it."""
    pixels = decode_for_detection(pv.encoded(image), 1600)
    rects = faces.detect(pixels, 40)
    return pixels.rgb, [faces.models().landmarks(pixels.rgb, r) for r in rects]


def test_every_face_gets_dlibs_descriptor(dlib_encoder: dlib.face_recognition_model_v1) -> None:
    # Measured: for each face, the L2 distance between FindMe's descriptor (the
    # photo's faces in one batch through ONNX Runtime) and dlib's
    # compute_face_descriptor on the same photo and landmarks (so the same chip).
    gaps, count = {}, 0
    for name, image in _real_photos().items():
        rgb, shapes = _faces(image)
        if not shapes:
            continue
        ours = faces.models().encoder.encode(rgb, shapes)
        theirs = np.array(
            dlib_encoder.compute_face_descriptor(rgb, dlib.full_object_detections(shapes))
        )
        assert ours.shape == (len(shapes), 128) and ours.dtype == np.float32
        gaps[name] = float(np.linalg.norm(ours - theirs, axis=1).max())
        count += len(shapes)
    assert count >= 25  # every photo and variant has a face; the group has three
    worst = max(gaps, key=gaps.get)
    assert gaps[worst] < SAME, (worst, gaps[worst])


def test_a_face_alone_or_among_many_gets_the_same_descriptor() -> None:
    rgb, shapes = _faces(pv.group(*(pv.photo(n) for n in ("biden.jpg", "obama2.jpg") * 9)))
    assert len(shapes) > encoder.BATCH  # more than one run of the network
    together = faces.models().encoder.encode(rgb, shapes)
    alone = np.concatenate([faces.models().encoder.encode(rgb, [s]) for s in shapes])
    assert np.linalg.norm(together - alone, axis=1).max() < SAME


# A fresh interpreter: dlib's encoder and dlib.jitter_image each draw the jittered
# copies from a random generator of their own, seeded alike, so only fresh ones
# draw the same copies.
JITTERED = """
import json, sys
import dlib, numpy as np
from findme import faces
from findme.images import decode_for_detection
jitters = int(sys.argv[1])
pixels = decode_for_detection(open(sys.argv[2], "rb").read(), 1600)
m = faces.models()
rect = max(faces.detect(pixels, 100), key=lambda r: r.area())
shape = m.landmarks(pixels.rgb, rect)
ours = m.encoder.encode(pixels.rgb, [shape], jitters)[0]
model = dlib.face_recognition_model_v1(str(faces.models_directory() / sys.argv[3]))
theirs = np.array(model.compute_face_descriptor(pixels.rgb, shape, jitters))
plain = np.array(model.compute_face_descriptor(pixels.rgb, shape))
print(json.dumps([float(np.linalg.norm(ours - theirs)), float(np.linalg.norm(ours - plain))]))
"""


@pytest.mark.parametrize("jitters", [1, 10])
def test_a_jittered_reference_gets_dlibs_descriptor(jitters: int) -> None:
    run = subprocess.run(
        [sys.executable, "-c", JITTERED, str(jitters), str(pv.PHOTOS / "obama.jpg"), RESNET],
        capture_output=True,
        text=True,
        check=True,
    )
    to_dlib, to_plain = json.loads(run.stdout.strip().splitlines()[-1])
    assert to_dlib < SAME
    if jitters > 1:  # dlib jitters from 2 copies up: the copies change the descriptor
        assert to_plain > 100 * SAME
    else:
        assert to_plain < SAME


def test_the_onnx_model_is_built_once_and_rebuilt_when_broken(tmp_path: Path) -> None:
    source = faces.models_directory() / RESNET
    rgb, shapes = _faces(pv.photo("obama2.jpg"))
    expected = faces.models().encoder.encode(rgb, shapes)
    encoder.Encoder(source, tmp_path)
    (cached,) = tmp_path.glob("*.onnx")
    assert cached == encoder.cached_model_path(source, tmp_path)
    assert list(tmp_path.iterdir()) == [cached]  # no partial file left
    cached.write_bytes(cached.read_bytes()[:1000])  # a copy cut short
    rebuilt = encoder.Encoder(source, tmp_path)
    assert np.linalg.norm(rebuilt.encode(rgb, shapes) - expected, axis=1).max() < SAME
    assert cached.stat().st_size > 20_000_000


def test_the_encoder_works_when_its_cache_cannot_be_written(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    rgb, shapes = _faces(pv.photo("obama2.jpg"))
    expected = faces.models().encoder.encode(rgb, shapes)
    unwritable = encoder.Encoder(faces.models_directory() / RESNET, blocked / "cache")
    assert np.linalg.norm(unwritable.encode(rgb, shapes) - expected, axis=1).max() < SAME


def test_the_converter_refuses_another_file_saying_why(tmp_path: Path) -> None:
    landmarks = (faces.models_directory() / "shape_predictor_5_face_landmarks.dat").read_bytes()
    with pytest.raises(resnet_onnx.FormatError):
        resnet_onnx.parse(landmarks)
    resnet = (faces.models_directory() / RESNET).read_bytes()
    with pytest.raises(resnet_onnx.FormatError, match="ends too early"):
        resnet_onnx.parse(resnet[: len(resnet) // 2])
