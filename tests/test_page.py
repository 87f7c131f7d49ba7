"""The search page in a real headless Chromium (Debian's), driven by Playwright, as a
person uses it: at desktop and phone sizes, with axe-core checking every state."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright

from findme.local.runner import LocalFindMe
from tests import mastodon_api as m
from tests import photo_variants as pv
from tests import x_api


@pytest.fixture(scope="module")
def local(busy_local: LocalFindMe) -> LocalFindMe:
    """This module's searches run on an engine with raised invocation limits
    (tests/conftest.py, BUSY_CLUSTER)."""
    return busy_local


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
AXE = Path(__file__).resolve().parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
TOUCH = {"desktop": False, "phone": True}  # a phone has a touch screen and a front camera
THUMBNAILS_LOADED = (
    "[...document.querySelectorAll('#matches img')].every((i) => i.complete && i.naturalWidth > 0)"
)
TALK = ["obama2.jpg", "obama3-grey.png", "stage-rotated.jpg"]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture()
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    screen = getattr(request, "param", "desktop")
    context = browser.new_context(
        viewport=SCREENS[screen], has_touch=TOUCH[screen], accept_downloads=True
    )
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the page threw: {errors}"


def no_axe_violations(page: Page, state: str) -> None:
    """axe-core's WCAG 2 A and AA rules on the page as it is now."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text())
    # WCAG 2.1 A and AA, and label-content-name-mismatch (WCAG 2.5.3, which axe
    # marks experimental and leaves off unless asked): a control's name holds its words.
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', "
        "'wcag21aa']}, rules: {'label-content-name-mismatch': {enabled: true}}})"
    )
    assert len(result["passes"]) > 10  # axe really ran
    found = [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
    ]
    assert not found, f"axe-core in state {state!r}: {found}"


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"page-{name}.png"), full_page=True)


def screen_of(page: Page) -> str:
    return "phone" if page.viewport_size["width"] < 500 else "desktop"


def agree(page: Page) -> None:
    """Agrees to what FindMe keeps, as a person does once before their first photo."""
    page.click("#consent-agree")
    page.wait_for_selector("#reference:not([disabled])")


def choose_photo(page: Page, photo: Path, field: str = "#reference") -> None:
    """Chooses a photo and waits until the page has said which face it will use."""
    page.set_input_files(field, str(photo))
    page.wait_for_selector("#reference-preview:not([hidden])")
    page.wait_for_function(
        "!document.querySelector('#reference-caption').textContent.endsWith('…')"
    )


def start_search(page: Page, local: LocalFindMe, folder: str, photo: Path) -> None:
    page.goto(f"{local.api_host}/")
    page.wait_for_selector(f'#folder option[value="{folder}"]', state="attached")
    page.select_option("#folder", folder)
    agree(page)
    choose_photo(page, photo)
    page.click("#start")


def from_menu(page: Page, action: str) -> None:
    """A secondary action of the results' bar: in its "More" menu."""
    page.click("#more-actions")
    page.click(action)


def wait_done(page: Page) -> None:
    try:
        page.wait_for_function(
            "['Done.', 'Stopped.'].some((w) => "
            "document.querySelector('#state').textContent.startsWith(w))",
            timeout=120_000,
        )
    except Exception:
        said = [page.locator(f"#{i}").text_content() for i in ("state", "error", "job-error")]
        raise AssertionError(f"the search did not end; the page says {said}") from None


def status_requests(page: Page) -> list[str]:
    """Every search_status request, its parameters as a query (the owner's browser sends
    them, with its key, in a POST body)."""
    seen: list[str] = []

    def note(request: Request) -> None:
        if "search_status" in request.url:
            body = json.loads(request.post_data) if request.post_data else {}
            seen.append(request.url + ("?" + urlencode(body) if body else ""))

    page.on("request", note)
    return seen


@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)
def test_a_person_finds_their_photos_on_the_page(local: LocalFindMe, page: Page) -> None:
    screen = "phone" if page.viewport_size["width"] < 500 else "desktop"
    page.goto(f"{local.api_host}/")
    page.wait_for_selector('#folder option[value="event/talk"]', state="attached")
    # First load: a form, no empty progress card, no query field for a folder.
    assert page.locator("#progress").is_hidden()
    assert page.locator("#query-field").is_hidden()
    no_axe_violations(page, "first load")
    shot(page, f"{screen}-1-start")
    agree(page)
    page.click("#start")
    assert "Choose a photo" in page.locator("#error").text_content()
    page.select_option("#folder", "event/talk")
    choose_photo(page, pv.PHOTOS / "obama.jpg")
    assert page.locator("#error").is_hidden()  # choosing a photo clears "Choose a photo"
    page.click("#start")
    wait_done(page)
    cards = page.locator("#matches li")
    assert cards.count() == 3
    assert "3 of 3 photos checked, 3 with you" in page.locator("#counts").text_content()
    assert "3 photos of you" in page.locator("#announce").text_content()
    outline = cards.first.locator(".face").bounding_box()
    photo = cards.first.locator("img").bounding_box()
    assert outline and photo and 0 < outline["width"] < photo["width"]
    page.locator("#matches li").last.scroll_into_view_if_needed()
    page.wait_for_function(THUMBNAILS_LOADED)
    # Thumbnails, not originals.
    assert all(
        "/findme/previews/" in cards.nth(i).locator("img").get_attribute("src") for i in range(3)
    )
    assert page.locator("#matches .badge.strong").count() == 3
    assert page.locator("#download-zip").is_visible() and page.locator("#cancel").is_hidden()
    no_axe_violations(page, "done")
    shot(page, f"{screen}-2-done")
    page.locator("#matches li button.photo").first.click()
    page.wait_for_selector("#lightbox[open]")
    page.wait_for_function("document.querySelector('#lightbox-image').naturalWidth > 0")
    no_axe_violations(page, "lightbox")
    shot(page, f"{screen}-3-lightbox")
    page.keyboard.press("Escape")
    page.wait_for_selector("#lightbox:not([open])", state="attached")


