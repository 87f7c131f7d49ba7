"""Photo variants derived from the committed public-domain photos, made at test time."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

PHOTOS = Path(__file__).parent / "photos"


def photo(name: str) -> Image.Image:
    return Image.open(PHOTOS / name).convert("RGB")


def encoded(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def shrunk(image: Image.Image, longest: int) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((longest, longest))
    return copy


def sixteen_bit_png(image: Image.Image) -> bytes:
    grey = np.asarray(image.convert("L"), dtype=np.uint16) * 257
    image = Image.fromarray(grey.astype(np.uint16))
    assert image.mode.startswith("I;16")
    return encoded(image, "PNG")


def exif_rotated_jpeg(image: Image.Image) -> bytes:
    """The photo stored lying on its side, with EXIF orientation 6 to stand it up."""
    lying = image.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    return encoded(lying, "JPEG", exif=exif.tobytes())


def group(*images: Image.Image, height: int = 600) -> Image.Image:
    """People side by side, as in a group photo."""
    scaled = [im.resize((round(im.width * height / im.height), height)) for im in images]
    canvas = Image.new("RGB", (sum(im.width for im in scaled), height), (200, 200, 200))
    x = 0
    for im in scaled:
        canvas.paste(im, (x, 0))
        x += im.width
    return canvas


def no_face(image: Image.Image) -> Image.Image:
    """The bottom of a portrait: suit and tie, no face."""
    return image.crop((0, int(image.height * 0.75), image.width, image.height))


def at_longest_side(image: Image.Image, longest: int, quality: int = 90) -> bytes:
    """The photo resized (up or down) so its longest side is `longest`, as a JPEG:
    the same scene as posted at another size."""
    k = longest / max(image.size)
    size = (max(1, round(image.width * k)), max(1, round(image.height * k)))
    return encoded(image.resize(size, Image.Resampling.LANCZOS), "JPEG", quality=quality)


# A face's box (left, top, right, bottom) in each committed photo, as FindMe's
# detection boxes it: tight crops are made from these, so the tests and
# benchmarks/edge_set.py do not depend on the detector they measure.
FACES = {
    "obama.jpg": (376, 154, 632, 410),
    "obama2.jpg": (166, 286, 473, 593),
    "obama3.jpg": (676, 320, 930, 574),
    "biden.jpg": (442, 225, 748, 531),
    "grace_hopper.jpg": (179, 152, 356, 329),
    "astronaut.png": (185, 85, 270, 170),
    "t1.jpg": (68, 291, 171, 394),  # the left-most of six at a table
}


def tight(name: str, margin: float, size: int, grey: bool = False) -> Image.Image:
    """A square crop around the face, `margin` of its side either way (negative: the
    frame cuts into it), a little above centre as people frame themselves, at size px."""
    left, top, right, bottom = FACES[name]
    side = right - left
    half = side * (0.5 + margin)
    x, y = (left + right) / 2, (top + bottom) / 2 - 0.1 * side
    crop = photo(name).crop((round(x - half), round(y - half), round(x + half), round(y + half)))
    crop = crop.resize((size, size), Image.Resampling.LANCZOS)
    return crop.convert("L") if grey else crop


def corner(name: str, size: int) -> Image.Image:
    """The face in the frame's top-left corner, touching two edges."""
    left, top, right, _ = FACES[name]
    side = right - left
    crop = photo(name).crop((left, top, round(left + 1.5 * side), round(top + 1.5 * side)))
    return crop.resize((size, size), Image.Resampling.LANCZOS)
