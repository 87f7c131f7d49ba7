import numpy as np
import pytest

from findme.codec import descriptor_to_hex, hex_to_descriptor


def test_round_trip_is_bit_exact() -> None:
    values = np.random.default_rng(7).normal(size=128).astype(np.float32)
    values[:4] = [0.0, -0.0, np.float32(1e-38), np.float32(-3.4e38)]
    back = hex_to_descriptor(descriptor_to_hex(values))
    assert back.dtype == np.float32
    assert back.tobytes() == values.tobytes()


def test_hex_is_256_lowercase_digits_of_little_endian_floats() -> None:
    text = descriptor_to_hex([1.0] + [0.0] * 127)
    assert len(text) == 1024
    assert text.startswith("0000803f")  # 1.0f, little endian


@pytest.mark.parametrize("bad", [[0.0] * 127, [0.0] * 129])
def test_wrong_length_is_refused(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="128"):
        descriptor_to_hex(bad)


def test_truncated_hex_is_refused() -> None:
    with pytest.raises(ValueError):
        hex_to_descriptor("00" * 511)
