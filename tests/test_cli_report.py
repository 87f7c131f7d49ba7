"""`findme report`: a search's matches as a page, lists and a zip, as a person reads them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from findme import report
from tests import photo_variants as pv
from tests.cli_helpers import (
    OBAMA,
    distinct_photos,
    event_folder,
    faceless_photo,
    findme,
    job_id_in,
    jobs,
    photos_done,
    start_findme,
    wait_for,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


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
    assert "faces up to distance 0.60; reference: obama.jpg" in text

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


def test_a_folder_report_names_the_folder_and_each_reference_file(
    event: tuple[Path, dict[str, bool]], tmp_path: Path
) -> None:
    folder, _ = event
    suit = faceless_photo(tmp_path)
    second = tmp_path / "obama-again.jpg"
    second.write_bytes((pv.PHOTOS / "obama3.jpg").read_bytes())
    references = ["--reference", OBAMA, "--reference", str(second), "--reference", str(suit)]
    run = findme("search", *references, "--folder", str(folder / "talk"))
    assert run.returncode == 0, run.stderr
    assert (
        "findme: note: reference 3 of 3 (suit.jpg): no face found" in run.stderr
        and "(upload)" not in run.stderr
    )
    job_id = job_id_in(run.stderr)

    first = findme("report", job_id, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    (page,) = tmp_path.glob("findme-talk-*.html")  # the folder's name, as the page's
    text = page.read_text()
    assert "<title>Photos in talk — FindMe</title>" in text and "<h1>Photos in talk</h1>" in text
    assert "3 photos of you among 3 in the folder talk;" in text
    assert "reference: obama.jpg, obama-again.jpg, suit.jpg;" in text
    assert "an uploaded photo" not in text and "of all photos" not in text

    # The same report again, the same day: a second file, and the first one kept.
    page.write_text("my notes")
    again = findme("report", job_id, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    second_page = page.with_name(f"{page.stem}-2.html")
    assert f"wrote {second_page.name} (3 matches; {page.name} was there already)" in again.stderr
    assert page.read_text() == "my notes" and second_page.exists()
    # A file the person names is theirs to replace, and they are told.
    replaced = findme("report", job_id, "-o", str(page))
    assert f"wrote {page} (3 matches, replacing the file that was there)" in replaced.stderr


def test_a_stopped_search_report_says_where_it_stopped(tmp_path: Path) -> None:
    folder = tmp_path / "stage"
    distinct_photos(folder, "s", 48)
    search = start_findme("search", "--workers", "1", "--reference", OBAMA, "--folder", str(folder))
    job_id = job_id_in(search.stderr.readline())
    wait_for(lambda: photos_done(job_id) >= 2, "two photos compared")
    # Stopped at once, as Ctrl-C or another terminal's `findme cancel` stops it (a
    # command started now could come after the last of the photos on a fast machine).
    assert jobs().cancel(job_id) == ("cancelled", True)
    search.communicate(timeout=120)
    page = tmp_path / "stopped.html"
    assert findme("report", job_id, "-o", str(page)).returncode == 0
    text = page.read_text()
    meta = re.search(
        r"The search was stopped after (\d+) of 48 photos: (\d+) photos? of you among the "
        r"(\d+) checked in the folder stage;",
        text,
    )
    assert meta, text[text.index('class="meta"') :]
    done, found, checked = map(int, meta.groups())
    assert 2 <= done == checked < 48 and found <= done
    assert "among 48" not in text


def test_report_words_for_each_kind_of_search() -> None:
    base = {"job_id": "f" * 32, "created": 1_700_000_000, "threshold": 0.55, "matches": []}
    urls = {**base, "source": "urls", "urls_total": "12", "photos_total": 12, "state": "done"}
    page = report.to_html(urls, lambda match: None)
    assert "<h1>Photos from a list of URLs</h1>" in page
    assert (
        "0 photos of you among 12 in a list of 12 photo URLs;" in page and "matching ;" not in page
    )
    mastodon = {
        **base,
        "source": "mastodon",
        "query": "#pycon",
        "servers": json.dumps(["mastodon.social", "fosstodon.org"]),
        "photos_total": 40,
        "photos_done": 0,
        "state": "failed",
        "error": "No Mastodon server could be searched",
        "references": json.dumps([{"kind": "handle", "value": "ada@mastodon.social"}]),
    }
    page = report.to_html(mastodon, lambda match: None)
    assert (
        "The search failed (No Mastodon server could be searched) after 0 of 40 photos: "
        "0 photos of you among the 0 checked in the Mastodon posts tagged #pycon on "
        "mastodon.social, fosstodon.org; faces up to distance 0.55; reference: @ada@mastodon.social"
    ) in page
    nothing = {**base, "source": "bluesky", "query": "#pycon", "photos_total": 0, "state": "failed"}
    nothing["error"] = "Bluesky could not be reached"
    assert (
        "The search failed (Bluesky could not be reached) before any photo was listed in the "
        "Bluesky posts matching #pycon"
    ) in report.to_html(nothing, lambda match: None)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_report_captions_are_whole_on_a_desktop_and_a_phone(
    event: tuple[Path, dict[str, bool]], tmp_path: Path
) -> None:
    folder, _ = event
    run = findme("search", "--json", "--reference", OBAMA, "--folder", str(folder))
    page = tmp_path / "report.html"
    assert findme("report", json.loads(run.stdout)["job_id"], "-o", str(page)).returncode == 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        for width, height in ((1280, 900), (390, 844)):
            tab = browser.new_page(viewport={"width": width, "height": height})
            tab.goto(page.as_uri())
            captions = tab.eval_on_selector_all(
                ".caption",
                """cards => cards.map(c => {
                    const card = c.closest("li").getBoundingClientRect();
                    return [...c.children].map(part => {
                        const box = part.getBoundingClientRect();
                        const whole = part.scrollWidth <= part.clientWidth + 1;
                        return {text: part.textContent, inside: whole
                            && box.left >= card.left - 0.5 && box.right <= card.right + 0.5};
                    });
                }).flat()""",
            )
            assert len(captions) == 4  # a distance in each card (a file name is text)
            assert all(part["inside"] for part in captions), (width, captions)
            assert any(part["text"].startswith("distance 0.") for part in captions)
            tab.close()
        browser.close()
