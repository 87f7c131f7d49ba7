"""Face detection, encoding and comparison with dlib's models.

The models are loaded once per process (a warm OpenWhisk container or a
worker of the local engine keeps them) and only when first needed, so actions
that never look at a face never pay for them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import dlib
import numpy as np
from PIL import Image, ImageOps

from findme import encoder, mtcnn
from findme.images import Pixels
from findme.settings import DEFAULT_MIN_FACE_PX, SURE_FIND_PER_MIN_FACE, Settings

# Names the detection method in the per-photo face cache's keys: faces cached by
# another method are not reused.
DETECTOR = "mtcnn+hog-4"
Box = tuple[int, int, int, int]  # top, right, bottom, left, in the original photo's pixels

# dlib's HOG detector scans an 80 px window. Measured on greyscale photos
# (benchmarks/face_sizes.py), it finds every face from 64 px up, half of those
# of 56 px and a fifth of those of 48 px: whole-photo detection scales the photo
# so that the smallest face asked for becomes 70 px, a margin over 64.
HOG_SURE_FACE_PX = 70
# The cascade's P-Net pyramid starts where faces this many times min_face_px
# (HOG's width) are 12 px tall. MTCNN's box is 1.28 HOG widths tall on average
# but as little as 0.9 on real faces (a 42 px face of benchmarks/real_faces.py's
# group photo, 38 px tall to MTCNN): 1.4 lost it, 1.2 finds it, and finds every
# pasted face from 0.7 x min_face_px up (benchmarks/face_sizes.py).
MTCNN_MIN_FACE_PER_MIN_FACE = 1.2
# MTCNN boxes a face from brow to chin; HOG's square box is about 0.78 of that
# height, centred 5 % of it lower (178 faces of the benchmark photos, matched).
HOG_SIDE_PER_MTCNN_HEIGHT = 0.78
HOG_CENTRE_DROP = 0.05
# Each candidate is checked by HOG on a crop 1.4 faces wide, scaled so the face
# is 90 to 108 px: over the 64 px from which HOG finds every face. (Crops 2.2
# faces wide found the same faces, 20 % slower.)
HOG_CROP_FACE_PX = 90
HOG_CROP_MARGIN = 0.7
# A face MTCNN is sure of gets a lower bar from HOG: on real photos (benchmarks/
# real_faces.py) HOG on the crop scored such faces down to -0.25 where HOG over
# the whole photo found them (a profile, a face in a group), while every MTCNN
# candidate there that was no face scored under 0.95 with MTCNN.
MTCNN_SURE = 0.99
HOG_THRESHOLD_WHEN_SURE = -0.5
DUPLICATE_OVERLAP = 0.4  # HOG boxes of one face found from two candidates
# A face that fills the photo (a selfie, a profile picture) touches its edges, where
# MTCNN, trained on faces with a margin, does not see it. When the cascade sees no
# face at all, it looks again on a copy of the photo at most this many pixels long,
# given a border of its mean colour a quarter of its longest side wide, for faces of
# at least a fifth of that side: a few milliseconds, on photos without faces only.
FILLING_COPY_SIDE = 240
FILLING_BORDER = 0.25
FILLING_MIN_FACE = 0.2
REFERENCE_FACE_PX = 100  # looked for first in a reference photo
# A face chosen in a reference photo is found again by its box: the detected face
# overlapping it most, if by this much (the same detection gives the same box).
CHOSEN_FACE_OVERLAP = 0.5

# A reference is one photo: worth more detection than a photo searched. Profile
# pictures are mostly tight crops whose face fills the frame and touches its edges,
# where HOG's window and MTCNN's crops lack the margin they were trained with; the
# photo is padded on every side by this share of its longest side, in its mean
# colour (edge-replicated borders made ghost faces and lost more: the measurements
# are in docs/accuracy.md).
REFERENCE_PADDING = 0.25
# Whole-photo HOG on the padded reference, in grey: scaled so its longest side is
# this many pixels, upsampled at most this much (a 64 px avatar's 50 px face becomes
# 200 px). Faces smaller than 64 px at that scale are the cascade's to find. (1200 px,
# and RGB, found no more tight crops and took 1.5 times as long.)
REFERENCE_HOG_SIDE = 800
REFERENCE_HOG_MAX_UPSAMPLE = 4.0
# Names how a reference face is found and encoded, in the reference cache's keys.
REFERENCE_DETECTOR = "pad-hog-2"


@dataclass(frozen=True)
class Face:
    box: Box
    descriptor: np.ndarray  # 128 float32


@dataclass(frozen=True)
class Match:
    face: Face
    distance: float


def frontal_face_detector(cache_dir: Path) -> dlib.fhog_object_detector:
    """dlib's HOG face detector. dlib rebuilds it from a compressed string in 0.2 s
    a process; saved in its own format, it loads in 3 ms. The file is written once
    (atomically) and keyed by dlib's version; a broken or unwritable one is skipped."""
    path = cache_dir / f"frontal_face_detector-dlib-{dlib.__version__}.svm"
    with contextlib.suppress(Exception):  # dlib raises plain RuntimeErrors
        return dlib.fhog_object_detector(str(path))
    detector = dlib.get_frontal_face_detector()
    with contextlib.suppress(OSError, RuntimeError):
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=cache_dir, suffix=".partial")
        os.close(handle)
        try:
            detector.save(partial)
            os.replace(partial, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(partial)
    return detector


class _Models:
    def __init__(self, directory: Path, cache_dir: Path) -> None:
        self.detector = frontal_face_detector(cache_dir)
        self.cascade = mtcnn.Cascade()
        # The 5-point landmarks are what face_recognition uses by default for
        # encodings, and they are faster than the 68-point ones.
        self.landmarks = dlib.shape_predictor(
            str(directory / "shape_predictor_5_face_landmarks.dat")
        )
        # dlib's face encoder, run by ONNX Runtime (findme.encoder).
        self.encoder = encoder.Encoder(
            directory / "dlib_face_recognition_resnet_model_v1.dat", cache_dir
        )


_models: _Models | None = None
_models_lock = threading.Lock()


def models_directory() -> Path:
    """Where the face_recognition_models package keeps dlib's weights.

    Found without importing that package: its __init__ needs pkg_resources,
    which current setuptools no longer ships.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the face_recognition_models package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def models() -> _Models:
    global _models
    if _models is None:
        with _models_lock:
            if _models is None:
                _models = _Models(models_directory(), Settings.load().cache_dir)
    return _models


def _box(rect: dlib.rectangle, pixels: Pixels, border: int = 0) -> Box:
    """The rectangle (in pixels's working image, or in it padded by `border`) as a box
    in the original photo's pixels, cut to the photo."""
    height, width = pixels.rgb.shape[:2]
    top, bottom = max(rect.top() - border, 0), min(rect.bottom() - border, height - 1)
    left, right = max(rect.left() - border, 0), min(rect.right() - border, width - 1)
    s = pixels.scale
    return (round(top * s), round(right * s), round(bottom * s), round(left * s))


def detection_scale(min_face_px: int) -> float:
    """How much a photo is scaled for HOG to find faces of min_face_px."""
    return HOG_SURE_FACE_PX / max(min_face_px, 8)


def detect_whole_photo(
    pixels: Pixels, min_face_px: int = DEFAULT_MIN_FACE_PX
) -> list[dlib.rectangle]:
    """HOG over the whole photo, scaled to the smallest face asked for: what FindMe
    did before the cascade, kept as the reference it is measured against.

    Greyscale costs 30 % less than RGB at the same recall, and a 1.75x scale 25 %
    less than face_recognition's 2x (benchmarks/face_sizes.py prints both curves).
    """
    scale = detection_scale(min_face_px)
    grey = Image.fromarray(pixels.rgb).convert("L")
    if scale != 1:
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.BILINEAR)
    found = models().detector(np.asarray(grey), 0)
    return [
        dlib.rectangle(
            round(r.left() / scale),
            round(r.top() / scale),
            round(r.right() / scale),
            round(r.bottom() / scale),
        )
        for r in found
    ]


def _crop_scale(side: float, min_face_px: int) -> float:
    """The scale for HOG on a crop around a face about `side` px wide: the step of
    the pyramid HOG over the whole photo would use (dlib's pyramid_down<6>) that
    makes the face HOG_CROP_FACE_PX to 1.2 times that. On those steps a face gets
    the size of box whole-photo HOG gives it, whatever the size of MTCNN's box;
    its position still moves with the crop by up to one 8 px HOG cell."""
    base = detection_scale(min_face_px)
    steps = math.floor(math.log(max(base * side, 1e-3) / HOG_CROP_FACE_PX, 6 / 5))
    return base * (5 / 6) ** steps


def _hog_on_crop(
    grey: Image.Image, candidate: np.ndarray, min_face_px: int
) -> list[tuple[float, tuple[float, float, float, float]]]:
    """HOG's faces (score, (left, top, right, bottom)) in a crop around one MTCNN box."""
    left, top, right, bottom = (float(v) for v in candidate[:4])
    height = bottom - top
    side = HOG_SIDE_PER_MTCNN_HEIGHT * height
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2 + HOG_CENTRE_DROP * height
    half = HOG_CROP_MARGIN * side
    region = (
        max(centre_x - half, 0.0),
        max(centre_y - half, 0.0),
        min(centre_x + half, float(grey.width)),
        min(centre_y + half, float(grey.height)),
    )
    if region[2] - region[0] < 1 or region[3] - region[1] < 1:
        return []
    k = _crop_scale(side, min_face_px)
    size = (max(1, round((region[2] - region[0]) * k)), max(1, round((region[3] - region[1]) * k)))
    crop = grey.resize(size, Image.Resampling.BILINEAR, box=region)
    threshold = HOG_THRESHOLD_WHEN_SURE if candidate[4] >= MTCNN_SURE else 0.0
    rects, scores, _ = models().detector.run(np.asarray(crop), 0, threshold)
    kx, ky = size[0] / (region[2] - region[0]), size[1] / (region[3] - region[1])
    return [
        (
            score,
            (
                region[0] + r.left() / kx,
                region[1] + r.top() / ky,
                region[0] + r.right() / kx,
                region[1] + r.bottom() / ky,
            ),
        )
        for r, score in zip(rects, scores, strict=True)
    ]


@dataclass(frozen=True)
class Detection:
    rects: list[dlib.rectangle]  # in the working image's pixels
    # Faces under SURE_FIND_PER_MIN_FACE x min_face_px, found or only seen by MTCNN:
    # faces that small are not all found, so a person in this photo can be missed.
    too_small: int


def detect_faces(pixels: Pixels, min_face_px: int = DEFAULT_MIN_FACE_PX) -> Detection:
    """Face rectangles in the working image's pixels, and how many faces were too small.

    MTCNN's cascade says where faces may be; dlib's HOG detector, run on a small
    crop around each, decides and boxes them, so the boxes, landmarks and
    descriptors are those of the detector FindMe's thresholds were measured with.
    Together they find every face HOG over the whole photo finds, and smaller
    ones, in about a fifth of its time (docs/speed.md).
    """
    rgb = Image.fromarray(pixels.rgb)
    candidates = models().cascade.faces(rgb, MTCNN_MIN_FACE_PER_MIN_FACE * min_face_px)
    if len(candidates):
        grey = rgb.convert("L")
        found = [hit for c in candidates for hit in _hog_on_crop(grey, c, min_face_px)]
    else:
        candidates, found = _faces_filling(rgb, min_face_px)
        if not len(candidates):
            return Detection([], 0)
    rects = []
    if found:
        # Neighbouring candidates can hold the same face: keep HOG's best box for each.
        boxes = np.array([[*box, score] for score, box in found], dtype=np.float32)
        rects = [
            dlib.rectangle(*(round(float(v)) for v in boxes[i, :4]))
            for i in mtcnn.nms(boxes, DUPLICATE_OVERLAP)
        ]
    return Detection(rects, _too_small(candidates, rects, min_face_px))


def _faces_filling(
    rgb: Image.Image, min_face_px: int
) -> tuple[np.ndarray, list[tuple[float, tuple[float, float, float, float]]]]:
    """The cascade's candidates and HOG's faces (as _hog_on_crop's) for faces that fill
    the photo, found on a small copy with a border (FILLING_*), in the photo's pixels."""
    longest = max(rgb.size)
    # Reduced by a whole factor (averaging blocks of pixels): a fifth of a resize's time.
    small = rgb.reduce(max(1, math.ceil(longest / FILLING_COPY_SIDE)))
    k = small.width / rgb.width
    mean = np.asarray(small).reshape(-1, 3).mean(axis=0)
    small_border = round(FILLING_BORDER * max(small.size))
    copy = ImageOps.expand(small, small_border, fill=tuple(int(v) for v in mean))
    smallest = max(FILLING_MIN_FACE * longest, MTCNN_MIN_FACE_PER_MIN_FACE * min_face_px) * k
    candidates = models().cascade.faces(copy, smallest)
    candidates[:, :4] = (candidates[:, :4] - small_border) / k
    if not len(candidates):
        return candidates, []
    # HOG looks at the photo itself, given a border for the faces that touch its edges.
    border = round(FILLING_BORDER * longest)
    grey = ImageOps.expand(rgb.convert("L"), border, fill=int(mean @ (0.299, 0.587, 0.114)))
    shifted = candidates.copy()
    shifted[:, :4] += border
    found = [
        (score, (left - border, top - border, right - border, bottom - border))
        for c in shifted
        for score, (left, top, right, bottom) in _hog_on_crop(grey, c, min_face_px)
    ]
    return candidates, found


def _too_small(candidates: np.ndarray, rects: list[dlib.rectangle], min_face_px: int) -> int:
    """Faces narrower than the size from which every face is found: those HOG
    confirmed (compared too, but faces that small are not all found), and those
    MTCNN is sure of that HOG did not confirm (not compared)."""
    limit = SURE_FIND_PER_MIN_FACE * min_face_px
    count = sum(r.width() < limit for r in rects)
    for left, top, right, bottom, score in candidates[:, :5]:
        x, y = (left + right) / 2, (top + bottom) / 2
        confirmed = any(r.left() <= x <= r.right() and r.top() <= y <= r.bottom() for r in rects)
        width = HOG_SIDE_PER_MTCNN_HEIGHT * (bottom - top)
        count += score >= MTCNN_SURE and not confirmed and width < limit
    return int(count)


def detect(pixels: Pixels, min_face_px: int = DEFAULT_MIN_FACE_PX) -> list[dlib.rectangle]:
    """The faces' rectangles of detect_faces."""
    return detect_faces(pixels, min_face_px).rects


def find_faces(
    pixels: Pixels,
    min_face_px: int = DEFAULT_MIN_FACE_PX,
    rects: list[dlib.rectangle] | None = None,
) -> list[Face]:
    """Every face of the photo (or those of `rects`, from detect_faces), with its box
    and descriptor, encoded in one call."""
    m = models()
    if rects is None:
        rects = detect(pixels, min_face_px)
    if not rects:
        return []
    # Landmarks and descriptors come from the full-colour working image.
    shapes = [m.landmarks(pixels.rgb, r) for r in rects]
    descriptors = m.encoder.encode(pixels.rgb, shapes)
    return [
        Face(box=_box(rect, pixels), descriptor=d)
        for rect, d in zip(rects, descriptors, strict=True)
    ]


def _area(box: Box) -> int:
    top, right, bottom, left = box
    return max(0, right - left) * max(0, bottom - top)


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 apart, 1 the same)."""
    inter = _area((max(a[0], b[0]), min(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])))
    union = _area(a) + _area(b) - inter
    return inter / union if union > 0 else 0.0


def face_boxes(pixels: Pixels, min_face_px: int = DEFAULT_MIN_FACE_PX) -> list[Box]:
    """The boxes of a photo's faces, left to right: the faces a person can choose
    from in their reference photo (reference_face's `chosen`)."""
    return sorted((_box(r, pixels) for r in detect(pixels, min_face_px)), key=lambda b: b[3])


def _padded(pixels: Pixels) -> tuple[Pixels, int]:
    """The working image with a border of REFERENCE_PADDING in its mean colour, and
    the border's width; boxes found in it map back to the photo with _box(..., border)."""
    rgb = pixels.rgb
    height, width = rgb.shape[:2]
    border = max(1, round(REFERENCE_PADDING * max(height, width)))
    padded = np.empty((height + 2 * border, width + 2 * border, 3), dtype=np.uint8)
    padded[:] = rgb.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    padded[border : border + height, border : border + width] = rgb
    return Pixels(padded, pixels.scale, pixels.width, pixels.height), border


def _hog_whole_photo(rgb: np.ndarray, scale: float) -> list[dlib.rectangle]:
    """HOG over the whole image, in grey, scaled by `scale`; boxes in the image's pixels."""
    grey = Image.fromarray(rgb).convert("L")
    size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
    scaled = np.asarray(grey.resize(size, Image.Resampling.BILINEAR))
    return [
        dlib.rectangle(*(round(v / scale) for v in (r.left(), r.top(), r.right(), r.bottom())))
        for r in models().detector(scaled, 0)
    ]


def _reference_rects(
    pixels: Pixels, padded: Pixels, border: int, min_face_px: int
) -> list[dlib.rectangle]:
    """Every face of a reference photo found by spending more than on a photo searched,
    in the padded image's pixels (_padded): the cascade and whole-photo HOG both on
    the padded photo (big faces first), and last face_recognition's own defaults (HOG
    on the photo upsampled once), so that every reference those read, FindMe reads."""
    longest = max(padded.rgb.shape[:2])
    hog_scale = min(REFERENCE_HOG_MAX_UPSAMPLE, REFERENCE_HOG_SIDE / longest)
    rects = detect(padded, max(min_face_px, REFERENCE_FACE_PX))
    rects += _hog_whole_photo(padded.rgb, hog_scale)
    if not rects and min_face_px < REFERENCE_FACE_PX:
        rects = detect(padded, min_face_px)
    if not rects:
        rects = [
            dlib.rectangle(
                r.left() + border, r.top() + border, r.right() + border, r.bottom() + border
            )
            for r in models().detector(pixels.rgb, 1)
        ]
    return rects


def reference_face(
    pixels: Pixels,
    min_face_px: int = DEFAULT_MIN_FACE_PX,
    jitters: int = 0,
    chosen: Box | None = None,
) -> Face | None:
    """The largest face of a reference photo (_reference_rects), or the face the person
    chose (the one overlapping `chosen`, a box of face_boxes), encoded with `jitters`
    jittered copies (dlib's accurate mode: 99.38 % on LFW with 100, against 99.13 %
    without). The largest face is encoded in the padded image: a face at the photo's
    edge is then aligned and encoded with the mean colour around it rather than black,
    which keeps tight crops nearer the same face seen whole (docs/accuracy.md)."""
    m = models()
    if chosen is not None:
        # The same detection as face_boxes, so the box the person saw is found again.
        rects = detect(pixels, min_face_px)
        scores = [overlap(_box(r, pixels), chosen) for r in rects]
        if not scores or max(scores) < CHOSEN_FACE_OVERLAP:
            return None
        rect = rects[scores.index(max(scores))]
        shape = m.landmarks(pixels.rgb, rect)
        descriptor = m.encoder.encode(pixels.rgb, [shape], jitters)[0]
        return Face(box=_box(rect, pixels), descriptor=descriptor)
    padded, border = _padded(pixels)
    rects = _reference_rects(pixels, padded, border, min_face_px)
    if not rects:
        return None
    rect = max(rects, key=lambda r: r.area())
    shape = m.landmarks(padded.rgb, rect)
    descriptor = m.encoder.encode(padded.rgb, [shape], jitters)[0]
    return Face(box=_box(rect, pixels, border), descriptor=descriptor)


def distances(faces: list[Face], references: np.ndarray) -> np.ndarray:
    """Each face's distance to the nearest of the references (one row, or a matrix)."""
    if not faces:
        return np.empty(0, dtype=np.float64)
    stacked = np.stack([f.descriptor for f in faces]).astype(np.float64)
    refs = np.atleast_2d(references).astype(np.float64)
    gaps = np.linalg.norm(stacked[:, None, :] - refs[None, :, :], axis=2)
    return gaps.min(axis=1)


def closest_match(faces: list[Face], reference: np.ndarray, threshold: float) -> Match | None:
    """The face nearest the reference(s), if it is within the threshold: one per photo."""
    if not faces:
        return None
    gaps = distances(faces, reference)
    best = int(np.argmin(gaps))
    if gaps[best] > threshold:
        return None
    return Match(face=faces[best], distance=float(gaps[best]))
