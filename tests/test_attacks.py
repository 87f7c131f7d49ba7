"""The attacks of issue 17, each repeated against a real engine: what the attacker gets now.

Items fixed in other files have their tests next to their fix (docs/security.md
lists all nineteen and what stops each); the server-side ones are here.
"""

from __future__ import annotations

import base64
import json

import httpx
import redis

from findme import jobs
from findme.client import OpenWhiskClient
from findme.jobs import JobStore
from findme.local.runner import LocalFindMe
from tests import photo_variants as pv
from tests.conftest import wait_for_job

OBAMA = base64.b64encode((pv.PHOTOS / "obama.jpg").read_bytes()).decode()


def start(client: OpenWhiskClient, **params: object) -> str:
    code, result = client.invoke("register_search", params)
    assert code == 200, result
    return result["job_id"]


def keys_of(redis_client: redis.Redis, job_id: str) -> list[bytes]:
    return sorted(redis_client.scan_iter(match=f"{jobs.job_key(job_id)}*"))


# -- 2: deleting one job deletes nothing another job needs -----------------------------


def test_deleting_a_job_leaves_other_jobs_with_the_same_reference_working(
    client: OpenWhiskClient, redis_client: redis.Redis
) -> None:
    first = start(client, folder="event/talk", reference_image=OBAMA)
    assert wait_for_job(client, first)["state"] == "done"
    others = [start(client, folder="event/talk", reference_image=OBAMA) for _ in range(2)]
    assert client.invoke("delete_search", {"job_id": first}) == (
        200,
        {"job_id": first, "deleted": True},
    )
    for job_id in others:
        status = wait_for_job(client, job_id)
        assert (status["state"], len(status["matches"])) == ("done", 3), status
    # A confirmed face joins the references and re-ranks: the references are still there.
    photo = status["matches"][0]["photo"]
    code, result = client.invoke(
        "review_match",
        {"job_id": others[1], "photo": photo, "verdict": "confirm", "add_reference": True},
    )
    assert code == 200 and result["reranked"] == 3, result
    assert keys_of(redis_client, first) == []
    # The face cache is shared by every search: deleting jobs leaves it.
    face_cache = list(redis_client.scan_iter(match="findme:photo:*"))
    assert face_cache
    # The shared reference descriptor goes with the last job that took it.
    fingerprint = json.loads(redis_client.hget(jobs.job_key(others[0]), "reference_fingerprints"))
    shared = jobs.reference_key(fingerprint[0])
    client.invoke("delete_search", {"job_id": others[0]})
    assert redis_client.exists(shared) == 1
    client.invoke("delete_search", {"job_id": others[1]})
    assert redis_client.exists(shared) == 0
    assert keys_of(redis_client, others[1]) == []  # its confirmed reference went with it
    assert all(redis_client.exists(key) for key in face_cache)


# -- 15: a deleted running job stays deleted --------------------------------------------


def test_a_deleted_running_job_does_not_come_back(
    client: OpenWhiskClient, local: LocalFindMe, redis_client: redis.Redis
) -> None:
    job_id = start(client, folder="event", reference_image=OBAMA)
    assert client.invoke("delete_search", {"job_id": job_id})[0] == 200
    assert local.engine.wait_idle(120)
    assert keys_of(redis_client, job_id) == []
    code, result = client.invoke("search_status", {"job_id": job_id})
    assert (code, result["statusCode"]) == (502, 404)


def test_no_write_of_a_job_store_brings_a_deleted_job_back(redis_client: redis.Redis) -> None:
    store = JobStore(redis_client, 3600)
    job_id = jobs.new_job_id()
    store.create(job_id, {"source": "folder", "folder": "event"})
    assert store.add_photos(job_id, ["a.jpg"]) == ["a.jpg"]
    assert store.delete(job_id)
    assert store.add_photos(job_id, ["b.jpg"]) == []
    assert store.start_attempt(job_id, "a.jpg") == 0
    assert not store.remember_photo(job_id, "a.jpg", "{}")
    assert not store.set_match(job_id, "a.jpg", {"photo": "a.jpg"})
    assert not store.keep_reference(job_id, "f:j1", "00")
    store.reject(job_id, "a.jpg")
    assert not store.claim_search(job_id)
    assert not store.update(job_id, state="searching")
    assert store.record(job_id, "a.jpg", jobs.Outcome.MATCH, "{}") == "unknown"
    assert keys_of(redis_client, job_id) == []
    assert not store.delete(job_id)  # a second delete: unknown


# -- 12: a fired photo that is not the job's is kept nowhere --------------------------------


def test_a_fired_photo_not_registered_for_the_job_is_kept_nowhere(
    client: OpenWhiskClient, local: LocalFindMe, redis_client: redis.Redis
) -> None:
    job_id = start(client, folder="event/talk", reference_image=OBAMA)
    assert wait_for_job(client, job_id)["state"] == "done"
    store = JobStore(redis_client, 3600)
    store.update(job_id, state="comparing")  # as if fired mid-job
    stray = {"photo": "../hall/group.jpg", "post_url": "javascript:alert(1)"}
    auth = tuple(local.auth.split(":", 1))
    answer = httpx.post(
        f"{local.api_host}/api/v1/namespaces/_/triggers/tweet_image",
        json={"job_id": job_id, "photos": [stray, {"photo": "zz_new.jpg"}]},
        auth=auth,
    )
    assert answer.status_code == 202
    assert local.engine.wait_idle(60)
    seen = store.seen_photos(job_id)
    assert set(seen) == {"obama2.jpg", "obama3-grey.png", "stage-rotated.jpg"}
    assert all("javascript" not in json.dumps(meta) for meta in seen.values())
    code, result = client.invoke(
        "review_match",
        {"job_id": job_id, "photo": "obama2.jpg", "verdict": "confirm", "add_reference": True},
    )
    assert code == 200 and result["reranked"] == 3, result
    status = store.status(job_id)
    assert {m["photo"] for m in status.matches} == set(seen)
