"""Detection on real photos (not composites), at the sizes they are posted at: the
cascade finds every face that dlib's HOG over the whole photo finds."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import dlib
import pytest

from findme import faces
from findme.client import OpenWhiskClient
from findme.images import decode_for_detection
from findme.local.runner import LocalFindMe
from findme.settings import DEFAULT_MIN_FACE_PX
from tests import photo_variants as pv
from tests.conftest import wait_for_job

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


def test_faces_under_four_fifths_of_the_smallest_asked_for_are_counted() -> None:
    at_300, at_800 = (
        faces.detect_faces(decode_for_detection(pv.at_longest_side(pv.photo("t1.jpg"), n), 1600))
        for n in (300, 800)
    )
    small = [r.width() for r in at_300.rects if r.width() < 0.8 * DEFAULT_MIN_FACE_PX]
    assert at_300.too_small >= len(small) >= 2  # 25 to 29 px faces of a 300 px photo
    assert at_800.too_small == 0  # the same six people, 60 to 79 px


def _search(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "findme", "search", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_search_says_how_many_photos_hold_faces_too_small(tmp_path: Path) -> None:
    (tmp_path / "portrait.jpg").write_bytes((pv.PHOTOS / "obama2.jpg").read_bytes())
    (tmp_path / "table-300.jpg").write_bytes(pv.at_longest_side(pv.photo("t1.jpg"), 300))
    (tmp_path / "table-800.jpg").write_bytes(pv.at_longest_side(pv.photo("t1.jpg"), 800))
    reference = str(pv.PHOTOS / "obama.jpg")
    plain = _search("--reference", reference, "--folder", str(tmp_path))
    assert plain.returncode == 0, plain.stderr
    assert "1 of 3 photos match (0 failed)" in plain.stdout
    assert "1 photo holds faces under 32 px, too small to compare reliably" in plain.stdout
    listed = _search("--reference", reference, "--folder", str(tmp_path), "--json")
    result = json.loads(listed.stdout)
    assert result["photos_with_small_faces"] == 1
    assert [(m["photo"], m["small_faces"]) for m in result["matches"]] == [("portrait.jpg", 0)]


def test_the_search_says_which_face_of_a_group_reference_it_used(
    client: OpenWhiskClient, local: LocalFindMe
) -> None:
    group = pv.encoded(pv.group(pv.photo("biden.jpg"), pv.photo("obama2.jpg")))
    (local.photo_root / "alone").mkdir(exist_ok=True)
    (local.photo_root / "alone" / "obama.jpg").write_bytes((pv.PHOTOS / "obama.jpg").read_bytes())
    _, started = client.invoke(
        "register_search",
        {"folder": "alone", "reference_image": base64.b64encode(group).decode()},
    )
    status = wait_for_job(client, started["job_id"])
    pixels = decode_for_detection(group, 1600)
    used = faces.reference_face(pixels)
    assert used is not None
    assert status["reference_faces"] == [{"reference": 0, "box": list(used.box)}]
    both = faces.find_faces(pixels)
    assert len(both) == 2
    _, right, _, left = max(both, key=lambda f: f.box[1] - f.box[3]).box
    assert left <= (used.box[1] + used.box[3]) / 2 <= right  # the larger face of the two


def test_a_profile_picture_whose_face_fills_it_finds_its_person(tmp_path: Path) -> None:
    # Issue 24: a 150 px crop whose face fills the frame was refused as a reference
    # ("no face in reference photo"), where face_recognition's defaults read it.
    picture = tmp_path / "picture.jpg"
    picture.write_bytes(pv.encoded(pv.tight("t1.jpg", 0.0, 150)))
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "table.jpg").write_bytes(pv.at_longest_side(pv.photo("t1.jpg"), 800))
    (folder / "obama.jpg").write_bytes((pv.PHOTOS / "obama.jpg").read_bytes())
    run = _search("--reference", str(picture), "--folder", str(folder), "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["state"] == "done"
    assert [m["photo"] for m in result["matches"]] == ["table.jpg"]
    (match,) = result["matches"]
    left = match["box"][3] / 800 * 1280  # her face, the left-most at the table
    assert abs(left - pv.FACES["t1.jpg"][0]) < 40
