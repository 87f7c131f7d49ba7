"""Events: an organiser's gallery indexed once; each person's search is a comparison
with the index (nothing listed, downloaded or detected); photos added later reach
the searches that follow the event; takedowns and deletion remove everything."""

from __future__ import annotations

import base64
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
import redis

from findme.client import OpenWhiskClient
from findme.local.runner import LocalFindMe
from findme.stages.feed import ATOM
from findme.state import keys
from findme.state.base import RedisClient
from tests import mastodon_api as m
from tests import photo_variants as pv
from tests import x_api
from tests.conftest import BROKEN, make_event_folder, suite_redis, wait_for_job

OBAMA = base64.b64encode((pv.PHOTOS / "obama.jpg").read_bytes()).decode()
BIDEN = base64.b64encode(pv.encoded(pv.shrunk(pv.photo("biden.jpg"), 800))).decode()


def create_event(client: OpenWhiskClient, **params: object) -> dict:
    code, result = client.invoke("create_event", params)
    assert code == 200, result
    return result


def event_status(client: OpenWhiskClient, event_id: str) -> dict:
    code, result = client.invoke("event_status", {"event_id": event_id})
    assert code == 200, result
    return result


def wait_for_event(event_id: str, timeout: float = 120) -> None:
    """Waits on the event's state in Redis (no invocations: the engine counts them)."""
    jobs = suite_redis()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if jobs.hget(keys.job_key(event_id), "state") in (b"done", b"failed"):
            return
        time.sleep(0.1)
    raise AssertionError(f"event {event_id} was not indexed in {timeout}s")


def search(client: OpenWhiskClient, event_id: str, reference: str = OBAMA) -> str:
    code, result = client.invoke(
        "register_search", {"event_id": event_id, "reference_image": reference}
    )
    assert code == 200, result
    return result["job_id"]


def test_an_event_is_indexed_once_and_searched_by_several_people(
    client: OpenWhiskClient, tmp_path: Path
) -> None:
    expected = make_event_folder(tmp_path / "unused")  # the layout of photo_root/event
    event = create_event(client, folder="event", name="Conference hall")
    assert event["name"] == "Conference hall" and len(event["owner_key"]) >= 32
    wait_for_event(event["event_id"])
    status = event_status(client, event["event_id"])
    assert status["state"] == "done"
    assert status["photos_listed"] == len(expected) + len(BROKEN)
    assert status["photos_failed"] == len(BROKEN)
    assert status["photos_indexed"] == len(expected)
    assert status["photos_with_faces"] == len(expected) - 1  # the suit has no face
    assert status["faces"] >= status["photos_with_faces"]
    assert {f["photo"] for f in status["failed"]} == set(BROKEN)
    assert "owner_key" not in str(status) and event["owner_key"] not in str(status)

    obama = wait_for_job(client, search(client, event["event_id"]))
    assert obama["state"] == "done", obama
    assert {m["photo"] for m in obama["matches"]} == {p for p, has in expected.items() if has}
    assert obama["event"]["name"] == "Conference hall"
    assert obama["photos_total"] == status["photos_listed"]
    assert obama["photos_done"] == obama["photos_total"]
    group = next(m for m in obama["matches"] if m["photo"] == "hall/group.jpg")
    assert group["faces"] == 2 and group["box"][3] > group["width"] / 2  # the right-hand face

    biden = wait_for_job(client, search(client, event["event_id"], BIDEN))
    assert {m["photo"] for m in biden["matches"]} == {
        "hall/group.jpg",
        "hall/biden.jpg",
        "hall/biden-palette.png",
    }


def test_the_search_of_an_event_reads_no_photo(
    local: LocalFindMe, client: OpenWhiskClient, photo_root: Path, tmp_path: Path
) -> None:
    """Once indexed, the photos can go: a person's search compares with the index."""
    gallery = photo_root / "moved-gallery"
    shutil.copytree(photo_root / "event" / "talk", gallery)
    event = create_event(client, folder="moved-gallery")
    wait_for_event(event["event_id"])
    shutil.rmtree(gallery)  # any listing or read would now fail
    status = wait_for_job(client, search(client, event["event_id"]))
    assert status["state"] == "done"
    assert len(status["matches"]) == 3
    assert status["photos_failed"] == 0


