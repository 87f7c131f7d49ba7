"""Turning photo bytes into pixels fit for face detection.

Every photo Pillow reads works: RGB, RGBA, grayscale, palette, 16-bit PNG,
EXIF-rotated JPEG. A photo that cannot be used raises PhotoError with a reason
a person can read; the job records it as a failed photo and goes on.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Refuse decompression bombs before decoding: 50 megapixels is more than any
# camera photo posted to social media.
MAX_PIXELS = 50_000_000
MAX_PHOTO_BYTES = 25 * 1024 * 1024

_EXIF_ORIENTATION = 0x0112
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}  # the EXIF rotations by 90 or 270 degrees
_SIXTEEN_BIT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


class PhotoError(Exception):
    """A photo that cannot be used; str(error) is the reason shown to the user."""


@dataclass(frozen=True)
class Pixels:
    """An upright RGB photo shrunk for detection, and how to map boxes back."""

    rgb: np.ndarray  # H x W x 3, uint8, C-contiguous
    scale: float  # original upright size / working size (>= 1)
    width: int  # original upright size
    height: int


def open_image(data: bytes) -> Image.Image:
    """Opens image bytes lazily, with the size checks done before any decoding."""
    if not data:
        raise PhotoError("empty file")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError(f"file too large ({len(data)} bytes, limit {MAX_PHOTO_BYTES})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PhotoError("not an image") from None
    except Exception as error:  # Pillow raises many kinds on malformed headers
        raise PhotoError(f"truncated or corrupt image ({error})") from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise PhotoError("not an image (no pixels)")
    if width * height > MAX_PIXELS:
        raise PhotoError(f"image too large ({width}x{height} pixels, limit {MAX_PIXELS})")
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in _SIXTEEN_BIT_MODES:
        # Pillow's convert() clips 16-bit values to 255: scale them instead.
        values = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if values.max(initial=0) > 255 else 255.0
        grey = np.clip(values * (255.0 / peak), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def decode_for_detection(data: bytes, max_side: int) -> Pixels:
    """Decodes, turns upright and shrinks a photo so its longest side is <= max_side."""
    image = open_image(data)
    width, height = image.size
    try:
        if image.getexif().get(_EXIF_ORIENTATION, 1) in _SWAPPING_ORIENTATIONS:
            width, height = height, width
    except Exception:  # a broken EXIF block is not worth failing the photo for
        pass
    longest = max(width, height)
    if image.format == "JPEG" and longest > max_side:
        # JPEG can decode at 1/2, 1/4, 1/8 scale almost for free.
        ratio = max_side / longest
        image.draft("RGB", (math.ceil(image.width * ratio), math.ceil(image.height * ratio)))
    try:
        upright = ImageOps.exif_transpose(image)
        upright.load()
        rgb = _to_rgb(upright)
    except PhotoError:
        raise
    except Exception as error:
        raise PhotoError(f"truncated or corrupt image ({error})") from None
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    pixels = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    return Pixels(rgb=pixels, scale=longest / max(rgb.size), width=width, height=height)


def shrunk_jpeg(image: Image.Image, max_side: int = 1600, quality: int = 88) -> bytes:
    """An upright JPEG copy at most max_side px on its longest side: a photo small
    enough to upload (OpenWhisk takes at most 1 MB a request)."""
    try:
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        rgb = _to_rgb(upright)
    except Exception as error:
        raise PhotoError(f"truncated or corrupt image ({error})") from None
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=quality)
    return out.getvalue()
