"""Turning photo bytes into pixels fit for face detection.

Every photo Pillow reads works: RGB, RGBA, grayscale, palette, 16-bit PNG,
EXIF-rotated JPEG. A photo that cannot be used raises PhotoError with a reason
a person can read; the job records it as a failed photo and goes on.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Refuse decompression bombs before decoding: 50 megapixels is more than any
# camera photo posted to social media.
MAX_PIXELS = 50_000_000
MAX_PHOTO_BYTES = 25 * 1024 * 1024
# Memory one decode may take, about: 50 megapixels of RGB fit; 16-bit, alpha and
# palette images, which need more per pixel, get fewer pixels.
MAX_DECODE_BYTES = 300_000_000

_EXIF_ORIENTATION = 0x0112
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}  # the EXIF rotations by 90 or 270 degrees
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIXTEEN_BIT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
# Peak bytes a pixel costs from decoding to the shrunk photo, by mode (measured on
# 7000x7000 images): Pillow stores RGB in 4 bytes, shrinking copies some of them,
# alpha is premultiplied in a second copy, a palette is expanded before shrinking.
_PEAK_BYTES_PER_PIXEL = {"1": 3, "L": 2, "I;16": 4, "I;16B": 4, "I;16L": 4, "I;16N": 4}
_PEAK_BYTES_WITH_ALPHA = 10  # RGBA, LA, PA, P (expanded to RGBA or RGB)
_PEAK_BYTES_OTHERWISE = 6  # RGB, CMYK, YCbCr, 32-bit grey
# Pillow resizes these with nearest neighbour: they are converted first.
_CONVERT_BEFORE_SHRINKING = {"1": "L", "P": "RGBA", "PA": "RGBA"}


class PhotoError(Exception):
    """A photo that cannot be used; str(error) is the reason shown to the user."""


@dataclass(frozen=True)
class Pixels:
    """An upright RGB photo shrunk for detection, and how to map boxes back."""

    rgb: np.ndarray  # H x W x 3, uint8, C-contiguous
    scale: float  # original upright size / working size (>= 1)
    width: int  # original upright size
    height: int


def _megapixels(pixels: float) -> str:
    return f"{pixels / 1e6:.0f}" if pixels >= 10e6 else f"{pixels / 1e6:.1f}"


def _too_large(pixels: float, limit: float) -> PhotoError:
    return PhotoError(
        f"image too large ({_megapixels(pixels)} megapixels, limit {_megapixels(limit)})"
    )


def _bomb_pixels(error: Exception) -> float:
    """The pixel count in Pillow's decompression bomb message (its own limit if absent)."""
    found = re.search(r"\((\d+) pixels\)", str(error))
    return float(found.group(1)) if found else float(Image.MAX_IMAGE_PIXELS or MAX_PIXELS)


def decode_cost(image: Image.Image) -> int:
    """About how many bytes decoding this (lazily opened) image and shrinking it take."""
    if image.mode in _PEAK_BYTES_PER_PIXEL:
        per_pixel = _PEAK_BYTES_PER_PIXEL[image.mode]
    elif image.mode in ("P", "PA") or "A" in image.mode or "a" in image.mode:
        per_pixel = _PEAK_BYTES_WITH_ALPHA
    else:
        per_pixel = _PEAK_BYTES_OTHERWISE
    return image.width * image.height * per_pixel


def open_image(data: bytes) -> Image.Image:
    """Opens image bytes lazily, with the size checks done before any decoding:
    pixels, and the memory their mode and bit depth would take once decoded."""
    if not data:
        raise PhotoError("empty file")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError(f"file too large ({len(data)} bytes, limit {MAX_PHOTO_BYTES})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        # Pillow read the header and found more pixels than it allows at all.
        raise _too_large(_bomb_pixels(error), MAX_PIXELS) from None
    except UnidentifiedImageError:
        raise PhotoError("not an image") from None
    except Exception as error:  # Pillow raises many kinds on malformed headers
        raise PhotoError(f"truncated or corrupt image ({error})") from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise PhotoError("not an image (no pixels)")
    if width * height > MAX_PIXELS:
        raise _too_large(width * height, MAX_PIXELS)
    if decode_cost(image) > MAX_DECODE_BYTES:
        per_pixel = decode_cost(image) / (width * height)
        raise _too_large(width * height, MAX_DECODE_BYTES / per_pixel)
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


def _shrink(image: Image.Image, max_side: int) -> Image.Image:
    """Shrinks in the image's own mode, so conversions (16-bit, alpha) work on few pixels."""
    if max(image.size) <= max_side:
        return image
    if image.mode in _CONVERT_BEFORE_SHRINKING:
        wanted = _CONVERT_BEFORE_SHRINKING[image.mode]
        if image.mode == "P" and "transparency" not in image.info:
            wanted = "RGB"
        image = image.convert(wanted)
    ratio = max_side / max(image.size)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    # reduce() (the fast first step) does not take 16-bit modes.
    gap = None if image.mode.startswith("I;16") else 2.0
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=gap)


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block is not worth failing the photo for
        return 1


def decode_for_detection(data: bytes, max_side: int) -> Pixels:
    """Decodes, shrinks so the longest side is <= max_side, and turns a photo upright."""
    image = open_image(data)
    width, height = image.size
    orientation = _orientation(image)
    if orientation in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    longest = max(width, height)
    if image.format == "JPEG" and longest > max_side:
        # JPEG can decode at 1/2, 1/4, 1/8 scale almost for free.
        ratio = max_side / longest
        image.draft("RGB", (math.ceil(image.width * ratio), math.ceil(image.height * ratio)))
    try:
        image.load()
        rgb = _to_rgb(_shrink(image, max_side))
        if orientation in _UPRIGHT:
            rgb = rgb.transpose(_UPRIGHT[orientation])
    except PhotoError:
        raise
    except Exception as error:
        raise PhotoError(f"truncated or corrupt image ({error})") from None
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