def test_only_the_owner_takes_photos_down_and_they_leave_every_result(
    client: OpenWhiskClient,
) -> None:
    event = create_event(client, folder="event/talk")
    wait_for_event(event["event_id"])
    first = wait_for_job(client, search(client, event["event_id"]))
    assert "talk/obama2.jpg" not in {m["photo"] for m in first["matches"]}  # folder-relative
    assert "obama2.jpg" in {m["photo"] for m in first["matches"]}

    params = {"event_id": event["event_id"], "photo": "obama2.jpg"}
    code, refused = client.invoke("takedown_photo", params)
    assert (code, refused["statusCode"]) == (502, 403)
    assert refused["error"] == "only the owner of this event can do that: give its owner_key"
    code, refused = client.invoke("takedown_photo", {**params, "owner_key": "x" * 32})
    assert (code, refused["statusCode"]) == (502, 403)
    assert refused["error"] == "that is not this event's owner key"

    code, done = client.invoke("takedown_photo", {**params, "owner_key": event["owner_key"]})
    assert code == 200 and done["removed_from_searches"] == 1, done
    _, again = client.invoke("search_status", {"job_id": first["job_id"]})
    assert "obama2.jpg" not in {m["photo"] for m in again["matches"]}
    later = wait_for_job(client, search(client, event["event_id"]))
    assert {m["photo"] for m in later["matches"]} == {"obama3-grey.png", "stage-rotated.jpg"}
    assert event_status(client, event["event_id"])["photos_taken_down"] == 1


def cached_faces(client: RedisClient, digest: str) -> list[bytes]:
    """The face cache's entries of one photo content (a SCAN: every node of a cluster)."""
    return list(client.scan_iter(match=f"findme:photo:*:{digest}"))


def test_deleting_an_event_leaves_no_key_and_empties_its_searches(
    client: OpenWhiskClient, redis_client: redis.Redis
) -> None:
    event = create_event(client, folder="event/talk")
    wait_for_event(event["event_id"])
    job_id = search(client, event["event_id"])
    assert wait_for_job(client, job_id)["matches"]
    assert list(redis_client.scan_iter(match=f"findme:job:{{{event['event_id']}}}*"))
    indexed = redis_client.hvals(keys.index_key(event["event_id"]))
    digests = [json.loads(meta)["digest"] for meta in indexed]
    assert len(digests) == 3 and all(cached_faces(redis_client, d) for d in digests)

    code, refused = client.invoke("delete_event", {"event_id": event["event_id"]})
    assert (code, refused["statusCode"]) == (502, 403)
    code, deleted = client.invoke(
        "delete_event", {"event_id": event["event_id"], "owner_key": event["owner_key"]}
    )
    assert code == 200 and deleted["searches_emptied"] == 1
    assert not list(redis_client.scan_iter(match=f"*{event['event_id']}*"))
    # The faces found in its photos are gone from the face cache too.
    assert not any(cached_faces(redis_client, d) for d in digests)
    _, status = client.invoke("search_status", {"job_id": job_id})
    assert status["state"] == "failed" and status["matches"] == []
    assert "organiser deleted this event" in status["error"]
    code, gone = client.invoke("event_status", {"event_id": event["event_id"]})
    assert (code, gone["statusCode"]) == (502, 404) and "no event" in gone["error"]


def test_a_search_of_an_unknown_event_is_refused_in_words(client: OpenWhiskClient) -> None:
    code, result = client.invoke(
        "register_search", {"event_id": "0" * 32, "reference_image": OBAMA}
    )
    assert (code, result["statusCode"]) == (502, 404)
    assert result["error"].startswith("no event 0000")
    code, result = client.invoke("register_search", {"event_id": "x", "reference_image": OBAMA})
    assert (code, result["statusCode"]) == (502, 400)
    assert result["error"] == "event_id is not a FindMe event id"


def wait_for_matches(job_id: str, wanted: set[str], timeout: float = 90) -> None:
    """Waits until the search's matches are exactly `wanted` (read in Redis)."""
    jobs = suite_redis()
    deadline = time.monotonic() + timeout
    found: set[str] = set()
    while time.monotonic() < deadline:
        found = {p.decode() for p in jobs.hkeys(keys.matches_key(job_id))}
        if found == wanted:
            return
        time.sleep(0.2)
    raise AssertionError(f"the search's matches stayed {found}, not {wanted}")


