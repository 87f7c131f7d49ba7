"""Builds findme/models/mtcnn-{pnet,rnet,onet}.onnx from MTCNN's weights.

The weights are the det1/det2/det3.npy files that the `face_detector` 0.4 wheel
on PyPI ships (MIT; converted by davidsandberg/facenet, MIT, from Zhang et al.'s
Caffe models). The networks are small enough to write out layer by layer.

    pip download --no-deps face_detector==0.4 && unzip face_detector-0.4-*.whl
    python scripts/mtcnn_to_onnx.py face_detector/data/mtcnn findme/models

needs the `onnx` package; FindMe itself only needs onnxruntime to run them.
The networks take the image transposed (N, C, width, height), as facenet feeds
them: the Caffe originals were trained on MATLAB's column-major images.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# (op, layer, extra): conv/prelu/fc take weights from the layer; pool is (kernel, same padding).
NETWORKS = {
    "pnet": (
        "det1.npy",
        (None, 3, None, None),
        [
            ("conv", "conv1"), ("prelu", "PReLU1"), ("pool", (2, True)),
            ("conv", "conv2"), ("prelu", "PReLU2"),
            ("conv", "conv3"), ("prelu", "PReLU3"),
        ],
        {"prob": ("conv", "conv4-1"), "reg": ("conv", "conv4-2")},
    ),
    "rnet": (
        "det2.npy",
        (None, 3, 24, 24),
        [
            ("conv", "conv1"), ("prelu", "prelu1"), ("pool", (3, True)),
            ("conv", "conv2"), ("prelu", "prelu2"), ("pool", (3, False)),
            ("conv", "conv3"), ("prelu", "prelu3"), ("flatten", None),
            ("fc", "conv4"), ("prelu", "prelu4"),
        ],
        {"prob": ("fc", "conv5-1"), "reg": ("fc", "conv5-2")},
    ),
    "onet": (
        "det3.npy",
        (None, 3, 48, 48),
        [
            ("conv", "conv1"), ("prelu", "prelu1"), ("pool", (3, True)),
            ("conv", "conv2"), ("prelu", "prelu2"), ("pool", (3, False)),
            ("conv", "conv3"), ("prelu", "prelu3"), ("pool", (2, True)),
            ("conv", "conv4"), ("prelu", "prelu4"), ("flatten", None),
            ("fc", "conv5"), ("prelu", "prelu5"),
        ],
        {"prob": ("fc", "conv6-1"), "reg": ("fc", "conv6-2")},
    ),
}  # fmt: skip


class _Graph:
    def __init__(self, weights: dict) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.count = 0

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], **attributes: object) -> str:
        self.count += 1
        output = f"{op.lower()}{self.count}"
        self.nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def layer(self, x: str, op: str, arg: object, spatial: bool) -> str:
        if op == "pool":
            kernel, same = arg
            pad = {"auto_pad": "SAME_UPPER"} if same else {}
            return self.node("MaxPool", [x], kernel_shape=[kernel] * 2, strides=[2, 2], **pad)
        if op == "flatten":
            # TensorFlow flattened (height, width, channels); ONNX holds channels first.
            return self.node("Flatten", [self.node("Transpose", [x], perm=[0, 2, 3, 1])], axis=1)
        w = self.weights[arg]
        if op == "prelu":
            # PReLU(x) = (1 - alpha) * max(x, 0) + alpha * x, written out so: ONNX
            # Runtime's own PRelu cost more than the convolutions around it (2 ms of
            # P-Net's 6 on a 300x200 level) and made it reorder the blocked layout of
            # its convolutions; Relu, Mul and Add run 25 to 50 % faster per network,
            # within 1e-6 of PRelu (float rounding; docs/speed.md).
            shape = (-1, 1, 1) if spatial else (-1,)
            alpha = w["alpha"].reshape(shape)
            positive = self.node("Relu", [x])
            kept = self.node("Mul", [positive, self.constant(f"{arg}.1-alpha", 1 - alpha)])
            leak = self.node("Mul", [x, self.constant(f"{arg}.alpha", alpha)])
            return self.node("Add", [kept, leak])
        weight = w["weights"].transpose(3, 2, 0, 1) if op == "conv" else w["weights"]
        inputs = [x, self.constant(f"{arg}.w", weight), self.constant(f"{arg}.b", w["biases"])]
        return self.node("Conv" if op == "conv" else "Gemm", inputs)


def build(weights: dict, shape: tuple, layers: list, heads: dict) -> onnx.ModelProto:
    graph = _Graph(weights)
    x, spatial = "image", True
    for op, arg in layers:
        x = graph.layer(x, op, arg, spatial)
        spatial = spatial and op != "flatten"
    outputs = []
    for name, (op, layer) in heads.items():
        y = graph.layer(x, op, layer, spatial)
        if name == "prob":
            y = graph.node("Softmax", [y], axis=1)
        graph.nodes.append(helper.make_node("Identity", [y], [name]))
        channels = 2 if name == "prob" else 4
        dims = ["n", channels, "out_width", "out_height"] if spatial else ["n", channels]
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
    image = ["n", 3, "width", "height"] if shape[2] is None else ["n", *shape[1:]]
    model = helper.make_model(
        helper.make_graph(
            graph.nodes,
            "mtcnn",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, image)],
            outputs,
            graph.initializers,
        ),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    model.ir_version = 8  # readable by onnxruntime releases from 1.10 on
    onnx.checker.check_model(model)
    return model


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.mkdir(parents=True, exist_ok=True)
    for name, (file, shape, layers, heads) in NETWORKS.items():
        weights = np.load(source / file, allow_pickle=True, encoding="latin1").item()
        onnx.save(build(weights, shape, layers, heads), target / f"mtcnn-{name}.onnx")
        print(f"wrote {target / f'mtcnn-{name}.onnx'}")


if __name__ == "__main__":
    main()
