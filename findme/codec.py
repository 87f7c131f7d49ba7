"""Face descriptors: 128 float32 values <-> a hex string, bit-exact."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DESCRIPTOR_LENGTH = 128
_DTYPE = np.dtype("<f4")  # little-endian float32, whatever the machine


def descriptor_to_hex(descriptor: Sequence[float] | np.ndarray) -> str:
    values = np.asarray(descriptor, dtype=_DTYPE)
    if values.shape != (DESCRIPTOR_LENGTH,):
        raise ValueError(f"a descriptor has {DESCRIPTOR_LENGTH} values, got shape {values.shape}")
    return values.tobytes().hex()


def hex_to_descriptor(text: str) -> np.ndarray:
    raw = bytes.fromhex(text)
    if len(raw) != DESCRIPTOR_LENGTH * _DTYPE.itemsize:
        raise ValueError(f"a descriptor is {DESCRIPTOR_LENGTH * 4} bytes, got {len(raw)}")
    return np.frombuffer(raw, dtype=_DTYPE).copy()
