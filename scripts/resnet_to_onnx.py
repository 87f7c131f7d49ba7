"""Writes dlib's face recognition ResNet as ONNX.

    python scripts/resnet_to_onnx.py [--source MODEL.dat] TARGET.onnx

The source is `dlib_face_recognition_resnet_model_v1.dat` from the installed
face_recognition_models package unless --source names another copy (dlib's own
download, http://dlib.net/files/dlib_face_recognition_resnet_model_v1.dat.bz2,
unpacked, is the same file). The converter itself is findme.resnet_onnx, which
FindMe also runs the first time it needs the encoder (findme.encoder caches the
result), so nothing has to run this script; it is here to look at the model
(for instance with Netron) or to ship it elsewhere. Needs the `onnx` package.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from findme import faces, resnet_onnx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="the .onnx file to write")
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="dlib's .dat file (default: face_recognition_models' copy)",
    )
    args = parser.parse_args()
    source = args.source or faces.models_directory() / "dlib_face_recognition_resnet_model_v1.dat"
    resnet_onnx.convert(source, args.target)
    print(f"wrote {args.target} from {source}")


if __name__ == "__main__":
    main()