def test_a_search_has_a_link_and_stays_in_this_browsers_list(
    local: LocalFindMe, page: Page
) -> None:
    start_search(page, local, "event/talk", pv.PHOTOS / "obama.jpg")
    wait_done(page)
    link = page.locator("#job-link").get_attribute("href")
    job_id = re.search(r"job=([0-9a-f]+)", link).group(1)
    assert f"job={job_id}" in page.url
    # A reload and a fresh visit both find the search again.
    page.reload()
    wait_done(page)
    assert page.locator("#matches li").count() == 3
    page.goto(f"{local.api_host}/")
    page.wait_for_selector("#history:not([hidden])")
    assert "(done, 3 photos of you)" in page.locator("#history-list li").first.text_content()
    entry = page.locator("#history-list a", has_text="event/talk").first
    entry.click()
    wait_done(page)
    assert (
        sorted(page.locator("#matches li").evaluate_all("e => e.map(l => l.dataset.photo)")) == TALK
    )
    no_axe_violations(page, "reopened link")


def test_a_shared_link_is_view_only_and_its_owner_can_stop_sharing(
    local: LocalFindMe, page: Page, browser: Browser
) -> None:
    start_search(page, local, "event/talk", pv.PHOTOS / "obama.jpg")
    wait_done(page)
    link = page.locator("#job-link").get_attribute("href")
    share = page.locator("#share")
    assert share.text_content() == "Stop sharing the link"
    assert "Anyone you give the link to can see" in share.get_attribute("title")
    assert page.locator("#matches li .review button").count() > 0  # the owner reviews
    stranger = browser.new_context(viewport=SCREENS["desktop"]).new_page()
    try:
        stranger.goto(link if link.startswith("http") else f"{local.api_host}/{link.lstrip('/')}")
        wait_done(stranger)
        assert stranger.locator("#matches li").count() == 3
        assert "View only" in stranger.locator("#sharing").text_content()
        assert stranger.locator("#matches li .review button:visible").count() == 0
        assert not stranger.locator("#cancel").is_visible()
        no_axe_violations(stranger, "a shared link, view only")
        page.locator("#share").click()
        page.wait_for_function(
            "document.querySelector('#sharing').textContent.includes('Only this browser')"
        )
        stranger.reload()
        stranger.wait_for_function(
            "document.body.textContent.includes('stopped sharing this search')"
        )
    finally:
        stranger.context.close()


def test_the_lightbox_outlines_the_face_and_moves_by_keyboard_and_swipe(
    local: LocalFindMe, page: Page
) -> None:
    start_search(page, local, "event/talk", pv.PHOTOS / "obama.jpg")
    wait_done(page)
    page.locator("#matches li button.photo").first.click()
    page.wait_for_function("document.querySelector('#lightbox-image').naturalWidth > 0")
    first = page.locator("#lightbox-caption").text_content()
    assert "photo 1 of 3" in first.lower()
    face = page.locator("#lightbox-face").bounding_box()
    image = page.locator("#lightbox-image").bounding_box()
    assert face and image and 0 < face["width"] < image["width"]
    assert image["x"] <= face["x"] and face["x"] + face["width"] <= image["x"] + image["width"] + 1
    page.keyboard.press("ArrowRight")
    assert "Photo 2 of 3" in page.locator("#lightbox-caption").text_content()
    box = page.locator("#lightbox-image").bounding_box()
    page.mouse.move(box["x"] + box["width"] - 10, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 10, box["y"] + 40)
    page.mouse.up()
    assert "Photo 3 of 3" in page.locator("#lightbox-caption").text_content()
    page.keyboard.press("ArrowLeft")
    assert "Photo 2 of 3" in page.locator("#lightbox-caption").text_content()
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.classList.contains('photo')")


def test_every_format_is_shown_through_previews(local: LocalFindMe, page: Page) -> None:
    folder = local.photo_root / "page-formats"
    folder.mkdir(exist_ok=True)
    obama2 = pv.photo("obama2.jpg")
    (folder / "best.tiff").write_bytes(pv.encoded(pv.shrunk(obama2, 900), "TIFF"))
    (folder / "old.bmp").write_bytes(pv.encoded(pv.shrunk(obama2, 700), "BMP"))
    start_search(page, local, "page-formats", pv.PHOTOS / "obama.jpg")
    wait_done(page)
    assert page.locator("#matches li").count() == 2
    page.wait_for_function(THUMBNAILS_LOADED)
    page.locator("#matches li button.photo").first.click()
    page.wait_for_function("document.querySelector('#lightbox-image').naturalWidth > 300")


def test_download_all_my_photos_as_one_zip_of_the_originals(local: LocalFindMe, page: Page) -> None:
    start_search(page, local, "event/talk", pv.PHOTOS / "obama.jpg")
    wait_done(page)
    with page.expect_download() as download:
        page.click("#download-zip")
    assert download.value.suggested_filename.startswith("findme-")
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert sorted(archive.namelist()) == TALK
    for name in TALK:
        original = (local.photo_root / "event" / "talk" / name).read_bytes()
        assert archive.read(name) == original
    # Selected photos only.
    page.locator("#matches li .pick").first.check()
    chosen = page.locator("#matches li").first.get_attribute("data-photo")
    with page.expect_download() as download:
        page.click("#bulk-download")
    archive = zipfile.ZipFile(Path(download.value.path()))
    assert archive.namelist() == [chosen]


