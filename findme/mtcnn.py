"""Where the faces of a photo may be: MTCNN's three small networks (Zhang et al.,
2016) on ONNX Runtime, one thread.

P-Net slides a 12 px face/no-face classifier over an image pyramid, R-Net
(24 px) and O-Net (48 px) re-judge each surviving box and refine it. On a 1200 px
photo the three take about a seventh of the time of dlib's HOG detector over the
whole photo scaled for 40 px faces (docs/speed.md). FindMe uses them only to
choose where HOG looks (findme.faces): the boxes, landmarks and descriptors
stay dlib's.

The models in findme/models were built from MTCNN's published weights by
scripts/mtcnn_to_onnx.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnxruntime
from PIL import Image

MODELS = Path(__file__).parent / "models"
PNET_WINDOW = 12  # P-Net sees a face that fills 12x12 pixels of a pyramid level
PNET_STRIDE = 2
PYRAMID_FACTOR = 0.709  # each level has half the pixels of the one before
# The cascade's usual thresholds (facenet's); recall by face size with them is
# measured by benchmarks/face_sizes.py.
THRESHOLDS = (0.6, 0.7, 0.7)

Boxes = np.ndarray  # N x 5: left, top, right, bottom, score (float32, image pixels)


def _session(path: Path) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    # One thread: the engine runs one worker per core. No thread pool also keeps
    # the sessions safe to fork from the local engine's fork server.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _normalised(pixels: np.ndarray) -> np.ndarray:
    """N x H x W x 3 uint8 -> N x 3 x W x H float32, as the networks were trained."""
    scaled = (pixels.astype(np.float32) - 127.5) * (1 / 128)
    return np.ascontiguousarray(scaled.transpose(0, 3, 2, 1))


# Up to this many boxes, NMS compares all pairs at once (a few 800 x 800 matrices,
# about 15 MB at the most): three times faster than box by box on real photos'
# 13 to 500 boxes a call.
ALL_PAIRS_MAX_BOXES = 800


def nms(boxes: Boxes, threshold: float, overlap: str = "union") -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first.
    `overlap` is intersection over union, or over the smaller box ("min")."""
    order = np.argsort(-boxes[:, 4], kind="stable")
    if len(order) > ALL_PAIRS_MAX_BOXES:
        return _nms_box_by_box(boxes, order, threshold, overlap)
    left, top, right, bottom = (boxes[order, i] for i in range(4))
    areas = (right - left + 1) * (bottom - top + 1)
    width = np.minimum(right[:, None], right) - np.maximum(left[:, None], left) + 1
    height = np.minimum(bottom[:, None], bottom) - np.maximum(top[:, None], top) + 1
    inter = np.maximum(width, 0) * np.maximum(height, 0)
    if overlap == "min":
        ratio = inter / np.minimum(areas[:, None], areas)
    else:
        ratio = inter / (areas[:, None] + areas - inter)
    suppresses = ~(ratio <= threshold)  # a NaN overlap (a folded box) suppresses, as before
    alive = np.ones(len(order), dtype=bool)
    keep = []
    for i in range(len(order)):
        if alive[i]:
            keep.append(order[i])
            alive &= ~suppresses[i]
    return np.asarray(keep, dtype=np.intp)


def _nms_box_by_box(boxes: Boxes, order: np.ndarray, threshold: float, overlap: str) -> np.ndarray:
    left, top, right, bottom = (boxes[:, i] for i in range(4))
    areas = (right - left + 1) * (bottom - top + 1)
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        width = np.minimum(right[best], right[rest]) - np.maximum(left[best], left[rest]) + 1
        height = np.minimum(bottom[best], bottom[rest]) - np.maximum(top[best], top[rest]) + 1
        inter = np.maximum(width, 0) * np.maximum(height, 0)
        if overlap == "min":
            ratio = inter / np.minimum(areas[best], areas[rest])
        else:
            ratio = inter / (areas[best] + areas[rest] - inter)
        order = rest[ratio <= threshold]
    return np.asarray(keep, dtype=np.intp)


def _squared(boxes: Boxes) -> Boxes:
    out = boxes.copy()
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(width, height)
    out[:, 0] = boxes[:, 0] + (width - side) / 2
    out[:, 1] = boxes[:, 1] + (height - side) / 2
    out[:, 2], out[:, 3] = out[:, 0] + side, out[:, 1] + side
    return out


def _regressed(boxes: Boxes, offsets: np.ndarray) -> Boxes:
    """Moves each edge by the network's offset, in units of the box's size."""
    out = boxes.copy()
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    out[:, 0:4] += offsets * np.stack([width, height, width, height], axis=1)
    return out


