"""Detection on real photos (not composites), at the sizes they are posted at: the
cascade finds every face that dlib's HOG over the whole photo finds."""

from __future__ import annotations

import dlib
import pytest

from findme import faces
from findme.images import decode_for_detection
from findme.settings import DEFAULT_MIN_FACE_PX
from tests import photo_variants as pv

# (photo, longest side): sizes where the cascade used to lose a face that whole-photo
# HOG finds (a profile on grass, a face in a group, ...), and a few where it did not.
CASES = [
    ("t1.jpg", 400),  # a 42 px face MTCNN's pyramid started too big for
    ("t1.jpg", 800),  # a face HOG on the crop scored just under its threshold
    ("t1.jpg", 1600),
    ("t1.jpg", 2400),
    ("camera.png", 1300),  # a 148 px face in profile
    ("camera.png", 1600),
    ("camera.png", 2400),
    ("grace_hopper.jpg", 300),
    ("grace_hopper.jpg", 1200),
    ("messi5.jpg", 1600),
    ("obama_partial_face2.jpg", 2400),
]


def _centre_inside(rect: dlib.rectangle, other: dlib.rectangle) -> bool:
    x, y = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
    return other.left() <= x <= other.right() and other.top() <= y <= other.bottom()


@pytest.mark.parametrize(("name", "longest"), CASES)
def test_every_face_hog_over_the_whole_photo_finds_is_found(name: str, longest: int) -> None:
    pixels = decode_for_detection(pv.at_longest_side(pv.photo(name), longest), 1600)
    smallest = 0.8 * DEFAULT_MIN_FACE_PX
    whole = [r for r in faces.detect_whole_photo(pixels) if r.width() >= smallest]
    found = faces.detect(pixels)
    assert whole, "the case needs a face for whole-photo HOG to find"
    missed = [r for r in whole if not any(_centre_inside(r, f) for f in found)]
    assert not missed, f"{name} at {longest} px: the cascade missed {missed}"


def test_all_six_people_at_the_table_are_found() -> None:
    pixels = decode_for_detection(pv.at_longest_side(pv.photo("t1.jpg"), 800), 1600)
    assert len(faces.find_faces(pixels)) == 6