def test_reports_are_named_escaped_and_safe_in_a_spreadsheet(
    local: LocalFindMe, page: Page
) -> None:
    start_search(page, local, "event/talk", pv.PHOTOS / "obama.jpg")
    wait_done(page)
    with page.expect_download() as csv_download:
        from_menu(page, "#download-csv")
    # Named as `findme report` names it: the folder's name.
    assert re.fullmatch(r"findme-talk-\d{4}-\d\d-\d\d\.csv", csv_download.value.suggested_filename)
    lines = Path(csv_download.value.path()).read_text().splitlines()
    assert lines[0].startswith("photo,post_url,author,distance,confidence")
    assert sorted(line.split(",")[0] for line in lines[1:]) == TALK
    with page.expect_download() as html_download:
        from_menu(page, "#download-html")
    report = Path(html_download.value.path()).read_text()
    assert report.count('src="data:image/jpeg;base64,') == 3  # self-contained
    assert "<h1>Photos in talk</h1>" in report and report.count('class="face"') == 3
    assert "3 photos of you among 3 in the folder talk;" in report  # the CLI's words
    # Hostile values: formulas neutralised, markup escaped, script links dropped.
    hostile = {
        "photo": '=HYPERLINK("http://x")"><img src=x onerror=alert(1)>',
        "post_url": "javascript:alert(1)",
        "author": "+cmd",
        "distance": 0.3,
        "confidence": "strong",
        "box": [1, 2, 3, 0],
        "width": 10,
        "height": 10,
    }
    status = {
        "matches": [hostile],
        "photos_total": 1,
        "threshold": 0.6,
        "created": 0,
        "query": "<b>",
    }
    text = page.evaluate("(s) => FindMeReport.csv(s)", status)
    assert "'=HYPERLINK" in text and "'+cmd" in text and "javascript:" not in text
    made = page.evaluate(
        "(s) => FindMeReport.html(s, {urlOf: () => 'http://127.0.0.1:1/none'})", status
    )
    assert "<img src=x" not in made and "javascript:" not in made and "<b>" not in made
    # A stopped search's report says so, in the CLI's words for its place.
    stopped = {
        **status,
        "query": "#pycon",
        "state": "cancelled",
        "photos_total": 146,
        "photos_done": 102,
        "where": "the Mastodon posts tagged #pycon on mastodon.social",
    }
    made = page.evaluate(
        "(s) => FindMeReport.html(s, {urlOf: () => 'http://127.0.0.1:1/none'})", stopped
    )
    assert (
        "The search was stopped after 102 of 146 photos: 1 photo of you among the 102 checked"
        " in the Mastodon posts tagged #pycon on mastodon.social;"
    ) in made


@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)
def test_review_in_bulk_undo_a_not_me_and_see_the_rejected(local: LocalFindMe, page: Page) -> None:
    start_search(page, local, "event/talk", pv.PHOTOS / "obama.jpg")
    wait_done(page)
    cards = page.locator("#matches li")
    first = cards.first.get_attribute("data-photo")
    cards.first.locator("button.reject").click()
    page.wait_for_function(f"!document.querySelector('#matches li[data-photo=\"{first}\"]')")
    assert page.locator("#undo-bar").is_visible()
    focused = page.evaluate("document.activeElement.getAttribute('aria-label') || ''")
    assert focused.startswith("Not me:") or focused == ""  # stays among the cards
    assert page.evaluate("document.activeElement !== document.body")
    assert "(1)" in page.locator("#rejected-title").text_content()
    no_axe_violations(page, "after Not me")
    page.click("#undo")
    page.wait_for_selector(f'#matches li[data-photo="{first}"]')
    assert page.locator("#rejected").is_hidden()
    # Two at once.
    cards.nth(0).locator(".pick").check()
    cards.nth(1).locator(".pick").check()
    assert page.locator("#selected-count").text_content() == "2 selected"
    page.click("#bulk-reject")
    page.wait_for_function("document.querySelectorAll('#matches li').length === 1")
    assert "(2)" in page.locator("#rejected-title").text_content()
    page.locator("#rejected summary").click()
    page.locator("#rejected-list button").first.click()
    page.wait_for_function("document.querySelectorAll('#matches li').length === 2")
    cards.first.locator("button.confirm").click()
    page.wait_for_selector("#matches .badge.confirmed")
    assert "confirmed by you" in page.locator("#matches .badge.confirmed").first.text_content()
    assert cards.count() == 2  # the rejected photo stays out after re-ranking


def test_live_filtering_without_a_new_search(local: LocalFindMe, page: Page) -> None:
    start_search(page, local, "event", pv.PHOTOS / "obama.jpg")
    wait_done(page)
    requests = status_requests(page)
    everything = page.locator("#matches li").count()
    assert everything >= 4
    page.locator("#filter").fill("0.3")
    assert page.locator("#matches li").count() < everything
    page.locator("#filter").fill("0.6")
    assert page.locator("#matches li").count() == everything
    page.check("#strong-only")
    assert page.locator("#matches li").count() == page.locator("#matches .badge.strong").count()
    assert requests == []  # filtering asked the server nothing
    assert "By folder" in page.locator("#groups").text_content()


def test_many_results_come_in_pages_and_a_search_can_be_stopped(
    local: LocalFindMe, page: Page
) -> None:
    folder = local.photo_root / "page-many"
    folder.mkdir(exist_ok=True)
    small = pv.encoded(pv.shrunk(pv.photo("obama2.jpg"), 420))
    for i in range(70):
        (folder / f"p{i:03}.jpg").write_bytes(small)
    start_search(page, local, "page-many", pv.PHOTOS / "obama.jpg")
    page.wait_for_selector("#cancel:visible")
    wait_done(page)
    assert page.locator("#matches li").count() == 60
    page.click("#more")
    assert page.locator("#matches li").count() == 70
    assert page.locator("#more").is_hidden()


