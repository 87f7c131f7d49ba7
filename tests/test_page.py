"""The search page in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from findme.local.runner import LocalFindMe
from tests import photo_variants as pv

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)


@pytest.mark.parametrize(
    ("screen", "viewport"),
    [("desktop", {"width": 1200, "height": 900}), ("phone", {"width": 390, "height": 844})],
)
def test_a_person_finds_their_photos_on_the_page(
    local: LocalFindMe, screen: str, viewport: dict
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport=viewport)
        page.goto(f"{local.api_host}/")
        page.wait_for_selector('#folder option[value="event/talk"]', state="attached")
        page.select_option("#folder", "event/talk")
        page.set_input_files("#reference", str(pv.PHOTOS / "obama.jpg"))
        page.fill("#query", "#pycon")
        page.click("#start")
        page.wait_for_selector("text=Done.", timeout=120_000)
        cards = page.locator("#matches li")
        assert cards.count() == 3
        assert "3 of 3 photos checked, 3 with you" in page.locator("#counts").text_content()
        outline = cards.first.locator(".face").bounding_box()
        photo = cards.first.locator("img").bounding_box()
        assert outline and photo and 0 < outline["width"] < photo["width"]
        page.wait_for_function(
            "[...document.images].every((i) => i.complete && i.naturalWidth > 0)"
        )
        assert page.locator("#matches .badge.strong").count() == 3
        page.screenshot(path=str(ARTIFACTS / f"page-{screen}.png"), full_page=True)
        if screen == "desktop":
            _download_the_report(page)
            _review_matches(page)
        browser.close()


def _download_the_report(page: Page) -> None:
    with page.expect_download() as csv_download:
        page.click("#download-csv")
    lines = Path(csv_download.value.path()).read_text().splitlines()
    assert lines[0] == "photo,post_url,author,distance,confidence,top,right,bottom,left"
    assert sorted(line.split(",")[0] for line in lines[1:]) == [
        "obama2.jpg",
        "obama3-grey.png",
        "stage-rotated.jpg",
    ]
    with page.expect_download() as html_download:
        page.click("#download-html")
    report = Path(html_download.value.path()).read_text()
    assert report.count('src="data:image/jpeg;base64,') == 3  # self-contained
    assert "#pycon" in report and report.count('class="face"') == 3


def _review_matches(page: Page) -> None:
    cards = page.locator("#matches li")
    rejected = cards.first.get_attribute("data-photo")
    cards.first.locator("button.reject").click()
    page.wait_for_function(f"!document.querySelector('#matches li[data-photo=\"{rejected}\"]')")
    assert cards.count() == 2
    cards.first.locator("button.confirm").click()
    page.wait_for_selector("#matches .badge.confirmed")
    assert cards.count() == 2  # the rejected photo stays out after re-ranking


def test_the_page_says_what_went_wrong(local: LocalFindMe, tmp_path: Path) -> None:
    text = tmp_path / "me.png"
    text.write_bytes(b"not really a photo")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.goto(f"{local.api_host}/")
        page.wait_for_selector('#folder option[value="event/talk"]', state="attached")
        page.select_option("#folder", "event/talk")
        page.set_input_files("#reference", str(text))
        page.click("#start")
        page.wait_for_selector("#error:not([hidden])")
        assert "reference_image" in page.locator("#error").text_content()
        browser.close()
