"""The page's side of events, in a real headless Chromium (Debian's) driven by
Playwright, as an organiser and their guests use it: the organiser makes an event and
its QR code (read back with jsQR), a guest opens its link and searches with a photo,
a takedown and a deletion reach the guest's results, and a photo added to a live
event reaches a page left open. axe-core checks every state shown."""

from __future__ import annotations

import base64
import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import redis
from playwright.sync_api import Browser, Page, Request, Route

from findme.local.runner import LocalFindMe
from findme.state import keys
from tests import photo_variants as pv
from tests import test_page as pages
from tests.conftest import BUSY_CLUSTER, suite_redis

browser = pages.browser  # one Chromium for the module
page = pages.page  # a fresh context, at desktop or phone size (parametrized "page")
agree, choose_photo, no_axe_violations = pages.agree, pages.choose_photo, pages.no_axe_violations
shot, screen_of, wait_done = pages.shot, pages.screen_of, pages.wait_done

JSQR = Path(__file__).resolve().parent / "js" / "node_modules" / "jsqr" / "dist" / "jsQR.js"
TALK = sorted(pages.TALK)

pytestmark = pages.pytestmark


@pytest.fixture(scope="module")
def local(busy_local: LocalFindMe) -> LocalFindMe:
    """An engine with raised invocation limits (tests/conftest.py, BUSY_CLUSTER), as
    the page tests use."""
    return busy_local


def web(engine: LocalFindMe, action: str) -> str:
    return f"{engine.api_host}/api/v1/web/guest/findme/{action}.http"


def talk_copy(engine: LocalFindMe, name: str) -> str:
    """A folder of this test's own: the talk's three photos of the speaker."""
    shutil.copytree(engine.photo_root / "event" / "talk", engine.photo_root / name)
    return name


def create_event(engine: LocalFindMe, **params: object) -> dict:
    answer = httpx.post(web(engine, "create_event"), json=params, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def matches_in_redis(job_id: str) -> set[str]:
    jobs = suite_redis()
    return {p.decode() for p in jobs.hkeys(keys.matches_key(job_id))}


def wait_for_matches(job_id: str, wanted: set[str], timeout: float = 180) -> None:
    """Waits in Redis (no invocations) until the search's matches are `wanted`: long
    enough for a reading whose fire went past a spent minute (the sweep fires it)."""
    deadline = time.monotonic() + timeout
    while matches_in_redis(job_id) != wanted:
        assert time.monotonic() < deadline, f"matches stayed {matches_in_redis(job_id)}"
        time.sleep(0.2)


def photos_shown(page: Page) -> list[str]:
    return sorted(page.locator("#matches li").evaluate_all("e => e.map(l => l.dataset.photo)"))


def wait_text(page: Page, selector: str, text: str, timeout: float = 30_000) -> None:
    """Waits until the element's text holds `text`."""
    try:
        page.wait_for_function(
            "([selector, text]) => document.querySelector(selector).textContent.includes(text)",
            arg=[selector, text],
            timeout=timeout,
        )
    except Exception:
        said = page.locator(selector).text_content()
        raise AssertionError(f"{selector} says {said!r}, not {text!r}") from None


def wait_ready(page: Page, photos: int) -> None:
    """Waits until the attendee's card says the event's photos are ready."""
    wait_text(page, "#event-progress", f"{photos} photos ready to search", 120_000)


def search_as_guest(page: Page, link: str, photos: int) -> None:
    page.goto(link)
    wait_ready(page, photos)
    agree(page)
    choose_photo(page, pv.PHOTOS / "obama.jpg")
    page.click("#start")
    wait_done(page)


def read_qr(page: Page) -> str | None:
    """The text of the QR code as it is drawn on the screen, read by jsQR."""
    png = base64.b64encode(page.locator("#qr").screenshot()).decode()
    if not page.evaluate("typeof jsQR !== 'undefined'"):
        page.add_script_tag(path=str(JSQR))
    return page.evaluate(
        """async (png) => {
          const shown = await fetch(`data:image/png;base64,${png}`);
          const bitmap = await createImageBitmap(await shown.blob());
          const canvas = document.createElement('canvas');
          canvas.width = bitmap.width;
          canvas.height = bitmap.height;
          const context = canvas.getContext('2d');
          context.drawImage(bitmap, 0, 0);
          const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
          return jsQR(pixels.data, canvas.width, canvas.height)?.data ?? null;
        }""",
        png,
    )


@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)
def test_a_guest_opens_the_event_link_and_gives_only_a_photo(
    local: LocalFindMe, page: Page
) -> None:
    screen = screen_of(page)
    event = create_event(local, folder=talk_copy(local, f"guests-{screen}"), name="PyCon keynote")
    sent: list[dict] = []
    page.on(
        "request",
        lambda r: sent.append(r.post_data_json) if "register_search" in r.url else None,
    )
    page.goto(f"{local.api_host}/?event={event['event_id']}")
    wait_ready(page, 3)
    assert page.locator("#event-name").text_content() == "PyCon keynote"
    assert "PyCon keynote" in page.title()
    # Only a photo is asked for: no place to look, no username, no threshold.
    for field in ("#place", "#handle-field", "#threshold-field", "#to-organise"):
        assert page.locator(field).is_hidden(), field
    assert page.locator("#consent").is_visible()  # consent as usual
    no_axe_violations(page, "event link")
    shot(page, f"{screen}-event-1-link")
    agree(page)
    choose_photo(page, pv.PHOTOS / "obama.jpg")
    page.click("#start")
    wait_done(page)
    assert photos_shown(page) == TALK
    assert "3 of 3 photos checked, 3 with you" in page.locator("#counts").text_content()
    summary = page.locator("#summary").text_content()
    assert "Your photo" in summary and "PyCon keynote" in summary
    assert page.locator("#summary").bounding_box()["height"] < 90  # still one line (two on a phone)
    assert page.locator("#live").is_hidden()  # not live: nothing more will come
    assert len(sent) == 1 and sent[0]["event_id"] == event["event_id"]
    assert not {"source", "folder", "query", "handle"} & set(sent[0])
    no_axe_violations(page, "event search done")
    shot(page, f"{screen}-event-2-done")
    # A reload (the link to the search) names the event too, from the search's status.
    page.evaluate("localStorage.removeItem('findme:searches')")
    page.reload()
    wait_done(page)
    assert "PyCon keynote" in page.locator("#summary").text_content()
    # New search: the event's form again, not the whole one.
    page.click("#new-search")
    assert f"event={event['event_id']}" in page.url
    assert page.locator("#event-card").is_visible() and page.locator("#place").is_hidden()