class _Pyramid:
    """The photo and P-Net's levels of it, finest first. R-Net's and O-Net's crops
    are cut from the coarsest level on which the box is still at least as large as
    the network's input, so a crop costs the same whatever the face's size: cut from
    the photo itself, a 600 px face cost a 600 px resize, and R-Net's 90-odd crops
    of a real photo took longer than R-Net (docs/speed.md)."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image
        self.levels = [image]

    def add(self, level: Image.Image) -> None:
        self.levels.append(level)

    def crop(self, box: np.ndarray, side: int) -> np.ndarray:
        """The box (in the photo's pixels) resized to side x side pixels."""
        width = float(box[2] - box[0])
        chosen = self.image
        for level in self.levels[1:]:
            if width * level.width / self.image.width < side:
                break
            chosen = level
        kx, ky = chosen.width / self.image.width, chosen.height / self.image.height
        region = (float(box[0]) * kx, float(box[1]) * ky, float(box[2]) * kx, float(box[3]) * ky)
        if (
            region[0] >= 0
            and region[1] >= 0
            and region[2] <= chosen.width
            and region[3] <= chosen.height
        ):
            return np.asarray(chosen.resize((side, side), Image.Resampling.BILINEAR, box=region))
        # crop() pads a box that reaches past the photo's edge with black, as MTCNN
        # does; the box's fractional edges are kept within the padded crop.
        outer = (
            math.floor(region[0]),
            math.floor(region[1]),
            math.ceil(region[2]),
            math.ceil(region[3]),
        )
        inner = (
            region[0] - outer[0],
            region[1] - outer[1],
            region[2] - outer[0],
            region[3] - outer[1],
        )
        padded = chosen.crop(outer)
        return np.asarray(padded.resize((side, side), Image.Resampling.BILINEAR, box=inner))


class Cascade:
    def __init__(self, directory: Path = MODELS) -> None:
        self.pnet = _session(directory / "mtcnn-pnet.onnx")
        self.rnet = _session(directory / "mtcnn-rnet.onnx")
        self.onet = _session(directory / "mtcnn-onet.onnx")

    def faces(self, image: Image.Image, min_face_px: float) -> Boxes:
        """MTCNN's face boxes (taller than wide: brow to chin) in the RGB `image`'s
        pixels, for faces of at least about min_face_px in MTCNN's measure."""
        pyramid = _Pyramid(image)
        boxes = self._proposals(pyramid, min_face_px)
        boxes = self._refined(self.rnet, pyramid, boxes, 24, THRESHOLDS[1], "union")
        return self._refined(self.onet, pyramid, boxes, 48, THRESHOLDS[2], "min")

    def _proposals(self, pyramid: _Pyramid, min_face_px: float) -> Boxes:
        found = []
        image = pyramid.image
        scale = PNET_WINDOW / max(min_face_px, PNET_WINDOW)
        level = image
        while min(image.size) * scale >= PNET_WINDOW:
            size = (int(np.ceil(image.width * scale)), int(np.ceil(image.height * scale)))
            # Each level from the one before: a cheap resize that keeps the detail P-Net needs.
            level = level.resize(size, Image.Resampling.BILINEAR)
            pyramid.add(level)
            prob, reg = self.pnet.run(None, {"image": _normalised(np.asarray(level)[None])})
            xs, ys = np.nonzero(prob[0, 1] >= THRESHOLDS[0])  # the networks' axes are (x, y)
            if xs.size:
                origin = np.stack([xs, ys], axis=1) * PNET_STRIDE
                boxes = np.empty((xs.size, 9), dtype=np.float32)  # a box, then its offsets
                boxes[:, 0:2] = (origin + 1) / scale
                boxes[:, 2:4] = (origin + PNET_WINDOW) / scale
                boxes[:, 4] = prob[0, 1, xs, ys]
                boxes[:, 5:9] = reg[0][:, xs, ys].T
                found.append(boxes[nms(boxes, 0.5)])
            scale *= PYRAMID_FACTOR
        if not found:
            return np.empty((0, 5), dtype=np.float32)
        boxes = np.concatenate(found)
        boxes = boxes[nms(boxes, 0.7)]
        return _regressed(boxes[:, :5], boxes[:, 5:9])

    def _refined(
        self,
        network: onnxruntime.InferenceSession,
        pyramid: _Pyramid,
        boxes: Boxes,
        side: int,
        threshold: float,
        overlap: str,
    ) -> Boxes:
        boxes = _squared(boxes)
        boxes = boxes[boxes[:, 2] - boxes[:, 0] >= 1]  # a regression can fold a box
        if not len(boxes):
            return boxes
        crops = np.stack([pyramid.crop(box, side) for box in boxes])
        prob, reg = network.run(["prob", "reg"], {"image": _normalised(crops)})
        keep = prob[:, 1] >= threshold
        boxes = boxes[keep]
        boxes[:, 4] = prob[keep, 1]
        boxes = _regressed(boxes, reg[keep])
        return boxes[nms(boxes, 0.7, overlap)]
