"""MTCNN's pieces that were rewritten for speed still compute what they did."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import helper

from findme import mtcnn


def _random_boxes(rng: np.random.Generator, count: int) -> np.ndarray:
    corner = rng.uniform(0, 400, (count, 2))
    size = rng.uniform(5, 90, (count, 2))
    scores = rng.uniform(0.6, 1.0, (count, 1))
    scores[: count // 3] = 0.9  # equal scores keep their order
    return np.concatenate([corner, corner + size, scores], axis=1).astype(np.float32)


def _greedy(boxes: np.ndarray, threshold: float, overlap: str) -> list[int]:
    """Greedy suppression as MTCNN's papers describe it, one pair at a time."""

    def ratio(a: np.ndarray, b: np.ndarray) -> float:
        width = min(a[2], b[2]) - max(a[0], b[0]) + 1
        height = min(a[3], b[3]) - max(a[1], b[1]) + 1
        inter = max(width, 0) * max(height, 0)
        area_a = (a[2] - a[0] + 1) * (a[3] - a[1] + 1)
        area_b = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
        return inter / (min(area_a, area_b) if overlap == "min" else area_a + area_b - inter)

    kept: list[int] = []
    for i in sorted(range(len(boxes)), key=lambda i: -boxes[i, 4]):  # stable: ties keep order
        if all(ratio(boxes[i], boxes[k]) <= threshold for k in kept):
            kept.append(i)
    return kept


@pytest.mark.parametrize("count", [0, 1, 7, 120, 600])
@pytest.mark.parametrize("all_pairs_up_to", [mtcnn.ALL_PAIRS_MAX_BOXES, 0])
@pytest.mark.parametrize("overlap", ["union", "min"])
def test_nms_keeps_the_boxes_greedy_suppression_keeps(
    count: int, all_pairs_up_to: int, overlap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both ways NMS works: all pairs at once, and box by box past the limit.
    monkeypatch.setattr(mtcnn, "ALL_PAIRS_MAX_BOXES", all_pairs_up_to)
    boxes = _random_boxes(np.random.default_rng(count), count)
    for threshold in (0.4, 0.5, 0.7):
        kept = mtcnn.nms(boxes, threshold, overlap)
        assert kept.tolist() == _greedy(boxes.astype(np.float64), threshold, overlap)


def _with_prelu(model: onnx.ModelProto) -> onnx.ModelProto:
    """The network with ONNX's own PRelu where scripts/mtcnn_to_onnx.py wrote
    (1 - alpha) * Relu(x) + alpha * x."""
    nodes = list(model.graph.node)
    by_output = {node.output[0]: node for node in nodes}
    replaced, drop = [], set()
    for node in nodes:
        if node.op_type != "Add":
            continue
        kept, leak = (by_output[name] for name in node.input)
        relu = by_output[kept.input[0]]
        x, alpha = leak.input
        assert relu.op_type == "Relu" and relu.input[0] == x and alpha.endswith(".alpha")
        drop |= {id(kept), id(leak), id(relu)}
        replaced.append((node, helper.make_node("PRelu", [x, alpha], list(node.output))))
    assert replaced, "no PReLU found"
    swap = {id(old): new for old, new in replaced}
    rebuilt = [swap.get(id(node), node) for node in nodes if id(node) not in drop]
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    del copy.graph.node[:]
    copy.graph.node.extend(rebuilt)
    return copy


@pytest.mark.parametrize(
    ("network", "shape"),
    [("pnet", (1, 3, 160, 120)), ("rnet", (40, 3, 24, 24)), ("onet", (9, 3, 48, 48))],
)
def test_networks_compute_prelu(network: str, shape: tuple[int, ...]) -> None:
    model = onnx.load(mtcnn.MODELS / f"mtcnn-{network}.onnx")
    image = np.random.default_rng(5).uniform(-1, 1, shape).astype(np.float32)
    ours = onnxruntime.InferenceSession(model.SerializeToString())
    reference = onnxruntime.InferenceSession(_with_prelu(model).SerializeToString())
    for got, want in zip(
        ours.run(None, {"image": image}), reference.run(None, {"image": image}), strict=True
    ):
        assert got.shape == want.shape
        assert np.abs(got - want).max() < 1e-6
