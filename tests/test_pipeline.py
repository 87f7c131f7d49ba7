"""The whole pipeline through the local engine: four actions, two triggers, two rules."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import redis
import requests

from findme.client import OpenWhiskClient
from findme.codec import descriptor_to_hex
from findme.jobs import JobStore, new_job_id
from findme.local.runner import LocalFindMe
from findme.state import keys
from tests import photo_variants as pv
from tests.conftest import BROKEN, make_event_folder, wait_for_job

OBAMA = base64.b64encode((pv.PHOTOS / "obama.jpg").read_bytes()).decode()


def start(client: OpenWhiskClient, **params: object) -> str:
    code, result = client.invoke("register_search", params)
    assert code == 200, result
    return result["job_id"]


def test_search_finds_exactly_the_photos_of_the_person(
    client: OpenWhiskClient, tmp_path: Path
) -> None:
    expected = make_event_folder(tmp_path / "unused")  # the same layout as photo_root/event
    status = wait_for_job(client, start(client, folder="event", reference_image=OBAMA))
    assert status["state"] == "done"
    matched = {m["photo"] for m in status["matches"]}
    assert matched == {photo for photo, has in expected.items() if has}
    assert status["photos_total"] == len(expected) + len(BROKEN)
    assert status["photos_done"] == status["photos_total"]
    assert status["photos_failed"] == len(BROKEN)
    reasons = {f["photo"]: f["reason"] for f in status["failed"]}
    assert reasons["broken/empty.jpg"] == "empty file"
    assert reasons["broken/notes.jpg"] == "not an image"
    assert reasons["broken/truncated.jpg"].startswith("truncated or corrupt image")
    group = next(m for m in status["matches"] if m["photo"] == "hall/group.jpg")
    top, right, bottom, left = group["box"]
    assert bottom > top and right > left and left > group["width"] / 2
    assert group["faces"] == 2
    assert all(0 <= m["distance"] <= 0.6 for m in status["matches"])
    assert "error" not in status


def test_reference_from_a_path_under_the_photo_root(client: OpenWhiskClient) -> None:
    job_id = start(client, folder="event/talk", reference_path="refs/obama.jpg", threshold=0.5)
    status = wait_for_job(client, job_id)
    assert status["state"] == "done"
    assert len(status["matches"]) == 3
    assert status["threshold"] == 0.5


def test_a_person_in_none_of_the_photos_gives_no_matches(client: OpenWhiskClient) -> None:
    status = wait_for_job(
        client, start(client, folder="event/talk", reference_path="strangers/biden.jpg")
    )
    assert status["state"] == "done"
    assert status["photos_done"] == 3
    assert status["matches"] == []


def test_a_reference_without_a_face_fails_the_job_clearly(client: OpenWhiskClient) -> None:
    status = wait_for_job(client, start(client, folder="event", reference_path="refs/suit.jpg"))
    assert status["state"] == "failed"
    assert (
        status["error"]
        == "no face in reference photo: use a larger, frontal, well-lit photo of your face"
    )
    assert status["photos_total"] == 0


def test_an_empty_folder_is_done_at_once(client: OpenWhiskClient, local: LocalFindMe) -> None:
    (local.photo_root / "empty").mkdir(exist_ok=True)
    status = wait_for_job(client, start(client, folder="empty", reference_image=OBAMA))
    assert (status["state"], status["photos_total"], status["matches"]) == ("done", 0, [])


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"folder": "event"}, "reference"),
        ({"folder": "event", "reference_path": ["refs/obama.jpg"] * 11}, "at most 10"),
        ({"folder": "event", "reference_image": OBAMA, "threshold": 0.9}, "threshold"),
        ({"folder": "event", "reference_image": OBAMA, "threshold": "strict"}, "threshold"),
        ({"folder": "../..", "reference_image": OBAMA}, "folder"),
        ({"folder": "/etc", "reference_image": OBAMA}, "folder"),
        ({"folder": "no-such-folder", "reference_image": OBAMA}, "folder"),
        ({"folder": "event", "reference_image": "@@not base64@@"}, "reference_image"),
        (
            {"folder": "event", "reference_image": base64.b64encode(b"text").decode()},
            "reference_image",
        ),
        ({"folder": "event", "reference_path": "../../etc/passwd"}, "reference_path"),
        ({"folder": "event", "reference_url": "http://pbs.twimg.com/a.jpg"}, "reference_url"),
        ({"folder": "event", "reference_url": "https://127.0.0.1/a.jpg"}, "reference_url"),
        ({"folder": "event", "reference_image": OBAMA, "source": "flickr"}, "source"),
        ({"folder": 7, "reference_image": OBAMA}, "folder"),
        ({"folder": "event", "reference_image": OBAMA, "query": "x" * 600}, "query"),
    ],
)
def test_wrong_parameters_are_a_400_naming_the_parameter(
    client: OpenWhiskClient, params: dict, named: str
) -> None:
    code, result = client.invoke("register_search", params)
    assert code == 502  # OpenWhisk's answer to a blocking call whose result is an error
    assert result["statusCode"] == 400
    assert named in result["error"]


@pytest.mark.parametrize(
    ("job_id", "status", "message"),
    [("0" * 32, 404, "no job 0000"), ("not-a-job", 400, "job_id is not a FindMe job id")],
)
def test_status_of_an_unknown_job(
    client: OpenWhiskClient, job_id: str, status: int, message: str
) -> None:
    code, result = client.invoke("search_status", {"job_id": job_id})
    assert code == 502
    assert result["statusCode"] == status
    assert result["error"].startswith(message)


def test_the_same_tweet_image_event_twice_counts_each_photo_once(
    local: LocalFindMe, redis_client: redis.Redis
) -> None:
    """At-least-once delivery: a repeated event changes nothing."""
    store = JobStore(redis_client, 3600)
    job_id = new_job_id()
    store.create(job_id, {"source": "folder", "folder": "event/talk", "threshold": "0.6"})
    reference = pv.photo("obama.jpg")
    from findme import faces
    from findme.images import decode_for_detection

    face = faces.reference_face(decode_for_detection(pv.encoded(reference), 1600))
    store.save_reference("test-reference", descriptor_to_hex(face.descriptor))
    store.update(job_id, reference_fingerprints=json.dumps(["test-reference"]), state="comparing")
    photos = ["obama2.jpg", "obama3-grey.png", "stage-rotated.jpg"]
    assert store.enqueue(job_id, [{"photo": p} for p in photos]) == 3
    assert store.enqueue(job_id, [{"photo": p} for p in photos]) == 0  # listed twice: once
    event = {"job_id": job_id}
    url = f"{local.api_host}/api/v1/namespaces/_/triggers/tweet_image"
    auth = tuple(local.auth.split(":", 1))
    for _ in range(2):
        response = requests.post(url, json=event, auth=auth, timeout=10)
        assert response.status_code == 202
        assert len(response.json()["activationId"]) == 32
    assert local.engine.wait_idle(60)
    assert store.finish_search(job_id) == "done"
    status = store.status(job_id)
    assert (status.photos_total, status.photos_done, len(status.matches)) == (3, 3, 3)
    assert redis_client.ttl(keys.done_key(job_id)) > 0


def test_job_keys_expire(client: OpenWhiskClient, redis_client: redis.Redis) -> None:
    job_id = start(client, folder="event/talk", reference_image=OBAMA)
    wait_for_job(client, job_id)
    # The photos were listed and indexed by the place's event, kept as long as the search.
    event_id = redis_client.hget(keys.job_key(job_id), "event").decode()
    own = (keys.job_key(job_id), keys.matches_key(job_id))
    indexed = (keys.photos_key(event_id), keys.done_key(event_id), keys.index_key(event_id))
    for key in own + indexed:
        assert 0 < redis_client.ttl(key) <= 7 * 24 * 3600
    assert redis_client.exists(keys.upload_key(job_id)) == 0  # the upload is gone once read
    fingerprint = json.loads(redis_client.hget(keys.job_key(job_id), "reference_fingerprints"))[0]
    assert len(redis_client.get(keys.reference_key(fingerprint))) == 1024  # hex of 128 floats
