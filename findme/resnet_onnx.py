"""dlib's face recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`), read
from dlib's own serialisation and written out as the same network in ONNX.

dlib stores a network as nested templates: the loss layer, then each layer's
version from the output down to the input, then the input layer, then each
layer's settings and weights from the input back up (dlib/dnn/core.h, layers.h,
input.h, loss.h; numbers as dlib/serialize.h writes them, tensors as raw
little-endian float32). The stream does not name how layers are wired (which tag
an add_prev adds), so the network's shape is spelt out below exactly as dlib's
Python binding declares it (tools/python/src/face_recognition.cpp), and every
layer read is checked against it.

The ONNX graph takes the 150x150 RGB face chips as uint8 (N, 150, 150, 3) and
returns the 128-float descriptors (N, 128). Its differences from dlib are only
in float rounding: each batch-normalisation (stored as bn_con, run by dlib as
an affine layer) is folded into the convolution before it, and ONNX Runtime sums
in another order than dlib's CPU code.

Needs the `onnx` package to build; running the model needs only onnxruntime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

# Bump when the graph written changes: cached models are keyed by it.
CONVERTER_VERSION = 1
INPUT_SIZE = 150


class FormatError(ValueError):
    """The file is not the network this converter knows."""


# --- the network, as dlib's face_recognition.cpp declares it (output first) ---
Layer = tuple  # ("con", filters, kernel, stride), ("tag", id), ("relu",), ...


def _block(filters: int, stride: int) -> list[Layer]:
    # block = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>
    return [
        ("affine",), ("con", filters, 3, 1), ("relu",), ("affine",), ("con", filters, 3, stride),
    ]  # fmt: skip


def _ares(filters: int) -> list[Layer]:
    # relu<add_prev1<block<N,affine,1,tag1<SUBNET>>>>
    return [("relu",), ("add_prev", 1), *_block(filters, 1), ("tag", 1)]


def _ares_down(filters: int) -> list[Layer]:
    # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,affine,2,tag1<SUBNET>>>>>>>
    return [
        ("relu",), ("add_prev", 2), ("avg_pool", 2, 2), ("skip", 1), ("tag", 2),
        *_block(filters, 2), ("tag", 1),
    ]  # fmt: skip


NETWORK: list[Layer] = [
    ("fc", 128),  # fc_no_bias<128, ...>
    ("avg_pool", 0, 1),  # avg_pool_everything
    *_ares_down(256),  # alevel0
    *_ares(256), *_ares(256), *_ares_down(256),  # alevel1
    *_ares(128), *_ares(128), *_ares_down(128),  # alevel2
    *_ares(64), *_ares(64), *_ares(64), *_ares_down(64),  # alevel3
    *_ares(32), *_ares(32), *_ares(32),  # alevel4
    ("max_pool", 3, 2), ("relu",), ("affine",), ("con", 32, 7, 2),
]  # fmt: skip


# --- dlib's serialisation (dlib/serialize.h, dlib/cuda/tensor.h) ---
class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def _take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise FormatError("the file ends too early")
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    def int(self) -> int:
        # A control byte (0x80: negative; low nibble: how many bytes follow), then
        # the magnitude, little-endian.
        control = self._take(1)[0]
        size = control & 0x0F
        if size == 0 or size > 8 or control & 0x70:
            raise FormatError(f"not an integer at byte {self.at - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def float(self) -> float:
        # float_details: an integer mantissa and a binary exponent.
        mantissa, exponent = self.int(), self.int()
        if exponent >= 32000:  # dlib's codes for inf, -inf and NaN
            return {32000: math.inf, 32001: -math.inf}.get(exponent, math.nan)
        return math.ldexp(mantissa, exponent)

    def bool(self) -> bool:
        value = self._take(1)
        if value not in (b"0", b"1"):
            raise FormatError(f"not a bool at byte {self.at - 1}")
        return value == b"1"

    def string(self) -> str:
        return self._take(self.int()).decode("latin-1")

    def version(self, *expected: int) -> int:
        value = self.int()
        if value not in expected:
            raise FormatError(f"unexpected version {value} at byte {self.at}")
        return value

    def tensor(self) -> np.ndarray:
        self.version(2)
        shape = tuple(self.int() for _ in range(4))  # num_samples, k, nr, nc
        count = math.prod(shape)
        return np.frombuffer(self._take(4 * count), dtype="<f4").astype(np.float32).reshape(shape)

    def alias(self) -> tuple[int, ...]:
        self.version(1)
        return tuple(self.int() for _ in range(4))


@dataclass
class Parsed:
    kind: str
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)


def _con(r: _Reader, name: str, layer: Layer) -> Parsed:
    if name not in ("con_4", "con_5", "con_6"):
        raise FormatError(f"expected a con layer, found {name!r}")
    params = r.tensor().ravel()
    filters, rows, cols = r.int(), r.int(), r.int()
    stride, pad = (r.int(), r.int()), (r.int(), r.int())
    shape, bias_shape = r.alias(), r.alias()
    for _ in range(4):  # learning-rate and weight-decay multipliers
        r.float()
    use_bias = r.bool() if name in ("con_5", "con_6") else True
    if name == "con_6" and r.bool():
        raise FormatError("a con layer with a fused relu is not supported")
    if (filters, rows, stride) != (layer[1], layer[2], (layer[3],) * 2) or rows != cols:
        raise FormatError(f"con {filters} {rows}x{cols}/{stride} where {layer} was expected")
    size = math.prod(shape)
    weights = {"w": params[:size].reshape(shape)}
    if use_bias:
        weights["b"] = params[size : size + math.prod(bias_shape)]
    return Parsed("con", weights, {"stride": stride, "pad": pad})


def _affine(r: _Reader, name: str, layer: Layer) -> Parsed:
    if name == "bn_con2":  # a batch normalisation, which dlib runs as an affine layer
        params = r.tensor().ravel()
        gamma, _beta = r.alias(), r.alias()
        r.tensor(), r.tensor()  # the last training batch's means and inverse deviations
        means, variances = r.tensor().ravel(), r.tensor().ravel()
        r.int(), r.int()  # num_updates, running_stats_window_size
        for _ in range(4):
            r.float()
        eps = r.float()
        n = math.prod(gamma)
        # As affine_(const bn_&) computes them, in float32.
        scale = params[:n] / np.sqrt(variances + np.float32(eps))
        shift = params[n : 2 * n] - scale * means
        return Parsed("affine", {"scale": scale, "shift": shift})
    if name not in ("affine_", "affine_2"):
        raise FormatError(f"expected an affine layer, found {name!r}")
    params = r.tensor().ravel()
    gamma, _beta = r.alias(), r.alias()
    r.int()  # mode
    if name == "affine_2" and r.bool():
        raise FormatError("a disabled affine layer is not supported")
    n = math.prod(gamma)
    return Parsed("affine", {"scale": params[:n], "shift": params[n : 2 * n]})


def _relu(r: _Reader, name: str, layer: Layer) -> Parsed:
    if name not in ("relu_", "relu_2"):
        raise FormatError(f"expected a relu layer, found {name!r}")
    if name == "relu_2" and r.bool():
        raise FormatError("a disabled relu layer is not supported")
    return Parsed("relu")


def _add_prev(r: _Reader, name: str, layer: Layer) -> Parsed:
    if name != "add_prev_":
        raise FormatError(f"expected an add_prev layer, found {name!r}")
    return Parsed("add_prev", settings={"tag": layer[1]})


def _pool(r: _Reader, name: str, layer: Layer) -> Parsed:
    kind = layer[0]
    if name != f"{kind}_2":
        raise FormatError(f"expected a {kind} layer, found {name!r}")
    rows, cols, stride_y, stride_x, pad_y, pad_x = (r.int() for _ in range(6))
    if (rows, stride_y) != layer[1:] or rows != cols or stride_x != stride_y:
        raise FormatError(f"{kind} {rows}x{cols}/{stride_y} where {layer} was expected")
    if kind == "avg_pool" and (pad_y or pad_x):
        raise FormatError("a padded avg_pool layer is not supported")
    return Parsed(kind, settings={"size": rows, "stride": stride_y, "pad": (pad_y, pad_x)})


def _fc(r: _Reader, name: str, layer: Layer) -> Parsed:
    if name not in ("fc_2", "fc_3"):
        raise FormatError(f"expected an fc layer, found {name!r}")
    outputs, inputs = r.int(), r.int()
    params = r.tensor().ravel()
    w_shape, b_shape = r.alias(), r.alias()
    has_bias = r.int() == 0  # fc_bias_mode: FC_HAS_BIAS = 0, FC_NO_BIAS = 1
    for _ in range(4):
        r.float()
    if name == "fc_3":
        has_bias = r.bool() and has_bias
    if outputs != layer[1]:
        raise FormatError(f"an fc layer of {outputs} outputs where {layer[1]} was expected")
    size = math.prod(w_shape)
    weights = {"w": params[:size].reshape(inputs, outputs)}
    if has_bias:
        weights["b"] = params[size : size + math.prod(b_shape)]
    return Parsed("fc", weights)


# Each layer's settings and weights, as its class's deserialize in dlib/dnn/layers.h
# reads them after the layer's name and version string.
_READERS = {
    "con": _con,
    "affine": _affine,
    "relu": _relu,
    "add_prev": _add_prev,
    "avg_pool": _pool,
    "max_pool": _pool,
    "fc": _fc,
}


def parse(data: bytes, network: list[Layer] = NETWORK) -> tuple[dict, list[Parsed]]:
    """The input layer's settings and the network's layers, input first."""
    r = _Reader(data)
    r.version(1)  # add_loss_layer
    loss = r.string()
    if loss == "loss_metric_2":
        r.float(), r.float()  # margin, distance threshold: training only
    elif loss != "loss_metric_":
        raise FormatError(f"not dlib's metric-learning network (its loss is {loss!r})")
    # Every layer's version, from the output down (add_layer, add_tag_layer,
    # add_skip_layer); the add_layer on the input has versions of its own.
    if network[-1][0] in ("tag", "skip"):
        raise FormatError("a tag or skip layer on the input is not supported")
    on_input = len(network) - 1
    versions = {}
    for index, layer in enumerate(network):
        if layer[0] in ("tag", "skip"):
            r.version(1)
        else:
            versions[index] = r.version(2, 3) if index == on_input else r.version(1, 2)
    if r.string() != "input_rgb_image_sized":
        raise FormatError("the network's input is not input_rgb_image_sized")
    mean_rgb = (r.float(), r.float(), r.float())
    size = (r.int(), r.int())
    if size != (INPUT_SIZE, INPUT_SIZE):
        raise FormatError(f"the network takes {size} images, not {INPUT_SIZE}")
    layers: list[Parsed] = []
    for index in reversed(range(len(network))):
        layer = network[index]
        if layer[0] in ("tag", "skip"):
            layers.append(Parsed(layer[0], settings={"tag": layer[1]}))
            continue
        layers.append(_READERS[layer[0]](r, r.string(), layer))
        for _ in range(3):  # setup called, gradient stale, gradient disabled
            r.bool()
        r.tensor(), r.tensor()  # x_grad, cached_output
        if index == on_input:  # grad_final, then (version 3) the sample expansion factor
            r.tensor()
            if versions[index] == 3:
                r.int()
        elif versions[index] == 2:
            r.tensor()  # params_grad
    if r.at != len(data):
        raise FormatError(f"{len(data) - r.at} bytes left after the network")
    return {"mean_rgb": mean_rgb}, layers


# --- ONNX ---
class _Graph:
    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self.count = 0

    def constant(self, value: np.ndarray, dtype: type = np.float32) -> str:
        from onnx import numpy_helper

        self.count += 1
        name = f"c{self.count}"
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(self, op: str, inputs: list[str], **attributes: object) -> str:
        from onnx import helper

        self.count += 1
        output = f"{op.lower()}{self.count}"
        self.nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output


def _padded(g: _Graph, x: str, shape: tuple[int, int, int], target: tuple[int, int, int]) -> str:
    """x zero-padded at the end of each axis up to `target` (channels, rows, cols)."""
    if shape == target:
        return x
    after = [t - s for s, t in zip(shape, target, strict=True)]
    return g.node("Pad", [x, g.constant(np.array([0, 0, 0, 0, 0, *after]), np.int64)])


def build(data: bytes, source_name: str = "", source_sha256: str = "") -> onnx.ModelProto:
    """The ONNX model of the network in `data` (the bytes of dlib's .dat file)."""
    import onnx
    from onnx import TensorProto, helper

    settings, layers = parse(data)
    g = _Graph()
    # input_rgb_image_sized: (channel - mean) / 256, channels first.
    x = g.node("Cast", ["chips"], to=TensorProto.FLOAT)
    x = g.node("Sub", [x, g.constant(np.array(settings["mean_rgb"], dtype=np.float32))])
    x = g.node("Mul", [x, g.constant(np.float32(1 / 256))])
    x = g.node("Transpose", [x], perm=[0, 3, 1, 2])
    shape = (3, INPUT_SIZE, INPUT_SIZE)  # channels, rows, cols
    tags: dict[int, tuple[str, tuple[int, int, int]]] = {}
    i = 0
    while i < len(layers):
        layer = layers[i]
        if layer.kind == "con":
            w, b = layer.weights["w"], layer.weights.get("b")
            if b is None:
                b = np.zeros(w.shape[0], dtype=np.float32)
            if i + 1 < len(layers) and layers[i + 1].kind == "affine":
                # The affine layer above, folded into the convolution.
                scale, shift = layers[i + 1].weights["scale"], layers[i + 1].weights["shift"]
                w = w * scale[:, None, None, None]
                b = b * scale + shift
                i += 1
            (pad_y, pad_x), (stride_y, stride_x) = layer.settings["pad"], layer.settings["stride"]
            x = g.node(
                "Conv",
                [x, g.constant(w), g.constant(b)],
                kernel_shape=list(w.shape[2:]),
                strides=[stride_y, stride_x],
                pads=[pad_y, pad_x, pad_y, pad_x],
            )
            rows = 1 + (shape[1] + 2 * pad_y - w.shape[2]) // stride_y
            cols = 1 + (shape[2] + 2 * pad_x - w.shape[3]) // stride_x
            shape = (w.shape[0], rows, cols)
        elif layer.kind == "affine":
            channels = (-1, 1, 1)
            x = g.node("Mul", [x, g.constant(layer.weights["scale"].reshape(channels))])
            x = g.node("Add", [x, g.constant(layer.weights["shift"].reshape(channels))])
        elif layer.kind == "relu":
            x = g.node("Relu", [x])
        elif layer.kind in ("avg_pool", "max_pool"):
            size, stride = layer.settings["size"], layer.settings["stride"]
            pad_y, pad_x = layer.settings["pad"]
            if size == 0:  # avg_pool_everything
                x, shape = g.node("GlobalAveragePool", [x]), (shape[0], 1, 1)
            else:
                op = "AveragePool" if layer.kind == "avg_pool" else "MaxPool"
                x = g.node(
                    op,
                    [x],
                    kernel_shape=[size, size],
                    strides=[stride, stride],
                    pads=[pad_y, pad_x, pad_y, pad_x],
                )
                rows = 1 + (shape[1] + 2 * pad_y - size) // stride
                cols = 1 + (shape[2] + 2 * pad_x - size) // stride
                shape = (shape[0], rows, cols)
        elif layer.kind == "tag":
            tags[layer.settings["tag"]] = (x, shape)
        elif layer.kind == "skip":
            x, shape = tags[layer.settings["tag"]]
        elif layer.kind == "add_prev":
            # dlib adds tensors of different sizes as if each were zero-padded to the
            # larger size on each axis (tt::add): a down-sampling block's shortcut has
            # fewer channels, and sometimes one row and column more, than its output.
            other, other_shape = tags[layer.settings["tag"]]
            target = tuple(max(a, b) for a, b in zip(shape, other_shape, strict=True))
            x = g.node(
                "Add", [_padded(g, x, shape, target), _padded(g, other, other_shape, target)]
            )
            shape = target
        elif layer.kind == "fc":
            x = g.node("Flatten", [x], axis=1)
            x = g.node("MatMul", [x, g.constant(layer.weights["w"])])
            if "b" in layer.weights:
                x = g.node("Add", [x, g.constant(layer.weights["b"])])
            shape = (layer.weights["w"].shape[1], 1, 1)
        i += 1
    g.nodes.append(helper.make_node("Identity", [x], ["descriptors"]))
    model = helper.make_model(
        helper.make_graph(
            g.nodes,
            "dlib_face_recognition_resnet_model_v1",
            [helper.make_tensor_value_info("chips", TensorProto.UINT8, ["n", 150, 150, 3])],
            [helper.make_tensor_value_info("descriptors", TensorProto.FLOAT, ["n", shape[0]])],
            g.initializers,
        ),
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="findme.resnet_onnx",
        producer_version=str(CONVERTER_VERSION),
    )
    model.ir_version = 8  # readable by onnxruntime releases from 1.10 on
    helper.set_model_props(model, {"source": source_name, "source_sha256": source_sha256})
    onnx.checker.check_model(model)
    return model


def convert(source: Path, target: Path) -> None:
    """Writes the ONNX form of dlib's .dat file `source` to `target`."""
    import hashlib

    import onnx

    data = source.read_bytes()
    model = build(data, source.name, hashlib.sha256(data).hexdigest())
    onnx.save(model, str(target))
