"""A search has an owner (the client that registered it holds its owner key) and
viewers (anyone with its link): viewers only look, and only until the owner stops
sharing."""

from __future__ import annotations

import base64

from findme.client import OpenWhiskClient
from findme.local.runner import LocalFindMe
from tests import photo_variants as pv
from tests.conftest import wait_for_job

OBAMA = base64.b64encode((pv.PHOTOS / "obama.jpg").read_bytes()).decode()
ONLY_THE_OWNER = "only the owner of this search can do that: give its owner_key"


def test_a_link_lets_a_stranger_look_but_change_nothing(
    client: OpenWhiskClient, local: LocalFindMe
) -> None:
    code, started = client.invoke(
        "register_search", {"folder": "event/talk", "reference_image": OBAMA}
    )
    assert code == 200 and len(started["owner_key"]) >= 32
    job_id = started["job_id"]
    wait_for_job(client, job_id)
    stranger = OpenWhiskClient(local.api_host, local.auth)  # a browser given the link
    _, seen = stranger.invoke("search_status", {"job_id": job_id})
    assert len(seen["matches"]) == 3 and started["owner_key"] not in str(seen)
    photo = seen["matches"][0]["photo"]
    for action, params in (
        ("review_match", {"photo": photo, "verdict": "reject"}),
        ("cancel_search", {}),
        ("resume_search", {}),
        ("delete_search", {}),
        ("share_search", {"shared": False}),
    ):
        code, refused = stranger.invoke(action, {"job_id": job_id, **params})
        assert (code, refused["statusCode"]) == (502, 403), (action, refused)
        assert refused["error"] == ONLY_THE_OWNER, action
        code, refused = stranger.invoke(action, {"job_id": job_id, "owner_key": "x" * 32, **params})
        assert refused["error"] == "that is not this search's owner key", action
    _, still = client.invoke("search_status", {"job_id": job_id})
    assert len(still["matches"]) == 3  # nothing the stranger tried changed anything

    code, rejected = client.invoke(
        "review_match", {"job_id": job_id, "photo": photo, "verdict": "reject"}
    )
    assert code == 200 and rejected["verdict"] == "reject"


def test_the_owner_stops_sharing_and_the_link_stops_working(
    client: OpenWhiskClient, local: LocalFindMe
) -> None:
    code, started = client.invoke(
        "register_search", {"folder": "event/talk", "reference_image": OBAMA}
    )
    job_id = started["job_id"]
    wait_for_job(client, job_id)
    stranger = OpenWhiskClient(local.api_host, local.auth)
    code, answer = client.invoke("share_search", {"job_id": job_id, "shared": False})
    assert code == 200 and answer == {"job_id": job_id, "shared": False}
    code, refused = stranger.invoke("search_status", {"job_id": job_id})
    assert (code, refused["statusCode"]) == (502, 403)
    assert "stopped sharing" in refused["error"]
    _, own = client.invoke("search_status", {"job_id": job_id})
    assert len(own["matches"]) == 3
    client.invoke("share_search", {"job_id": job_id, "shared": True})
    _, seen = stranger.invoke("search_status", {"job_id": job_id})
    assert len(seen["matches"]) == 3
