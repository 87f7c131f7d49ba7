"""FindMe on a real three-node Redis Cluster: a search, an event, a review, a deletion
and the sweep, through the local engine, with every key of a job in one hash slot."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from findme import store
from findme.client import OpenWhiskClient
from findme.errors import ActionError
from findme.jobs import JobStore
from findme.local.runner import LocalFindMe
from findme.state.base import RedisClient
from tests import photo_variants as pv
from tests.conftest import BUSY_CLUSTER, make_event_folder, wait_for_job
from tests.redis_cluster import redis_cluster
from tests.test_events import (
    BIDEN,
    OBAMA,
    create_event,
    event_status,
    live_gallery,
    search,
    wait_for_event,
    wait_for_matches,
)


@pytest.fixture(scope="module")
def cluster_url() -> Iterator[str]:
    """The Redis Cluster of REDIS_URL (`make test-cluster`), else one of its own."""
    url = os.environ["REDIS_URL"]
    if store.cluster_address(url)[1]:
        yield url
        return
    with pytest.MonkeyPatch.context() as patch, redis_cluster() as started:
        patch.setenv("REDIS_URL", started)  # what wait_for_job and the engine read
        yield started


@pytest.fixture(scope="module")
def cluster(cluster_url: str) -> RedisClient:
    return store.redis_client(cluster_url)


@pytest.fixture(scope="module")
def engine(cluster_url: str, photo_root: Path) -> Iterator[LocalFindMe]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINDME_EVENT_REREAD_SECONDS", "10")  # a live event is read at each sweep
        with LocalFindMe(photo_root=photo_root, compare_workers=2, limits=BUSY_CLUSTER) as local:
            yield local


@pytest.fixture()
def client(engine: LocalFindMe) -> OpenWhiskClient:
    return OpenWhiskClient(engine.api_host, engine.auth)


def keys_of(cluster: RedisClient, job_id: str) -> list[bytes]:
    """Every key naming the job, on every node of the cluster."""
    return list(cluster.scan_iter(match=f"*{job_id}*"))


def test_a_folder_search_runs_on_a_cluster_with_each_job_in_one_slot(
    client: OpenWhiskClient, cluster: RedisClient, tmp_path: Path
) -> None:
    expected = make_event_folder(tmp_path / "unused")  # the layout of photo_root/event
    code, started = client.invoke("register_search", {"folder": "event", "reference_image": OBAMA})
    assert code == 200, started
    status = wait_for_job(client, started["job_id"])
    assert status["state"] == "done", status
    assert {m["photo"] for m in status["matches"]} == {p for p, has in expected.items() if has}
    assert status["photos_done"] == status["photos_total"] == 10  # three broken files too
    assert status["photos_failed"] == 3

    event_id = JobStore(cluster, 3600).fields(started["job_id"])["event"]
    for job_id in (started["job_id"], event_id):  # the search, and the place's event
        assert len({cluster.keyslot(k) for k in keys_of(cluster, job_id)}) == 1
    nodes = {cluster.get_node_from_key(k).name for k in cluster.scan_iter(match="findme:*")}
    assert len(nodes) > 1  # the keys are spread over the cluster, not on one node
    assert started["job_id"] in JobStore(cluster, 3600).job_ids()  # a SCAN of every node


def test_an_event_is_searched_taken_down_and_deleted_leaving_no_key(
    client: OpenWhiskClient, cluster: RedisClient
) -> None:
    event = create_event(client, folder="event/talk", name="Cluster talk")
    wait_for_event(event["event_id"])
    assert event_status(client, event["event_id"])["photos_indexed"] == 3
    job_id = search(client, event["event_id"])
    found = wait_for_job(client, job_id)
    assert {m["photo"] for m in found["matches"]} == {
        "obama2.jpg",
        "obama3-grey.png",
        "stage-rotated.jpg",
    }

    params = {"event_id": event["event_id"], "owner_key": event["owner_key"]}
    code, done = client.invoke("takedown_photo", {**params, "photo": "obama2.jpg"})
    assert code == 200 and done["removed_from_searches"] == 1, done
    _, after = client.invoke("search_status", {"job_id": job_id})
    assert {m["photo"] for m in after["matches"]} == {"obama3-grey.png", "stage-rotated.jpg"}

    code, deleted = client.invoke("delete_event", params)
    assert code == 200 and deleted["searches_emptied"] == 1, deleted
    assert keys_of(cluster, event["event_id"]) == []
    assert event["event_id"].encode() not in cluster.zrange("findme:live_events", 0, -1)
    _, emptied = client.invoke("search_status", {"job_id": job_id})
    assert emptied["state"] == "failed" and emptied["matches"] == []


def test_a_review_re_ranks_and_a_deleted_search_leaves_no_key(
    client: OpenWhiskClient, cluster: RedisClient
) -> None:
    code, started = client.invoke(
        "register_search", {"folder": "event/hall", "reference_image": BIDEN}
    )
    assert code == 200, started
    job_id = started["job_id"]
    assert {m["photo"] for m in wait_for_job(client, job_id)["matches"]} == {
        "group.jpg",
        "biden.jpg",
        "biden-palette.png",
    }
    code, _ = client.invoke(
        "review_match", {"job_id": job_id, "photo": "biden-palette.png", "verdict": "reject"}
    )
    assert code == 200
    code, confirmed = client.invoke(
        "review_match",
        {"job_id": job_id, "photo": "biden.jpg", "verdict": "confirm", "add_reference": True},
    )
    assert code == 200 and confirmed["detected"] == 0 and confirmed["reranked"] == 2, confirmed
    _, reviewed = client.invoke("search_status", {"job_id": job_id})
    by_photo = {m["photo"]: m for m in reviewed["matches"]}
    assert set(by_photo) == {"group.jpg", "biden.jpg"}
    assert by_photo["biden.jpg"]["review"] == "confirmed"

    event_id = JobStore(cluster, 3600).fields(job_id)["event"]
    assert client.invoke("delete_search", {"job_id": job_id}) == (
        200,
        {"job_id": job_id, "deleted": True},
    )
    assert keys_of(cluster, job_id) == []
    assert JobStore(cluster, 3600).index_size(event_id) == 3  # the place's index stays


def test_the_sweep_reads_a_live_event_again_and_its_search_gains_the_new_photo(
    client: OpenWhiskClient, photo_root: Path
) -> None:
    gallery = live_gallery(photo_root, "cluster-live")
    event = create_event(client, folder="cluster-live", live_hours=1)
    wait_for_event(event["event_id"])
    job_id = search(client, event["event_id"])
    assert {m["photo"] for m in wait_for_job(client, job_id)["matches"]} == {"first.jpg"}

    (gallery / "later.jpg").write_bytes(pv.encoded(pv.shrunk(pv.photo("obama3.jpg"), 800)))
    code, swept = client.invoke("sweep", {})
    assert code == 200, swept
    assert event["event_id"] in swept["swept"], swept  # read again: its listing runs
    wait_for_matches(job_id, {"first.jpg", "later.jpg"})
    assert event_status(client, event["event_id"])["photos_indexed"] == 3


def test_a_cluster_url_says_what_is_wrong_in_words() -> None:
    assert store.cluster_address("redis://10.0.0.5:7000/0?cluster=1") == (
        "redis://10.0.0.5:7000/0",
        True,
    )
    assert store.cluster_address("rediss://:pw@host:6380/2?ssl_cert_reqs=none") == (
        "rediss://:pw@host:6380/2?ssl_cert_reqs=none",
        False,
    )
    with pytest.raises(ActionError, match="write cluster=1 for a Redis Cluster, or leave it out"):
        store.redis_client("redis://127.0.0.1:7000/0?cluster=maybe")
    started = time.monotonic()
    with pytest.raises(ActionError, match="no Redis Cluster answers there"):
        store.redis_client("redis://127.0.0.1:1/0?cluster=1")
    assert time.monotonic() - started < 30