@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)
def test_stop_a_running_search_and_continue_it(local: LocalFindMe, page: Page) -> None:
    screen = screen_of(page)
    pv.distinct_copies(local.photo_root / f"page-slow-{screen}", "obama2.jpg", 20)
    # The compare workers are paused while the person stops the search, so it is
    # still running when they do, however fast the machine.
    workers = local.engine.pools["compare_images"].pids()
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    try:
        start_search(page, local, f"page-slow-{screen}", pv.PHOTOS / "obama.jpg")
        page.wait_for_selector("#cancel:visible")
        page.click("#cancel")
        try:
            page.wait_for_function(
                "document.querySelector('#state').textContent.startsWith('Stopped')"
            )
        except Exception:
            shot(page, f"{screen_of(page)}-4-stopped-failed")
            raise AssertionError(
                f"not stopped: {page.locator('#state').text_content()!r}, "
                f"error {page.locator('#job-error').text_content()!r}"
            ) from None
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
    assert page.locator("#cancel").is_hidden() and page.locator("#bar").is_hidden()
    assert "before it stopped" in page.locator("#counts").text_content()
    assert page.locator("#resume").is_visible() and page.locator("#new-search").is_visible()
    no_axe_violations(page, "stopped")
    shot(page, f"{screen_of(page)}-4-stopped")
    # Continue: where it stopped, to the end.
    page.click("#resume")
    assert page.locator("#state").text_content().startswith("Continuing")
    page.wait_for_function("document.querySelector('#state').textContent === 'Done.'")
    assert "20 of 20 photos checked, 20 with you" in page.locator("#counts").text_content()
    assert page.locator("#matches li").count() == 20
    assert page.locator("#resume").is_hidden()


@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)
def test_a_failed_search_is_not_a_dead_end(local: LocalFindMe, page: Page) -> None:
    # A FindMe without photo_faces cannot say beforehand that the photo holds no face.
    page.route("**/photo_faces.http*", lambda route: route.fulfill(status=404, json={"error": "x"}))
    start_search(page, local, "event/talk", local.photo_root / "refs" / "suit.jpg")
    page.wait_for_selector("#job-error:not([hidden])", timeout=60_000)
    assert page.locator("#state").text_content() == "The search failed."
    assert page.locator("#job-error").text_content().startswith("No face was found in your photo")
    # No progress bar, no "0 of 0 photos", nothing to continue: a new photo is needed.
    assert page.locator("#bar").is_hidden() and page.locator("#counts").is_hidden()
    assert page.locator("#resume").is_hidden() and page.locator("#cancel").is_hidden()
    assert page.locator("#new-search").is_visible()
    requests = status_requests(page)
    time.sleep(3)
    assert requests == []  # polling stopped
    assert page.locator("#download-zip").is_hidden()
    no_axe_violations(page, "failed")
    shot(page, f"{screen_of(page)}-5-failed")
    # With photo_faces, the page says so before anything is searched.
    page.unroute("**/photo_faces.http*")
    page.goto(f"{local.api_host}/")
    page.wait_for_selector('#folder option[value="event/talk"]', state="attached")
    registered = []
    page.on("request", lambda r: registered.append(r) if "register_search" in r.url else None)
    choose_photo(page, local.photo_root / "refs" / "suit.jpg")  # agreed once: remembered
    assert "No face was found in this photo" in page.locator("#reference-caption").text_content()
    page.click("#start")
    assert "No face was found in this photo" in page.locator("#error").text_content()
    assert not registered


def test_an_unknown_link_says_so_and_stops(local: LocalFindMe, page: Page) -> None:
    page.goto(f"{local.api_host}/?job={'0' * 32}")
    page.wait_for_selector("#flash:not([hidden])")
    assert "no longer exists" in page.locator("#flash").text_content()
    assert "7 days" in page.locator("#flash").text_content()  # this FindMe's keep period
    requests = status_requests(page)
    time.sleep(2.5)
    assert requests == []
    # No ended card with a moving bar and a link to nothing: the form, ready.
    assert page.locator("#progress").is_hidden() and page.locator("#job-link").is_hidden()
    assert page.locator("#search").is_visible() and f"job={'0' * 32}" not in page.url


def test_messages_are_in_a_persons_words(local: LocalFindMe, page: Page, tmp_path: Path) -> None:
    text = tmp_path / "me.png"
    text.write_bytes(b"not really a photo")
    page.goto(f"{local.api_host}/")
    page.wait_for_selector('#folder option[value="event/talk"]', state="attached")
    page.select_option("#folder", "event/talk")
    agree(page)
    page.set_input_files("#reference", str(text))
    page.click("#start")
    page.wait_for_selector("#error:not([hidden])")
    message = page.locator("#error").text_content()
    assert "reference_image" not in message and "photo" in message.lower()
    page.wait_for_selector("#start:not([disabled])")
    words = page.evaluate(
        "[FindMeWords.inWords('no X bearer token: set X_BEARER_TOKEN (locally) or the "
        "x_bearer_token package input'), FindMeWords.photoReason('truncated or corrupt image "
        "(image file is truncated (10 bytes not processed))')]"
    )
    assert "X_BEARER_TOKEN" not in words[0] and "Choose another place to look" in words[0]
    assert words[1] == "the file is damaged or incomplete"


def test_a_big_selfie_is_shrunk_before_it_is_sent(
    local: LocalFindMe, page: Page, tmp_path: Path
) -> None:
    big = tmp_path / "phone.jpg"
    photo = pv.photo("obama.jpg")
    big.write_bytes(pv.encoded(photo.resize((photo.width * 8, photo.height * 8)), quality=98))
    assert big.stat().st_size > 1_000_000
    bodies: list[int] = []
    page.on(
        "request",
        lambda r: (
            bodies.append(len(r.post_data_buffer or b"")) if "register_search" in r.url else None
        ),
    )
    start_search(page, local, "event/talk", big)
    wait_done(page)
    assert bodies and max(bodies) < 1_000_000
    print(f"selfie of {big.stat().st_size} bytes sent as a {max(bodies)}-byte request")
    assert page.locator("#matches li").count() == 3


def test_a_busy_platform_is_waited_out(local: LocalFindMe, page: Page) -> None:
    refused = {"count": 0}

    def throttle(route: Route) -> None:
        if refused["count"] < 2:
            refused["count"] += 1
            body = {
                "error": "Too many requests in the last minute (count: 61, allowed: 60).",
                "code": "x",
            }
            route.fulfill(status=429, body=json.dumps(body), content_type="application/json")
        else:
            route.continue_()

    page.route("**/search_status.http*", throttle)
    start_search(page, local, "event/talk", pv.PHOTOS / "obama.jpg")
    wait_done(page)
    assert refused["count"] == 2
    assert page.locator("#error").is_hidden()
    assert page.locator("#matches li").count() == 3


