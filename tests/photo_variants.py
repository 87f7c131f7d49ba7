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


def distinct_copies(folder: Path, name: str, count: int, largest: int = 900) -> list[Path]:
    """`count` copies of the photo `name` in `folder`, each a few pixels smaller than
    the last, so each is a distinct photo (its own bytes, detected on its own)."""
    folder.mkdir(parents=True, exist_ok=True)
    original = photo(name)
    paths = [folder / f"{Path(name).stem}-{i:03}.jpg" for i in range(count)]
    for i, path in enumerate(paths):
        path.write_bytes(encoded(shrunk(original, largest - 7 * i)))
    return paths


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


def framed(
    image: Image.Image, box: tuple[int, int, int, int], margin: float, size: int
) -> Image.Image:
    """A square crop around the face box (left, top, right, bottom), `margin` of its
    width either way (negative: the frame cuts into it), a little above centre as
    people frame themselves, at size px."""
    left, top, right, bottom = box
    side = right - left
    half = side * (0.5 + margin)
    x, y = (left + right) / 2, (top + bottom) / 2 - 0.1 * side
    crop = image.crop((round(x - half), round(y - half), round(x + half), round(y + half)))
    return crop.resize((size, size), Image.Resampling.LANCZOS)


def in_corner(image: Image.Image, box: tuple[int, int, int, int], size: int) -> Image.Image:
    """The face box (left, top, right, bottom) in the frame's top-left corner, touching
    two edges, at size px."""
    left, top, right, _ = box
    side = right - left
    crop = image.crop((left, top, round(left + 1.5 * side), round(top + 1.5 * side)))
    return crop.resize((size, size), Image.Resampling.LANCZOS)


def tight(name: str, margin: float, size: int, grey: bool = False) -> Image.Image:
    """The face of FACES[name] framed tight (framed), in grey if asked."""
    crop = framed(photo(name), FACES[name], margin, size)
    return crop.convert("L") if grey else crop


def corner(name: str, size: int) -> Image.Image:
    """The face of FACES[name] in the frame's top-left corner (in_corner)."""
    return in_corner(photo(name), FACES[name], size)


def cut_by_edge(
    image: Image.Image, box: tuple[int, int, int, int], edge: str, share: float
) -> tuple[Image.Image, int, int]:
    """The photo with `share` of the face box (left, top, right, bottom) cut off by one
    edge ("left", "right", "top" or "bottom"), and where the crop starts (x, y)."""
    left, top, right, bottom = box
    side = right - left
    crop = [0, 0, image.width, image.height]
    if edge == "left":
        crop[0] = round(left + share * side)
    elif edge == "right":
        crop[2] = round(right - share * side)
    elif edge == "top":
        crop[1] = round(top + share * side)
    else:
        crop[3] = round(bottom - share * side)
    return image.crop(tuple(crop)), crop[0], crop[1]
