"""Two web actions the page needs, through the local engine's HTTP API as the page
calls them: photo_faces (the faces of the photo a person is about to search with,
so they can choose theirs; register_search's reference_face) and resume_search
(going on with a stopped search, as `findme search --resume` does)."""

from __future__ import annotations

import base64
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from findme.client import OpenWhiskClient
from findme.errors import BadRequest
from findme.local.runner import LocalFindMe
from findme.stages.register import register_search
from tests import photo_variants as pv
from tests.conftest import wait_for_job, wait_out_429

GROUP = base64.b64encode(
    pv.encoded(pv.group(pv.photo("biden.jpg"), pv.photo("obama3.jpg")))
).decode()
OBAMA = base64.b64encode((pv.PHOTOS / "obama.jpg").read_bytes()).decode()
TALK = ["obama2.jpg", "obama3-grey.png", "stage-rotated.jpg"]


def post(url: str, **kwargs: Any) -> httpx.Response:
    """A POST to a web action, waiting out a minute the session's engine has spent
    (OpenWhisk's 60 invocations a minute, shared by every test of the session)."""
    return wait_out_429(lambda: httpx.post(url, **kwargs))


def get(url: str, **kwargs: Any) -> httpx.Response:
    return wait_out_429(lambda: httpx.get(url, **kwargs))


def web(local: LocalFindMe, action: str) -> str:
    return f"{local.api_host}/api/v1/web/guest/findme/{action}.http"


def test_photo_faces_lists_the_faces_of_a_group_photo_and_keeps_nothing(
    local: LocalFindMe, redis_client: object
) -> None:
    before = set(redis_client.scan_iter())
    answer = post(web(local, "photo_faces"), json={"reference_image": GROUP}, timeout=60)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["width"], found["height"]) == (633, 600)
    lefts = [face["box"][3] for face in found["faces"]]
    assert len(lefts) == 2 and lefts == sorted(lefts)  # left to right: Biden, then Obama
    assert found["largest"] == 0
    for top, right, bottom, left in (face["box"] for face in found["faces"]):
        assert 0 <= left < right <= 633 and 0 <= top < bottom <= 600
    assert set(redis_client.scan_iter()) == before  # nothing about the photo is kept
    # As register_search checks a photo, with the same words.
    bad = post(web(local, "photo_faces"), json={"reference_image": "bm90IGEgcGhvdG8="})
    assert bad.status_code == 400 and "reference_image" in bad.json()["error"]
    as_get = get(web(local, "photo_faces"), params={"reference_image": GROUP[:100]})
    assert as_get.status_code == 405


def test_the_face_chosen_in_a_group_photo_is_the_one_searched_for(
    client: OpenWhiskClient, local: LocalFindMe
) -> None:
    faces = post(web(local, "photo_faces"), json={"reference_image": GROUP}, timeout=60)
    biden, obama = (face["box"] for face in faces.json()["faces"])
    results = {}
    for name, box in (("largest", None), ("obama", obama), ("biden", biden)):
        params = {"folder": "event/talk", "reference_image": GROUP}
        if box:
            params["reference_face"] = box
        code, started = client.invoke("register_search", params)
        assert code == 200, started
        status = wait_for_job(client, started["job_id"])
        assert status["state"] == "done", status
        results[name] = (sorted(m["photo"] for m in status["matches"]), status["reference_faces"])
    assert results["obama"][0] == TALK  # the talk's speaker, found by the face chosen
    assert results["largest"][0] == results["biden"][0] == []  # the largest face is Biden's
    assert results["obama"][1] == [{"reference": 0, "box": obama}]


@pytest.mark.parametrize(
    ("face", "message"),
    [
        ([1, 2, 3], "reference_face must be a face's box"),
        ([10, 5, 20, 8.5], "reference_face must be a face's box"),
        ([10, 5, 20, True], "reference_face must be a face's box"),
        ([30, 50, 20, 10], "top must be above its bottom"),
        ("10,20,30,0", "reference_face must be a face's box"),
    ],
)
def test_a_bad_chosen_face_is_a_clear_400(face: object, message: str, photo_root: Path) -> None:
    search = {"photo_root": str(photo_root), "folder": "event", "reference_image": OBAMA}
    with pytest.raises(BadRequest, match=message):
        register_search({**search, "reference_face": face})


def test_a_chosen_face_needs_one_reference_photo(photo_root: Path) -> None:
    search = {"photo_root": str(photo_root), "folder": "event", "reference_image": [OBAMA] * 2}
    with pytest.raises(BadRequest, match="only with one reference photo"):
        register_search({**search, "reference_face": [1, 2, 3, 0]})


def test_a_face_not_in_the_photo_fails_the_search_in_words(client: OpenWhiskClient) -> None:
    code, started = client.invoke(
        "register_search",
        {"folder": "event/talk", "reference_image": OBAMA, "reference_face": [0, 40, 40, 0]},
    )
    assert code == 200, started
    status = wait_for_job(client, started["job_id"])
    assert status["state"] == "failed"
    assert "the face you chose was not found" in status["error"]


def test_a_stopped_search_goes_on_where_it_stopped(
    client: OpenWhiskClient, local: LocalFindMe
) -> None:
    pv.distinct_copies(local.photo_root / "resume-many", "obama2.jpg", 12, largest=700)
    # The compare workers are paused while the search is stopped, so it is still
    # running when it is, however fast the machine.
    workers = local.engine.pools["compare_images"].pids()
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    try:
        code, started = client.invoke(
            "register_search", {"folder": "resume-many", "reference_image": OBAMA}
        )
        assert code == 200, started
        job_id = started["job_id"]
        early = post(
            web(local, "resume_search"),
            json={"job_id": job_id, "owner_key": client.owner_keys[job_id]},
        )
        assert early.status_code == 400 and "still running" in early.json()["error"]
        stopped = post(
            web(local, "cancel_search"),
            json={"job_id": job_id, "owner_key": client.owner_keys[job_id]},
        ).json()
        assert stopped["state"] == "cancelled"
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
    resumed = post(
        web(local, "resume_search"), json={"job_id": job_id, "owner_key": client.owner_keys[job_id]}
    )
    assert resumed.status_code == 200 and resumed.json()["state"] == "queued", resumed.text
    status = wait_for_job(client, job_id)
    assert status["state"] == "done", status
    assert status["photos_total"] == status["photos_done"] == 12
    assert len(status["matches"]) == 12
    again = post(
        web(local, "resume_search"), json={"job_id": job_id, "owner_key": client.owner_keys[job_id]}
    )
    assert again.status_code == 400 and "nothing left to search" in again.json()["error"]
    unknown = post(web(local, "resume_search"), json={"job_id": "0" * 32})
    assert unknown.status_code == 404
    assert get(web(local, "resume_search"), params={"job_id": job_id}).status_code == 405