@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)
def test_another_api_origin_gets_nothing_until_the_person_confirms_it(
    local: LocalFindMe, page: Page
) -> None:
    other = "http://127.0.0.2:9/api/v1/web/guest/findme"
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda r: sent.append((r.url, r.headers.get("x-require-whisk-auth"))))
    page.goto(f"{local.api_host}/?secret=S3CRET")
    page.wait_for_selector("#search:not([hidden])")
    assert "S3CRET" not in page.url  # the secret is kept, not left in the link
    page.goto(f"{local.api_host}/?api={other}&job={'1' * 32}")
    page.wait_for_selector("#api-confirm:not([hidden])")
    assert "127.0.0.2:9" in page.locator("#api-origin").text_content()
    assert page.locator("#search").is_hidden()
    no_axe_violations(page, "confirm another server")
    assert not [url for url, _ in sent if url.startswith("http://127.0.0.2")]
    page.click("#api-trust")
    page.wait_for_function(
        "document.querySelector('#notice').textContent.includes('cannot be reached')"
    )
    to_other = [(url, secret) for url, secret in sent if url.startswith("http://127.0.0.2")]
    assert to_other and all(secret is None for _, secret in to_other)


@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)
def test_delete_asks_first_then_clears_the_search(local: LocalFindMe, page: Page) -> None:
    start_search(page, local, "event/talk", pv.PHOTOS / "obama.jpg")
    wait_done(page)
    job_id = re.search(r"job=([0-9a-f]+)", page.url).group(1)
    asked: list[str] = []

    def decline(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    from_menu(page, "#delete-search")
    assert asked and "cannot be undone" in asked[0]
    assert page.locator("#matches li").count() == 3  # said no: nothing changed
    page.once("dialog", lambda dialog: dialog.accept())
    from_menu(page, "#delete-search")
    page.wait_for_selector("#flash:not([hidden])")
    assert "deleted" in page.locator("#flash").text_content()
    assert page.locator("#progress").is_hidden() and page.locator("#results").is_hidden()
    assert job_id not in page.url
    assert job_id not in (page.locator("#history").inner_html() or "")
    assert page.locator("#search").is_visible()  # back to the form
    no_axe_violations(page, "deleted")
    page.goto(f"{local.api_host}/?job={job_id}")
    page.wait_for_selector("#flash:not([hidden])")
    assert "no longer exists" in page.locator("#flash").text_content()


def test_three_hundred_results_from_urls_stay_quick_and_zip_in_the_browser(
    local: LocalFindMe, page: Page
) -> None:
    """A deployment's search: photos are https URLs, so the page fetches and zips them."""
    jpeg = pv.encoded(pv.shrunk(pv.photo("obama2.jpg"), 300))
    box = [40, 200, 200, 40]
    matches = [
        {
            "photo": f"https://pbs.twimg.com/media/p{i:03}.jpg",
            "post_url": f"https://x.com/someone/status/{1000 + i}",
            "author": "someone",
            "distance": round(0.2 + 0.0012 * i, 4),
            "confidence": "strong" if i < 250 else "possible",
            "box": box,
            "faces": 1,
            "width": 300,
            "height": 300,
        }
        for i in range(320)
    ]
    pages = [matches[:200], matches[200:]]  # search_status as the lead pages it

    def status(route: Route) -> None:
        cursor = int(re.search(r"cursor=(\d+)", route.request.url).group(1))
        part = pages[cursor]
        body = {
            "job_id": "a" * 32,
            "state": "done",
            "query": "#pycon",
            "source": "twitter",
            "threshold": 0.6,
            "created": 1_790_000_000,
            "photos_total": 900,
            "photos_done": 900,
            "photos_failed": 0,
            "search_done": True,
            "matches": part,
            "failed": [],
            "next_cursor": "1" if cursor == 0 else None,
        }
        route.fulfill(status=200, body=json.dumps(body), content_type="application/json")

    page.route("**/search_status.http*", status)
    page.route(
        "https://pbs.twimg.com/**",
        lambda route: route.fulfill(
            status=200,
            body=jpeg,
            content_type="image/jpeg",
            headers={"Access-Control-Allow-Origin": "*"},
        ),
    )
    page.goto(f"{local.api_host}/?job={'a' * 32}")
    wait_done(page)
    assert page.locator("#matches li").count() == 60  # the rest a click away
    assert "Your photos (320)" in page.locator("#results-title").text_content()
    page.check("#strong-only")
    assert "250 shown of 320" in page.locator("#results-title").text_content()
    page.uncheck("#strong-only")
    no_axe_violations(page, "320 results")
    shot(page, "desktop-6-many")
    with page.expect_download(timeout=120_000) as download:
        page.click("#download-zip")
    archive = zipfile.ZipFile(Path(download.value.path()))
    assert len(archive.namelist()) == 320
    assert archive.read(archive.namelist()[0]) == jpeg
    assert "Saved 320 photos" in page.locator("#download-status").text_content()


def test_a_lost_connection_is_retried_and_its_notice_goes(local: LocalFindMe, page: Page) -> None:
    dropped = {"count": 0}

    def drop(route: Route) -> None:
        if dropped["count"] < 3:
            dropped["count"] += 1
            route.abort("connectionrefused")
        else:
            route.continue_()

    page.route("**/search_status.http*", drop)
    start_search(page, local, "event/talk", pv.PHOTOS / "obama.jpg")
    page.wait_for_function(
        "document.querySelector('#notice').textContent.includes('cannot be reached')"
    )
    wait_done(page)
    assert page.locator("#notice").is_hidden() and page.locator("#error").is_hidden()
    assert page.locator("#matches li").count() == 3


def test_photos_with_faces_too_small_are_said(local: LocalFindMe, page: Page) -> None:
    sports = local.photo_root / "sports"
    sports.mkdir(exist_ok=True)
    for name in ("messi5.jpg", "obama2.jpg"):  # a crowd far off in the first
        shutil.copyfile(pv.PHOTOS / name, sports / name)
    start_search(page, local, "sports", pv.PHOTOS / "obama.jpg")
    wait_done(page)
    assert page.locator("#matches li").count() == 1
    notice = page.locator("#notice").text_content()
    assert "1 photo holds faces too small to compare reliably" in notice, notice


def test_x_is_offered_only_where_it_is_set_up(local: LocalFindMe, page: Page) -> None:
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/sources.http" in r.url else None)
    page.goto(f"{local.api_host}/")
    page.wait_for_selector('#folder option[value="event/talk"]', state="attached")
    page.wait_for_selector("#start:not([disabled])")
    page.reload()  # the tab keeps the answer: no second invocation
    page.wait_for_function(
        "[...document.querySelectorAll('#folder option')].some((o) => o.text.includes('Mastodon'))"
    )
    assert len(asked) == 1, asked
    choices = page.locator("#folder option").all_text_contents()
    assert "Posts on X matching a search" not in choices  # no X token on this engine
    assert "Posts on Mastodon with a hashtag" in choices
    assert "X" not in page.locator("#handle-label").text_content()
    # Where only X's own photo host is allowed, no organiser's link could be used.
    assert "Photos at links you paste (from the organisers)" not in choices
    registered = []
    page.on("request", lambda r: registered.append(r) if "register_search" in r.url else None)
    page.select_option("#folder", "event/talk")
    agree(page)
    page.fill("#handle", "@someone")  # an X username all the same
    page.click("#start")
    message = page.locator("#error").text_content()
    assert "cannot use X profile pictures" in message and "@name@server" in message, message
    assert not registered  # said on the page, before anything is sent
    assert page.locator("#start").is_enabled()


def test_a_findme_from_before_the_sources_action_still_offers_x(
    local: LocalFindMe, page: Page
) -> None:
    page.route("**/sources.http*", lambda route: route.fulfill(status=404, json={"error": "x"}))
    page.goto(f"{local.api_host}/")
    page.wait_for_selector('#folder option[value="event/talk"]', state="attached")
    page.select_option("#folder", label="Posts on X matching a search")
    assert page.locator("#query").is_visible() and page.locator("#servers").is_hidden()
    assert page.locator("#handle-label").text_content() == "or your X username"


def test_a_mastodon_hashtag_is_searched_from_the_page(
    page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_client: object
) -> None:
    # A FindMe with no folders and no X: Mastodon (replayed here) and photo links.
    monkeypatch.setenv("FINDME_REPLAY", str(x_api.write_cassette(tmp_path, m.pycon_interactions())))
    monkeypatch.setenv("FINDME_URL_HOSTS", "photos.example.org/")  # an organiser's gallery
    with LocalFindMe(photo_root=None, compare_workers=1) as mastodon_local:
        page.goto(f"{mastodon_local.api_host}/")
        page.wait_for_selector("#servers-field:not([hidden])")
        choices = page.locator("#folder option").all_text_contents()
        assert choices == [
            "Posts on Mastodon with a hashtag",
            "Photos at links you paste (from the organisers)",
        ]
        assert page.locator("#urls-field").is_hidden()
        page.select_option("#folder", label=choices[1])  # each place asks only what it needs
        assert page.locator("#urls-field").is_visible() and page.locator("#query-field").is_hidden()
        assert page.locator("#servers-field").is_hidden()
        page.select_option("#folder", label=choices[0])
        assert page.locator("#query-label").text_content() == "Hashtags to look for"
        assert "@name@server on Mastodon" in page.locator("#handle-help").text_content()
        agree(page)
        choose_photo(page, pv.PHOTOS / "obama.jpg")
        page.fill("#query", "#pycon")
        page.click("#start")
        assert "Name the Mastodon servers" in page.locator("#error").text_content()
        page.fill("#servers", "mastodon.example/@x")
        page.click("#start")
        page.wait_for_function(
            "document.querySelector('#error').textContent.includes('is not a Mastodon server')"
        )
        page.fill("#servers", "mastodon.example, fosstodon.example locked.example")
        no_axe_violations(page, "mastodon form")
        sent = []
        page.on(
            "request",
            lambda r: sent.append(r.post_data_json) if "register_search" in r.url else None,
        )
        shot(page, "desktop-mastodon-form")
        page.click("#start")
        wait_done(page)
        links = page.locator("#matches a").evaluate_all("(all) => all.map((a) => a.href)")
        assert f"https://{m.SERVER}/@alice/109" in links, links
        assert "4 of 4 photos checked" in page.locator("#counts").text_content()
        assert len(sent) == 1 and sent[0]["reference_image"] and sent[0]["reference_face"]
        assert {k: v for k, v in sent[0].items() if not k.startswith("reference_")} == {
            "source": "mastodon",
            "threshold": 0.6,
            "query": "#pycon",
            "servers": "mastodon.example, fosstodon.example locked.example",
        }
        history = page.locator("#history-list").text_content()
        assert "#pycon on mastodon.example, fosstodon.example, locked.example" in history


# -- results first, consent, a camera, the face chosen, honest failures ----------

# Where every line of a card's file name breaks: only after / _ - . (not mid-word).
NAME_BREAKS = """(element) => {
  const breaks = [];
  let lastTop = null;
  let previous = "";
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i += 1) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const top = range.getBoundingClientRect().top;
      if (lastTop !== null && top > lastTop + 2) breaks.push(previous);
      lastTop = top;
      previous = node.data[i];
    }
  }
  return breaks;
}"""


def outside_their_cards(page: Page) -> list[str]:
    """Buttons of the cards shown that stick out of their card."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#matches li')].flatMap((card) => {
          const box = card.getBoundingClientRect();
          return [...card.querySelectorAll('button')].filter((b) => {
            const r = b.getBoundingClientRect();
            const out = r.left < box.left - 0.5 || r.right > box.right + 0.5;
            return out || r.bottom > box.bottom + 0.5;
          }).map((b) => b.getAttribute('aria-label') || b.textContent);
        })"""
    )


