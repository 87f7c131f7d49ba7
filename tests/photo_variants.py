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