def test_a_link_to_an_event_that_is_gone_says_so(local: LocalFindMe, page: Page) -> None:
    page.goto(f"{local.api_host}/?event={'0' * 32}")
    page.wait_for_selector("#flash:not([hidden])")
    assert "This event no longer exists" in page.locator("#flash").text_content()
    assert page.locator("#event-card").is_hidden() and page.locator("#place").is_visible()
    assert "event=" not in page.url


@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)
def test_an_organiser_makes_an_event_shares_it_takes_a_photo_down_and_deletes_it(
    local: LocalFindMe, page: Page, browser: Browser
) -> None:
    screen = screen_of(page)
    folder = talk_copy(local, f"organised-{screen}")
    page.goto(f"{local.api_host}/")
    page.wait_for_selector("#start:not([disabled])")
    page.click("#to-organise-link")
    page.wait_for_selector(f'#folder option[value="{folder}"]', state="attached")
    assert page.locator("#search").is_hidden() and page.locator("#event-form").is_visible()
    terms = page.locator("#event-form .consent").text_content()
    assert "Your guests" in terms and "owner key" in terms and "30 days" in terms
    assert page.locator("#retention-days").get_attribute("max") == "30"
    no_axe_violations(page, "organiser's form")
    shot(page, f"{screen}-organise-1-form")
    page.select_option("#folder", folder)
    page.fill("#event-title", "Team offsite")
    page.fill("#live-hours", "99")
    page.click("#create-event")
    assert "0 to 72 hours" in page.locator("#event-error").text_content()
    page.fill("#live-hours", "0")
    page.fill("#retention-days", "5")
    assert "5 days" in page.locator("#event-form .consent").text_content()
    page.click("#create-event")
    page.wait_for_selector("#event-admin:not([hidden])")

    # The owner key, once, with a warning; the link and its QR code.
    key = page.locator("#owner-key").text_content()
    assert len(key) >= 32 and "only now" in page.locator("#owner-key-box").text_content()
    link = page.locator("#attendee-link").input_value()
    event_id = re.search(r"[?&]event=([0-9a-f]{32})$", link).group(1)
    assert link.startswith(f"{local.api_host}/?")
    assert read_qr(page) == link  # what a phone's camera reads
    kept = page.evaluate("JSON.parse(localStorage.getItem('findme:events'))")
    assert kept[0]["event_id"] == event_id and kept[0]["owner_key"] == key
    wait_text(page, "#admin-progress", "3 photos found, 3 indexed", 120_000)
    assert "faces found are kept for 5 days" in page.locator("#admin-progress").text_content()
    no_axe_violations(page, "organiser's event")
    shot(page, f"{screen}-organise-2-event")
    # Printing prints the poster: the name, the QR code, the link.
    page.emulate_media(media="print")
    assert page.locator("#qr").is_visible() and page.locator("#poster-name").is_visible()
    assert page.locator("#takedown-form").is_hidden()
    assert page.locator("#admin-progress").is_hidden()
    shot(page, f"{screen}-organise-3-print")
    page.emulate_media(media="screen")
    page.click("#key-kept")
    assert page.locator("#owner-key-box").is_hidden()
    page.reload()  # the key is not shown again; this browser still has it
    page.wait_for_selector("#takedown-form:not([hidden])")
    assert page.locator("#owner-key-box").is_hidden()
    assert "Team offsite" in page.locator("#my-events-list").text_content()

    guest = browser.new_context(viewport=page.viewport_size).new_page()
    search_as_guest(guest, link, 3)
    assert photos_shown(guest) == TALK

    page.fill("#takedown-photo", "nope.jpg")
    page.click("#takedown-form button")
    wait_text(page, "#admin-message", "nope.jpg")
    assert "No photo called nope.jpg was indexed" in page.locator("#admin-message").text_content()
    page.fill("#takedown-photo", "obama2.jpg")
    page.click("#takedown-form button")
    wait_text(page, "#admin-message", "obama2.jpg is taken down")
    assert "the results of 1 search" in page.locator("#admin-message").text_content()
    guest.reload()
    wait_done(guest)
    assert photos_shown(guest) == ["obama3-grey.png", "stage-rotated.jpg"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-event")
    page.wait_for_selector("#flash:not([hidden])")
    assert "“Team offsite” was deleted" in page.locator("#flash").text_content()
    assert "1 guest search lost their results" in page.locator("#flash").text_content()
    assert page.locator("#event-form").is_visible() and "event=" not in page.url
    assert page.evaluate("localStorage.getItem('findme:events')") == "[]"
    no_axe_violations(page, "event deleted")
    guest.reload()
    guest.wait_for_selector("#job-error:not([hidden])")
    assert "organiser deleted this event" in guest.locator("#job-error").text_content()
    assert guest.locator("#matches li").count() == 0
    guest.context.close()


def test_another_browser_manages_the_event_with_its_owner_key(
    local: LocalFindMe, page: Page
) -> None:
    event = create_event(local, folder=talk_copy(local, "managed"), name="Board meeting")
    page.goto(f"{local.api_host}/?organise&event={event['event_id']}")
    page.wait_for_selector("#owner-key-form:not([hidden])")
    assert page.locator("#admin-title").text_content() == "Board meeting"
    assert page.locator("#takedown-form").is_hidden() and page.locator("#delete-event").is_hidden()
    page.fill("#owner-key-input", "x" * 32)
    page.click("#owner-key-form button")
    page.fill("#takedown-photo", "obama2.jpg")
    page.click("#takedown-form button")
    wait_text(page, "#admin-message", "not this event")
    assert "That owner key is not this event's" in page.locator("#admin-message").text_content()


@pytest.fixture()
def live_local(
    redis_client: redis.Redis, photo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalFindMe]:
    """An engine whose alarms feed ticks every second and whose live events are read
    again every 10 s (tests/test_events.py's live_local), with the page tests' raised
    invocation limits: the sweep alone fires 60 times a minute."""
    monkeypatch.setenv("FINDME_EVENT_REREAD_SECONDS", "10")
    with LocalFindMe(
        photo_root=photo_root, compare_workers=1, feed_interval_seconds=1, limits=BUSY_CLUSTER
    ) as live:
        yield live


def test_a_new_photo_of_a_live_event_reaches_an_open_page(
    live_local: LocalFindMe, page: Page
) -> None:
    gallery = live_local.photo_root / "live-page"
    gallery.mkdir()
    (gallery / "first.jpg").write_bytes(pv.encoded(pv.shrunk(pv.photo("obama2.jpg"), 800)))
    (gallery / "biden.jpg").write_bytes(pv.encoded(pv.shrunk(pv.photo("biden.jpg"), 800)))
    event = create_event(live_local, folder="live-page", name="Live party", live_hours=1)
    polls: list[str] = []

    def count_polls(request: Request) -> None:
        # The owner's browser reads its search with its key, in a POST body.
        asked = request.url
        if request.post_data:
            asked += "?" + urlencode(json.loads(request.post_data))
        if "search_status" in request.url and "since=" in asked:
            polls.append(asked)

    page.on("request", count_polls)
    page.clock.install()  # time flows; the test moves it on to the page's next look
    search_as_guest(page, f"{live_local.api_host}/?event={event['event_id']}", 2)
    assert photos_shown(page) == ["first.jpg"]
    job_id = re.search(r"job=([0-9a-f]{32})", page.url).group(1)
    assert "live until" in page.locator("#live-text").text_content()
    feed = page.locator("#feed-link")
    assert feed.is_visible() and feed.text_content() == "Follow in a feed reader"
    assert feed.get_attribute("href").endswith(f"/search_feed.http?job_id={job_id}")
    no_axe_violations(page, "live search")

    (gallery / "later.jpg").write_bytes(pv.encoded(pv.shrunk(pv.photo("obama3.jpg"), 800)))
    wait_for_matches(job_id, {"first.jpg", "later.jpg"})
    page.clock.fast_forward(30_000)  # the page's next look, 30 s on
    wait_text(page, "#live-new", "1 new photo of you.")
    assert photos_shown(page) == ["first.jpg", "later.jpg"]
    assert page.locator('#matches li[data-photo="later.jpg"] .badge.new').is_visible()
    assert page.locator('#matches li[data-photo="first.jpg"] .badge.new').count() == 0
    assert "1 new photo of you" in page.locator("#announce").text_content()
    assert "3 of 3 photos checked, 2 with you" in page.locator("#counts").text_content()
    no_axe_violations(page, "a new photo")
    shot(page, "desktop-event-3-new-photo")
    page.set_viewport_size(pages.SCREENS["phone"])
    no_axe_violations(page, "a new photo, on a phone")
    shot(page, "phone-event-3-new-photo")
    # Each look asks only for what is new since the server's last answer.
    assert polls and all(re.search(r"since=\d+(\.\d+)?(&|$)", url) for url in polls)
    since = float(re.search(r"since=([\d.]+)", polls[-1]).group(1))
    assert abs(since - time.time()) < 120
    feed_text = httpx.get(feed.get_attribute("href"), timeout=10).text
    assert "later.jpg" in feed_text and "first.jpg" in feed_text

    # FindMe busy: each refused look doubles the wait (30 s, then 60 s).
    refused: list[str] = []

    def busy(route: Route) -> None:
        refused.append(route.request.url)
        route.fulfill(status=429, body=json.dumps({"error": "Too many requests"}))

    page.route("**/search_status.http*", busy)
    page.clock.fast_forward(30_000)
    wait_text(page, "#notice", "FindMe is busy: it looks for new photos of you again in 1 minute.")
    page.clock.fast_forward(30_000)  # not yet
    page.clock.fast_forward(30_000)
    wait_text(page, "#notice", "again in 2 minutes.")
    assert len(refused) == 2  # at 30 s and 90 s, none at 60 s
    page.unroute("**/search_status.http*")

    # A photo taken down leaves the open page at its next look.
    answer = httpx.post(
        web(live_local, "takedown_photo"),
        json={"event_id": event["event_id"], "owner_key": event["owner_key"], "photo": "first.jpg"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    page.clock.fast_forward(120_000)
    page.wait_for_function("document.querySelectorAll('#matches li').length === 1")
    assert photos_shown(page) == ["later.jpg"]