@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)
def test_results_come_first_and_fit_the_screen(local: LocalFindMe, page: Page) -> None:
    screen = screen_of(page)
    height = SCREENS[screen]["height"]
    folder = local.photo_root / "page-first"
    folder.mkdir(exist_ok=True)
    small = pv.encoded(pv.shrunk(pv.photo("obama2.jpg"), 420))
    for i in range(8):  # camera names: long, with no hyphen to break at
        (folder / f"IMG_20260512_1830{i:02}_keynote_hall.jpg").write_bytes(small)
    start_search(page, local, "page-first", pv.PHOTOS / "obama.jpg")
    wait_done(page)
    page.reload()  # as after a reload mid-search: the summary, not a reset form
    wait_done(page)
    page.wait_for_function(THUMBNAILS_LOADED)
    assert page.locator("#search").is_hidden()
    summary = page.locator("#summary").text_content()
    assert "Your photo" in summary and "Folder page-first" in summary and "0.60" in summary
    assert page.locator("#summary").bounding_box()["height"] < 90  # one line (two on a phone)
    # The progress and the first photos are on the first screen.
    assert page.locator("#progress").bounding_box()["y"] < height / 2
    first = page.locator("#matches li").first.bounding_box()
    assert first["y"] < height - 150, f"the first photo starts at {first['y']} px"
    # Nothing wider than the screen; the bar's actions fit a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["width"]
    assert page.locator("#bulk").bounding_box()["height"] < 130
    assert page.locator("#download-html").is_hidden()  # in the "More" menu
    page.click("#more-actions")
    assert page.locator("#download-html").is_visible()
    assert page.locator("#more-actions").get_attribute("aria-expanded") == "true"
    no_axe_violations(page, "more menu")
    page.keyboard.press("Escape")
    assert page.locator("#download-html").is_hidden()
    assert page.evaluate("document.activeElement.id") == "more-actions"
    # Selecting shows what to do with the selection.
    assert page.locator("#bulk-reject").is_hidden()
    page.locator("#matches li .pick").first.check()
    assert page.locator("#bulk-reject").is_visible()
    assert page.locator("#selected-count").text_content() == "1 selected"
    # Card buttons inside their cards; names broken after _ or . only.
    assert outside_their_cards(page) == []
    for name in page.locator("#matches li .name").all()[:4]:
        breaks = name.evaluate(NAME_BREAKS)
        assert all(c in "/_-." for c in breaks), (name.text_content(), breaks)
    no_axe_violations(page, "results first")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"page-{screen}-7-results-first.png"))
    # New search: the form again, the search still in this browser's list.
    page.click("#new-search")
    assert page.locator("#search").is_visible() and page.locator("#summary").is_hidden()
    assert "job=" not in page.url
    assert "page-first" in page.locator("#history-list").text_content()


