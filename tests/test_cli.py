"""`findme search` as a person runs it: a new process, a folder, a reference photo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import photo_variants as pv
from tests.conftest import BROKEN, make_event_folder


def findme(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "findme", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def event(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bool]]:
    folder = tmp_path_factory.mktemp("cli") / "photos"
    expected = make_event_folder(folder)
    for name, data in BROKEN.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data())
    return folder, expected


def test_json_lists_exactly_the_matching_photos(event: tuple[Path, dict[str, bool]]) -> None:
    folder, expected = event
    run = findme(
        "search", "--reference", str(pv.PHOTOS / "obama.jpg"), "--folder", str(folder), "--json"
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["state"] == "done"
    assert {m["photo"] for m in result["matches"]} == {p for p, has in expected.items() if has}
    assert result["photos_total"] == result["photos_done"] == len(expected) + len(BROKEN)
    assert {f["photo"] for f in result["failed"]} == set(BROKEN)
    assert all(len(m["box"]) == 4 for m in result["matches"])


def test_plain_output_prints_each_match_with_its_distance(
    event: tuple[Path, dict[str, bool]],
) -> None:
    folder, _ = event
    run = findme(
        "search", "--reference", str(pv.PHOTOS / "obama.jpg"), "--folder", str(folder / "talk")
    )
    assert run.returncode == 0, run.stderr
    assert "match  obama2.jpg  distance 0." in run.stdout
    assert "3 of 3 photos match (0 failed)" in run.stdout


def test_reference_without_a_face_is_one_clear_error(
    event: tuple[Path, dict[str, bool]], tmp_path: Path
) -> None:
    folder, _ = event
    suit = tmp_path / "suit.jpg"
    suit.write_bytes(pv.encoded(pv.no_face(pv.photo("obama.jpg"))))
    run = findme("search", "--reference", str(suit), "--folder", str(folder / "talk"))
    assert run.returncode == 1
    assert (
        "findme: error: no face in reference photo:"
        " use a larger, frontal, well-lit photo of your face" in run.stderr
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--folder", "/no/such/folder"], "no such folder: /no/such/folder"),
        (["--threshold", "0.95"], "--threshold must be between 0.3 and 0.8"),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_line(
    event: tuple[Path, dict[str, bool]], args: list[str], message: str
) -> None:
    folder, _ = event
    base = ["search", "--reference", str(pv.PHOTOS / "obama.jpg"), "--folder", str(folder)]
    run = findme(*base, *args)
    assert run.returncode == 2
    assert run.stderr.strip() == f"findme: error: {message}"


def test_unreadable_reference(event: tuple[Path, dict[str, bool]], tmp_path: Path) -> None:
    folder, _ = event
    notes = tmp_path / "me.jpg"
    notes.write_text("not a photo")
    run = findme("search", "--reference", str(notes), "--folder", str(folder))
    assert run.returncode == 2
    assert run.stderr.strip() == f"findme: error: reference {notes} is unusable: not an image"
    run = findme("search", "--reference", str(tmp_path / "absent.jpg"), "--folder", str(folder))
    assert run.returncode == 2
    assert "cannot read reference" in run.stderr


def test_without_redis_url_an_embedded_redis_keeps_the_data_in_the_user_data_dir(
    event: tuple[Path, dict[str, bool]], tmp_path: Path
) -> None:
    import os

    folder, _ = event
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "findme",
            "search",
            "--json",
            "--reference",
            str(pv.PHOTOS / "obama.jpg"),
            "--folder",
            str(folder / "talk"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["matches"]) == 3
    assert (tmp_path / "data" / "findme" / "redis.db").exists()


def test_report_of_a_finished_search(event: tuple[Path, dict[str, bool]], tmp_path: Path) -> None:
    folder, _ = event
    run = findme(
        "search",
        "--json",
        "--query",
        "#pycon",
        "--reference",
        str(pv.PHOTOS / "obama.jpg"),
        "--folder",
        str(folder / "talk"),
    )
    job_id = json.loads(run.stdout)["job_id"]

    csv_run = findme("report", job_id, "--format", "csv")
    assert csv_run.returncode == 0, csv_run.stderr
    lines = csv_run.stdout.splitlines()
    assert lines[0] == "photo,post_url,author,distance,confidence,top,right,bottom,left"
    assert sorted(line.split(",")[0] for line in lines[1:]) == [
        "obama2.jpg",
        "obama3-grey.png",
        "stage-rotated.jpg",
    ]

    as_json = json.loads(findme("report", job_id, "--format", "json").stdout)
    assert as_json["query"] == "#pycon" and len(as_json["matches"]) == 3

    page = tmp_path / "report.html"
    assert findme("report", job_id, "--output", str(page)).returncode == 0
    text = page.read_text()
    assert text.count('src="data:image/jpeg;base64,') == 3  # photos inside: self-contained
    assert "<h1>#pycon</h1>" in text and "3 photos of you among 3" in text

    missing = findme("report", "0" * 32)
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"findme: error: no job {'0' * 32} (unknown or expired)"