def feed_entries(api_host: str, job_id: str) -> list[str]:
    """The ids of a search's Atom feed entries, as a feed reader reads them."""
    answer = httpx.get(f"{api_host}/api/v1/web/guest/findme/search_feed.http?job_id={job_id}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = ElementTree.fromstring(answer.text)
    return [e.findtext(f"{{{ATOM}}}id") for e in feed.iter(f"{{{ATOM}}}entry")]


@pytest.fixture()
def live_local(
    redis_client: redis.Redis, photo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalFindMe]:
    """An engine whose alarms feed ticks every second and whose live events are read
    again at every sweep, as an operator who wants new photos found at once would set."""
    monkeypatch.setenv("FINDME_EVENT_REREAD_SECONDS", "10")
    with LocalFindMe(photo_root=photo_root, compare_workers=1, feed_interval_seconds=1) as live:
        yield live


def live_gallery(photo_root: Path, name: str) -> Path:
    """A folder of a live event: a photo of Obama (first.jpg) and one of Biden."""
    gallery = photo_root / name
    gallery.mkdir()
    (gallery / "first.jpg").write_bytes(pv.encoded(pv.shrunk(pv.photo("obama2.jpg"), 800)))
    (gallery / "biden.jpg").write_bytes(pv.encoded(pv.shrunk(pv.photo("biden.jpg"), 800)))
    return gallery


def test_a_live_event_finds_photos_posted_later_and_forgets_removed_ones(
    live_local: LocalFindMe, photo_root: Path
) -> None:
    gallery = live_gallery(photo_root, "live-gallery")
    client = OpenWhiskClient(live_local.api_host, live_local.auth)
    event = create_event(client, folder="live-gallery", live_hours=2)
    assert event["live_until"] > time.time() + 7000
    wait_for_event(event["event_id"])
    job_id = search(client, event["event_id"])
    assert {m["photo"] for m in wait_for_job(client, job_id)["matches"]} == {"first.jpg"}
    looked = time.time()

    (gallery / "later.jpg").write_bytes(pv.encoded(pv.shrunk(pv.photo("obama3.jpg"), 800)))
    wait_for_matches(job_id, {"first.jpg", "later.jpg"})
    _, status = client.invoke("search_status", {"job_id": job_id, "since": looked})
    assert status["state"] == "done" and status["matches_new"] == 1
    assert status["event"]["live_until"] == pytest.approx(event["live_until"])
    assert feed_entries(live_local.api_host, job_id) == [
        f"urn:findme:search:{job_id}:later.jpg",  # the newest first
        f"urn:findme:search:{job_id}:first.jpg",
    ]

    (gallery / "first.jpg").unlink()  # gone from the source: gone from every result
    wait_for_matches(job_id, {"later.jpg"})
    assert event_status(client, event["event_id"])["photos_listed"] == 2


def test_new_posts_of_a_replayed_hashtag_reach_an_open_search(
    redis_client: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live Mastodon event: each reading gets the hashtag's newest page; a new post
    is matched and a deleted one leaves the results, shared by every search."""
    alice = m.status("301", m.ALICE, [m.image(m.media_url(m.MEDIA, "obama2"))])
    bob = m.status("302", m.BOB, [m.image(m.media_url(m.MEDIA, "biden"))])
    carol = m.status("303", m.CAROL, [m.image(m.media_url(m.MEDIA, "group"))])
    readings = [[bob, alice], [carol, bob, alice], [carol, bob]]  # then alice deletes hers
    interactions = [m.instance(m.SERVER, m.MEDIA)]
    interactions += [m.tag_page(m.SERVER, posts) for posts in readings]
    interactions += [
        m.photo(m.media_url(m.MEDIA, "obama2"), "obama2.jpg"),
        m.photo(m.media_url(m.MEDIA, "biden"), "biden.jpg"),
        m.photo(m.media_url(m.MEDIA, "group"), "group.jpg"),
    ]
    monkeypatch.setenv("FINDME_REPLAY", str(x_api.write_cassette(tmp_path, interactions)))
    monkeypatch.setenv("FINDME_EVENT_REREAD_SECONDS", "10")
    with LocalFindMe(photo_root=None, compare_workers=1, feed_interval_seconds=3) as live:
        client = OpenWhiskClient(live.api_host, live.auth)
        event = create_event(
            client, source="mastodon", servers=[m.SERVER], query="#pycon", live_hours=1
        )
        code, started = client.invoke(
            "register_search", {"event_id": event["event_id"], "reference_image": OBAMA}
        )
        assert code == 200, started
        job_id = started["job_id"]
        obama2, group = m.media_url(m.MEDIA, "obama2"), m.media_url(m.MEDIA, "group")
        wait_for_matches(job_id, {obama2, group})
        wait_for_matches(job_id, {group})
        entries = feed_entries(live.api_host, job_id)
        status = event_status(client, event["event_id"])
    assert entries == [f"urn:findme:search:{job_id}:{group}"]
    assert status["photos_listed"] == 2 and status["last_read"] > 0


def test_the_organiser_has_photos_added_later_read_now(
    client: OpenWhiskClient, photo_root: Path
) -> None:
    gallery = photo_root / "added-later"
    gallery.mkdir()
    (gallery / "biden.jpg").write_bytes(pv.encoded(pv.shrunk(pv.photo("biden.jpg"), 800)))
    event = create_event(client, folder="added-later")
    wait_for_event(event["event_id"])
    job_id = search(client, event["event_id"])
    assert wait_for_job(client, job_id)["matches"] == []
    (gallery / "late.jpg").write_bytes(pv.encoded(pv.shrunk(pv.photo("obama2.jpg"), 800)))
    params = {"event_id": event["event_id"], "read_again": True}
    code, refused = client.invoke("update_event", params)
    assert (code, refused["statusCode"]) == (502, 403)
    code, answer = client.invoke("update_event", {**params, "owner_key": event["owner_key"]})
    assert code == 200 and answer["reading"] is True, answer
    wait_for_matches(job_id, {"late.jpg"})