def test_consent_comes_before_any_photo_and_is_remembered(local: LocalFindMe, page: Page) -> None:
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    page.goto(f"{local.api_host}/")
    page.wait_for_selector("#consent-agree:not([disabled])")
    consent = page.locator("#consent").text_content()
    # What is kept, for how long (this FindMe's own period), who sees it, how to delete it.
    assert "face data" in consent and "7 days" in consent
    assert "anyone with the link" in consent and "Delete this search" in consent
    assert page.locator("#reference").is_disabled() and page.locator("#handle").is_disabled()
    no_axe_violations(page, "consent")
    shot(page, "desktop-8-consent")
    page.click("#consent-agree")
    assert page.locator("#reference").is_enabled() and page.locator("#consent").is_hidden()
    assert "7 days" in page.locator("#consent-given").text_content()
    assert sent == []  # agreeing sends nothing
    page.reload()
    page.wait_for_selector("#consent-given:not([hidden])")
    assert page.locator("#consent").is_hidden() and page.locator("#reference").is_enabled()
    page.click("#consent-again")  # read again, without agreeing again
    assert page.locator("#consent").is_visible() and page.locator("#consent-agree").is_hidden()


def test_a_server_that_keeps_searches_longer_asks_again(local: LocalFindMe, page: Page) -> None:
    page.goto(f"{local.api_host}/")
    page.wait_for_selector("#consent-agree:not([disabled])")
    page.click("#consent-agree")
    answer = page.evaluate("FindMeApi.call('sources', {}, 'GET')")
    longer = {**answer, "keep_seconds": 30 * 86400}
    page.evaluate("sessionStorage.clear()")
    page.route("**/sources.http*", lambda route: route.fulfill(status=200, json=longer))
    page.reload()
    page.wait_for_selector("#consent-agree:not([disabled])")
    assert "30 days" in page.locator("#consent").text_content()
    assert page.locator("#consent-agree").is_visible() and page.locator("#reference").is_disabled()


@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)
def test_a_selfie_from_the_front_camera(local: LocalFindMe, page: Page) -> None:
    page.goto(f"{local.api_host}/")
    page.wait_for_selector('#folder option[value="event/talk"]', state="attached")
    agree(page)
    selfie = page.locator("#selfie")
    assert selfie.get_attribute("capture") == "user" and selfie.get_attribute("accept") == "image/*"
    if screen_of(page) == "desktop":
        assert page.locator("#take-selfie").is_hidden()  # no camera to hold up
        return
    assert page.locator("#take-selfie").is_visible()
    with page.expect_file_chooser() as chooser:
        page.click("#take-selfie")
    chooser.value.set_files(str(pv.PHOTOS / "obama.jpg"))  # what the camera took
    page.wait_for_selector("#reference-faces .face-choice.used")
    assert page.locator("#reference-faces .face-choice").count() == 1
    assert "outlined in yellow" in page.locator("#reference-caption").text_content()
    page.select_option("#folder", "event/talk")
    page.click("#start")
    wait_done(page)
    assert page.locator("#matches li").count() == 3


