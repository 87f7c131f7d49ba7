"""`findme report`: a search's matches as a page, lists and a zip, as a person reads them."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests import photo_variants as pv
from tests.cli_helpers import event_folder, findme


@pytest.fixture(scope="module")
def event(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bool]]:
    return event_folder(tmp_path_factory.mktemp("report") / "photos")


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

    csv_run = findme("report", job_id, "--format", "csv", "-o", "-")
    assert csv_run.returncode == 0, csv_run.stderr
    lines = csv_run.stdout.splitlines()
    assert lines[0] == "photo,distance,confidence,top,right,bottom,left"  # a folder: no posts
    assert sorted(line.split(",")[0] for line in lines[1:]) == [
        "obama2.jpg",
        "obama3-grey.png",
        "stage-rotated.jpg",
    ]

    as_json = json.loads(findme("report", job_id, "--format", "json", "-o", "-").stdout)
    assert as_json["query"] == "#pycon" and len(as_json["matches"]) == 3
    assert as_json["created"].endswith("+00:00")  # a date a person reads, not an epoch

    page = tmp_path / "report.html"
    assert findme("report", job_id, "--output", str(page)).returncode == 0
    text = page.read_text()
    assert text.count('src="data:image/jpeg;base64,') == 3  # photos inside: self-contained
    assert "<h1>#pycon</h1>" in text and "3 photos of you among 3" in text
    assert "faces up to distance 0.60; reference: an uploaded photo" in text

    # By default a file named after the search, never 1 MB of HTML on the terminal.
    default = subprocess.run(
        [sys.executable, "-m", "findme", "report", job_id],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert default.returncode == 0 and default.stdout == ""
    written = list(tmp_path.glob("findme-pycon-*.html"))
    assert len(written) == 1 and f"wrote {written[0].name}" in default.stderr

    # The originals of the matches, as one zip.
    archive = tmp_path / "mine.zip"
    zipped = findme("report", job_id, "--format", "zip", "-o", str(archive))
    assert zipped.returncode == 0, zipped.stderr
    with zipfile.ZipFile(archive) as opened:
        assert sorted(opened.namelist()) == ["obama2.jpg", "obama3-grey.png", "stage-rotated.jpg"]
        assert opened.read("obama2.jpg") == (folder / "talk" / "obama2.jpg").read_bytes()

    missing = findme("report", "0" * 32)
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"findme: error: no job {'0' * 32} (unknown or expired)"
