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


@pytest.mark.parametrize("count", [0, 1, 7, 120, mtcnn.ALL_PAIRS_MAX_BOXES + 1, 2000])
@pytest.mark.parametrize("overlap", ["union", "min"])
def test_nms_keeps_the_boxes_greedy_suppression_keeps(count: int, overlap: str) -> None:
    rng = np.random.default_rng(count)
    boxes = _random_boxes(rng, count)
    order = np.argsort(-boxes[:, 4], kind="stable")
    for threshold in (0.4, 0.5, 0.7):
        expected = mtcnn._nms_box_by_box(boxes, order, threshold, overlap)
        kept = mtcnn.nms(boxes, threshold, overlap)
        assert kept.tolist() == expected.tolist()
        if count:
            assert 0 < len(kept) <= count


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
        assert np.abs(got - want).max() < 1e-5