@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)
def test_the_face_used_is_outlined_and_another_can_be_chosen(
    local: LocalFindMe, page: Page, tmp_path: Path
) -> None:
    group = tmp_path / "us.jpg"  # Biden (the larger face), then Obama, the speaker
    group.write_bytes(pv.encoded(pv.group(pv.photo("biden.jpg"), pv.photo("obama3.jpg"))))
    sent = []
    page.on(
        "request", lambda r: sent.append(r.post_data_json) if "register_search" in r.url else None
    )
    page.goto(f"{local.api_host}/")
    page.wait_for_selector('#folder option[value="event/talk"]', state="attached")
    page.select_option("#folder", "event/talk")
    agree(page)
    choose_photo(page, group)
    faces = page.locator("#reference-faces .face-choice")
    assert faces.count() == 2
    assert faces.nth(0).get_attribute("aria-pressed") == "true"  # the largest, as before
    assert "face 1 of 2" in page.locator("#reference-caption").text_content()
    # The outlines are on the photo, each around a face.
    image = page.locator("#reference-image").bounding_box()
    for i in range(2):
        box = faces.nth(i).bounding_box()
        assert image["x"] <= box["x"] and box["x"] + box["width"] <= image["x"] + image["width"] + 1
        assert 10 < box["width"] < image["width"] / 2
    faces.nth(1).click()
    assert faces.nth(1).get_attribute("aria-pressed") == "true"
    assert faces.nth(0).get_attribute("aria-pressed") == "false"
    assert "face 2 of 2" in page.locator("#reference-caption").text_content()
    no_axe_violations(page, "choose a face")
    shot(page, f"{screen_of(page)}-9-choose-face")
    page.click("#start")
    wait_done(page)
    # The speaker's three photos: the face chosen was searched for, not the largest.
    assert (
        sorted(page.locator("#matches li").evaluate_all("e => e.map(l => l.dataset.photo)")) == TALK
    )
    assert len(sent) == 1 and len(sent[0]["reference_face"]) == 4


def fake_status(**fields: object) -> dict:
    """A search_status answer for a search this test decides the fate of."""
    return {
        "job_id": "b" * 32,
        "state": "done",
        "query": "#pycon",
        "source": "mastodon",
        "threshold": 0.6,
        "created": 1_790_000_000,
        "photos_total": 0,
        "photos_done": 0,
        "photos_failed": 0,
        "search_done": True,
        "matches": [],
        "failed": [],
        "next_cursor": None,
        **fields,
    }


@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)
def test_failures_are_said_once_in_a_persons_words(local: LocalFindMe, page: Page) -> None:
    answer = {"status": fake_status()}
    page.route(
        "**/search_status.http*",
        lambda route: route.fulfill(status=200, json=answer["status"]),
    )
    answer["status"] = fake_status(
        state="failed",
        search_done=False,
        error="the search stopped: No Mastodon server could be searched: "
        "mastodon.social could not be reached (ConnectTimeout)",
    )
    page.goto(f"{local.api_host}/?job={'b' * 32}")
    page.wait_for_selector("#job-error:not([hidden])")
    assert page.locator("#state").text_content() == "The search stopped before it finished."
    reason = page.locator("#job-error").text_content()
    assert reason.startswith("No Mastodon server could be searched: mastodon.social could not")
    assert "The search stopped" not in reason and "failed" not in reason
    assert page.locator("#bar").is_hidden() and page.locator("#counts").is_hidden()
    assert "#pycon on Mastodon" in page.locator("#summary").text_content()
    no_axe_violations(page, "failed part-way")
    shot(page, f"{screen_of(page)}-10-source-failed")
    # Every photo listed, none could be downloaded: said, with why.
    failed = [
        {"photo": f"https://photos.example.org/p{i}.jpg", "reason": "download failed (HTTP 404)"}
        for i in range(3)
    ]
    answer["status"] = fake_status(photos_total=3, photos_done=3, photos_failed=3, failed=failed)
    page.reload()
    page.wait_for_function(
        "document.querySelector('#state').textContent.startsWith('Done, but none')"
    )
    assert page.locator("#counts").text_content() == "None of the 3 photos could be read."
    notice = page.locator("#notice").text_content()
    assert "3 photos: it could not be downloaded (the site answered 404: no such photo)" in notice
    assert page.locator("#failed-photos").get_attribute("open") is not None
    no_axe_violations(page, "no photo could be read")


def test_a_list_of_links_too_long_to_send_is_said_before_it_is_sent(
    page: Page, monkeypatch: pytest.MonkeyPatch, redis_client: object
) -> None:
    """OpenWhisk refuses a request over 1 MB (413): a selfie and 10,000 links are
    said to be too many, with how many fit, and nothing is sent."""
    monkeypatch.setenv("FINDME_URL_HOSTS", "photos.example.org/")
    with LocalFindMe(photo_root=None, compare_workers=1) as links_local:
        page.goto(f"{links_local.api_host}/")
        page.wait_for_selector("#servers-field:not([hidden])")  # the places offered are in
        page.select_option("#folder", label="Photos at links you paste (from the organisers)")
        page.wait_for_selector("#urls-field:not([hidden])")
        agree(page)
        choose_photo(page, pv.PHOTOS / "obama.jpg")
        links = "\n".join(
            f"https://photos.example.org/pycon-2026/day-2/hall-b/ada-lovelace/originals/photo-{i:05d}.jpg"
            for i in range(10_000)
        )
        # Pasted at once (typing 700 KB would take minutes).
        page.locator("#urls").evaluate(
            "(area, text) => { area.value = text; area.dispatchEvent(new Event('input')); }", links
        )
        sent = []
        page.on("request", lambda r: sent.append(r.url) if "register_search" in r.url else None)
        page.click("#start")
        page.wait_for_function("document.querySelector('#error').textContent.includes('shorten')")
        words = page.locator("#error").text_content()
        assert "too long to send with your photo" in words and "links" in words
        fit = int(re.search(r"about ([\d,]+) links", words).group(1).replace(",", ""))
        assert 3_000 < fit < 10_000
        assert sent == []
