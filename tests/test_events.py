"""Events: an organiser's gallery indexed once; each person's search is a comparison
with the index (nothing listed, downloaded or detected); photos added later reach
the searches that follow the event; takedowns and deletion remove everything."""

from __future__ import annotations

import base64
import os
import shutil
import time
from pathlib import Path

import redis

from findme.client import OpenWhiskClient
from findme.local.runner import LocalFindMe
from findme.state import keys
from tests import photo_variants as pv
from tests.conftest import BROKEN, make_event_folder, wait_for_job

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
    jobs = redis.Redis.from_url(os.environ["REDIS_URL"])
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


def test_deleting_an_event_leaves_no_key_and_empties_its_searches(
    client: OpenWhiskClient, redis_client: redis.Redis
) -> None:
    event = create_event(client, folder="event/talk")
    wait_for_event(event["event_id"])
    job_id = search(client, event["event_id"])
    assert wait_for_job(client, job_id)["matches"]
    assert list(redis_client.scan_iter(match=f"findme:job:{{{event['event_id']}}}*"))

    code, refused = client.invoke("delete_event", {"event_id": event["event_id"]})
    assert (code, refused["statusCode"]) == (502, 403)
    code, deleted = client.invoke(
        "delete_event", {"event_id": event["event_id"], "owner_key": event["owner_key"]}
    )
    assert code == 200 and deleted["searches_emptied"] == 1
    assert not list(redis_client.scan_iter(match=f"*{event['event_id']}*"))
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
