"""The attacks of issue 17, each repeated against a real engine: what the attacker gets now.

Items fixed in other files have their tests next to their fix (docs/security.md
lists all nineteen and what stops each); the server-side ones are here.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import redis
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from findme.client import OpenWhiskClient
from findme.images import PhotoError
from findme.jobs import JobStore, Outcome, new_job_id
from findme.local.access import Access, AccessGuard
from findme.local.runner import LocalFindMe
from findme.sources.folder import FolderSource, read_limited
from findme.state import keys
from tests import photo_variants as pv
from tests.conftest import wait_for_job, wait_out_429

OBAMA = base64.b64encode((pv.PHOTOS / "obama.jpg").read_bytes()).decode()


def start(client: OpenWhiskClient, **params: object) -> str:
    code, result = client.invoke("register_search", params)
    assert code == 200, result
    return result["job_id"]


def keys_of(redis_client: redis.Redis, job_id: str) -> list[bytes]:
    return sorted(redis_client.scan_iter(match=f"{keys.job_key(job_id)}*"))


# -- 2: deleting one job deletes nothing another job needs -----------------------------


def test_deleting_a_job_leaves_other_jobs_with_the_same_reference_working(
    client: OpenWhiskClient, redis_client: redis.Redis
) -> None:
    # Bytes after the JPEG's end: a photo no other test uses, so only these jobs share it.
    photo = (pv.PHOTOS / "obama.jpg").read_bytes() + b"test_attacks item 2"
    reference = base64.b64encode(photo).decode()
    first = start(client, folder="event/talk", reference_image=reference)
    assert wait_for_job(client, first)["state"] == "done"
    others = [start(client, folder="event/talk", reference_image=reference) for _ in range(2)]
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
    fingerprint = json.loads(redis_client.hget(keys.job_key(others[0]), "reference_fingerprints"))
    shared = keys.reference_key(fingerprint[0])
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
    job_id = new_job_id()
    store.create(job_id, {"source": "folder", "folder": "event"})
    assert store.enqueue(job_id, [{"photo": "a.jpg"}]) == 1
    assert store.delete(job_id)
    assert store.enqueue(job_id, [{"photo": "b.jpg"}]) == 0
    assert store.take(job_id, 10**13) is None
    store.add_drainer(job_id, "token", 10**13)
    assert store.requeue_expired(job_id) == 0
    assert not store.remember_photo(job_id, "a.jpg", "{}")
    assert not store.set_match(job_id, "a.jpg", {"photo": "a.jpg"})
    assert not store.keep_reference(job_id, "f:j1", "00")
    store.reject(job_id, "a.jpg")
    assert not store.take_search_lease(job_id, "token", 60_000)
    assert not store.update(job_id, state="searching")
    assert store.record(job_id, "a.jpg", Outcome.MATCH, "{}") == "unknown"
    assert keys_of(redis_client, job_id) == []
    assert not store.delete(job_id)  # a second delete: unknown


# -- 12: a fired photo that is not the job's is kept nowhere --------------------------------


def test_a_fired_photo_not_registered_for_the_job_is_kept_nowhere(
    client: OpenWhiskClient, local: LocalFindMe, redis_client: redis.Redis
) -> None:
    job_id = start(client, folder="event/talk", reference_image=OBAMA)
    assert wait_for_job(client, job_id)["state"] == "done"
    store = JobStore(redis_client, 3600)
    event_id = store.fields(job_id)["event"]  # the place's event read the photos
    stray = {"photo": "../hall/group.jpg", "post_url": "javascript:alert(1)"}
    auth = tuple(local.auth.split(":", 1))
    for target in (job_id, event_id):
        store.update(target, state="comparing")  # as if fired mid-job
        answer = httpx.post(
            f"{local.api_host}/api/v1/namespaces/_/triggers/tweet_image",
            json={"job_id": target, "photos": [stray, {"photo": "zz_new.jpg"}]},
            auth=auth,
        )
        assert answer.status_code == 202
    assert local.engine.wait_idle(60)
    wanted = ["obama2.jpg", "obama3-grey.png", "stage-rotated.jpg", stray["photo"], "zz_new.jpg"]
    seen = store.indexed_photos(event_id, wanted)
    assert set(seen) == {"obama2.jpg", "obama3-grey.png", "stage-rotated.jpg"}
    assert all("javascript" not in json.dumps(meta) for meta in seen.values())
    store.update(job_id, state="done")
    store.update(event_id, state="done")
    code, result = client.invoke(
        "review_match",
        {"job_id": job_id, "photo": "obama2.jpg", "verdict": "confirm", "add_reference": True},
    )
    assert code == 200 and result["reranked"] == 3, result
    status = store.status(job_id)
    assert {m["photo"] for m in status.matches} == set(seen)


# -- 4: other web sites, and DNS rebinding ------------------------------------------------

EVIL = "http://evil.example"


def web(local: LocalFindMe, action: str) -> str:
    return f"{local.api_host}/api/v1/web/guest/findme/{action}"


def test_a_page_of_another_origin_can_neither_search_nor_read(local: LocalFindMe) -> None:
    search = {"folder": "event", "reference_image": OBAMA, "threshold": 0.8}
    answer = httpx.post(web(local, "register_search.json"), json=search, headers={"Origin": EVIL})
    assert answer.status_code == 403
    assert "other web sites" in answer.json()["error"]
    assert "access-control-allow-origin" not in answer.headers
    preflight = httpx.options(
        web(local, "register_search.json"),
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    status = httpx.get(
        web(local, f"search_status.json?job_id={'0' * 32}"), headers={"Origin": EVIL}
    )
    assert status.status_code == 403
    # An <img> on the other site sends no Origin, but the browser says it is cross-site.
    photo = httpx.get(
        f"{local.api_host}/findme/photos/event/talk/obama2.jpg",
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert photo.status_code == 403
    folders = httpx.get(
        f"{local.api_host}/findme/folders", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert folders.status_code == 403


def test_the_page_of_the_server_itself_still_works(local: LocalFindMe) -> None:
    own = {"Origin": local.api_host, "Sec-Fetch-Site": "same-origin"}
    status = httpx.get(web(local, f"search_status.http?job_id={'0' * 32}"), headers=own)
    assert status.status_code == 404 and "no job" in status.json()["error"]
    assert "access-control-allow-origin" not in status.headers  # same origin needs none
    assert httpx.get(f"{local.api_host}/findme/photos/event/talk/obama2.jpg").status_code == 200
    assert httpx.get(f"{local.api_host}/").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:3233", "127.0.0.1.evil.example"])
def test_a_rebound_host_name_is_refused(local: LocalFindMe, host: str) -> None:
    answer = httpx.get(f"{local.api_host}/findme/folders", headers={"Host": host})
    assert answer.status_code == 403
    assert "does not answer for the host name" in answer.json()["error"]
    assert httpx.get(f"{local.api_host}/", headers={"Host": host}).status_code == 403


@pytest.mark.parametrize("host", ["localhost", "localhost:3233", "127.0.0.1:9", "[::1]:3233"])
def test_local_host_names_are_answered(local: LocalFindMe, host: str) -> None:
    assert httpx.get(f"{local.api_host}/findme/folders", headers={"Host": host}).status_code == 200


def test_origins_and_hosts_the_operator_names() -> None:
    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    access = Access.of("127.0.0.1", ["findme.lan"], ["https://me.example"])
    app = Starlette(routes=[Route("/findme/folders", hello, methods=["GET", "POST"])])
    transport = httpx.ASGITransport(app=AccessGuard(app, access))

    async def call() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return [
                await c.post("/findme/folders", headers={"Origin": "https://me.example"}),
                await c.post("/findme/folders", headers={"Origin": "https://other.example"}),
                await c.get("/findme/folders", headers={"Host": "findme.lan:3233"}),
                await c.get("/findme/folders", headers={"Host": "other.lan"}),
            ]

    named, other, lan, other_lan = asyncio.run(call())
    assert named.status_code == 200
    assert named.headers["access-control-allow-origin"] == "https://me.example"
    assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
    assert (lan.status_code, other_lan.status_code) == (200, 403)


# -- 6: the web secret covers every route but the page itself -----------------------------


def test_the_web_secret_covers_folders_and_photos(redis_client: redis.Redis, photo_root) -> None:
    with LocalFindMe(photo_root=photo_root, compare_workers=1, web_secret="s3cret") as local:
        base = local.api_host
        photo = f"{base}/findme/photos/event/talk/obama2.jpg"
        assert httpx.get(f"{base}/findme/folders").status_code == 401
        assert httpx.get(photo).status_code == 401
        assert httpx.get(photo, cookies={"findme_photos": "guess"}).status_code == 401
        wrong = httpx.get(f"{base}/findme/folders", headers={"X-Require-Whisk-Auth": "nope"})
        assert wrong.status_code == 401
        assert httpx.get(f"{base}/?secret=s3cret").status_code == 200  # the page loads
        with httpx.Client(base_url=base) as page:
            folders = page.get("/findme/folders", headers={"X-Require-Whisk-Auth": "s3cret"})
            assert folders.status_code == 200 and "event" in folders.json()["folders"]
            assert "s3cret" not in folders.headers["set-cookie"]
            # The page's <img> tags send the cookie that answer set.
            assert page.get("/findme/photos/event/talk/obama2.jpg").status_code == 200


# -- 16: form bodies ---------------------------------------------------------------------


def test_a_form_body_is_read(local: LocalFindMe, client: OpenWhiskClient) -> None:
    form = {"folder": "event/talk", "reference_path": "refs/obama.jpg", "threshold": "0.5"}
    started = httpx.post(web(local, "register_search.http"), data=form)
    assert started.status_code == 200, started.text
    status = wait_for_job(client, started.json()["job_id"])
    assert (status["state"], len(status["matches"])) == ("done", 3)
    unknown = httpx.post(web(local, "search_status.http"), data={"job_id": "0" * 32})
    assert unknown.status_code == 404 and "no job" in unknown.json()["error"]
    garbled = httpx.post(
        web(local, "search_status.json"),
        content=b"job_id=\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert garbled.status_code == 400 and "malformed" in garbled.json()["error"]


# -- 17: side effects only on POST -----------------------------------------------------------


def test_get_and_head_change_nothing(local: LocalFindMe, client: OpenWhiskClient) -> None:
    job_id = start(client, folder="event/talk", reference_image=OBAMA)
    wait_for_job(client, job_id)
    for action in ("delete_search", "review_match", "register_search"):
        query = f"job_id={job_id}&photo=obama2.jpg&verdict=reject&folder=event"
        query += "&reference_path=refs/obama.jpg"
        # The session's engine may have spent this minute's 60 invocations: waited out.
        got = wait_out_429(lambda: httpx.get(web(local, f"{action}.http?{query}")))  # noqa: B023
        assert got.status_code == 405
        assert got.json()["error"] == f"{action} changes data: send it as a POST request, not GET"
        head = wait_out_429(lambda: httpx.head(web(local, f"{action}.http?{query}")))  # noqa: B023
        assert head.status_code == 405
        httpx.get(web(local, f"{action}.json?{query}"))  # refused the same way, whatever status
    status = wait_for_job(client, job_id)
    assert len(status["matches"]) == 3  # not deleted, nothing rejected
    deleted = httpx.post(
        web(local, "delete_search.http"),
        json={"job_id": job_id, "owner_key": client.owner_keys[job_id]},
    )
    assert deleted.json() == {"job_id": job_id, "deleted": True}


# -- 18: odd inputs get a clear 400 or 404, never a 500 ------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["x.jpg%00.txt", "event/talk/obama2.jpg%00.txt", "a" * 300 + ".jpg", "a/" * 2100 + "x.jpg"],
)
def test_odd_photo_paths_are_not_found(local: LocalFindMe, path: str) -> None:
    answer = httpx.get(f"{local.api_host}/findme/photos/{path}")
    assert answer.status_code == 404
    assert answer.json()["error"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"folder": "event", "reference_path": "a" * 300 + ".jpg"}, "reference_path is too long"),
        ({"folder": "\ud800", "reference_image": OBAMA}, "folder is not valid text"),
        ({"query": "#x\ud800", "handle": "someone"}, "query is not valid text"),
        ({"folder": "a" * 300, "reference_image": OBAMA}, "folder is too long for a file name"),
        ({"folder": "", "reference_image": OBAMA}, "a folder, a list of photo URLs or a query"),
    ],
)
def test_odd_parameters_get_a_clear_400(
    client: OpenWhiskClient, params: dict, message: str
) -> None:
    code, result = client.invoke("register_search", params)
    assert (code, result["statusCode"]) == (502, 400), result
    assert result["error"].startswith(message)


def test_a_lone_surrogate_over_the_web(local: LocalFindMe) -> None:
    body = json.dumps({"folder": "\ud800", "reference_image": OBAMA})  # "\\ud800" on the wire
    answer = httpx.post(
        web(local, "register_search.http"),
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("folder is not valid text")


# -- 8: images bounded in pixels, bit depth and memory before decoding ----------------------

PEAK_SCRIPT = """
import resource, sys
from findme.images import PhotoError, decode_for_detection
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    print(decode_for_detection(data, 1600).rgb.shape)
except PhotoError as error:
    print(error)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def sixteen_bit_png(side: int) -> bytes:
    grey = np.zeros((side, side), dtype=np.uint16)
    grey[::7, ::5] = 40000
    out = io.BytesIO()
    Image.fromarray(grey).save(out, "PNG")
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels and holds none."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data).to_bytes(4, "big")
        return len(data).to_bytes(4, "big") + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_a_small_sixteen_bit_png_no_longer_costs_gigabytes(tmp_path) -> None:
    path = tmp_path / "bomb16.png"
    path.write_bytes(sixteen_bit_png(7000))
    assert path.stat().st_size < 150_000  # the attack's 95 KB file, give or take
    run = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(path)], capture_output=True, text=True, check=True
    )
    shape, peak_mb = run.stdout.split("\n")[:2]
    assert shape == "(1600, 1600, 3)"
    assert int(peak_mb) < 300  # 1,310 MB before the fix


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (lambda: png_header(100_000, 100_000), "image too large (10000 megapixels, limit 50)"),
        (lambda: sixteen_bit_png(7500), "image too large (56 megapixels, limit 50)"),
        (lambda: pv.encoded(Image.new("RGBA", (6000, 6000)), "PNG"), "limit 30)"),
    ],
)
def test_too_large_reference_photos_are_refused_at_once(
    client: OpenWhiskClient, data, message: str
) -> None:
    image = base64.b64encode(data()).decode()
    code, result = client.invoke("register_search", {"folder": "event", "reference_image": image})
    assert (code, result["statusCode"]) == (502, 400), result
    assert result["error"] == f"reference_image: {message}" or message in result["error"]


def test_a_too_large_reference_path_is_refused(client: OpenWhiskClient, local: LocalFindMe) -> None:
    (local.photo_root / "refs" / "huge.png").write_bytes(png_header(100_000, 100_000))
    code, result = client.invoke(
        "register_search", {"folder": "event", "reference_path": "refs/huge.png"}
    )
    assert (code, result["statusCode"]) == (502, 400)
    assert result["error"] == "reference_path: image too large (10000 megapixels, limit 50)"


@pytest.mark.parametrize(
    ("make", "format_name"),
    [
        # Small enough for OpenWhisk's 1 MB request as base64.
        (lambda: pv.encoded(pv.shrunk(pv.photo("obama.jpg"), 400).convert("RGB"), "GIF"), None),
        (lambda: pv.encoded(pv.shrunk(pv.photo("obama.jpg"), 400), "WEBP"), None),
        (lambda: pv.encoded(pv.shrunk(pv.photo("obama.jpg"), 400), "BMP"), None),
        (lambda: pv.encoded(pv.shrunk(pv.photo("obama.jpg"), 400), "TIFF"), "TIFF"),
    ],
)
def test_the_reference_formats_are_named(client: OpenWhiskClient, make, format_name) -> None:
    params = {"folder": "event/talk", "reference_image": base64.b64encode(make()).decode()}
    code, result = client.invoke("register_search", params)
    if format_name is None:
        assert code == 200, result
        return
    assert (code, result["statusCode"]) == (502, 400)
    assert result["error"] == (
        f"reference_image must be a JPEG, PNG, GIF, WebP or BMP image (this one is {format_name})"
    )


# -- 9: a FIFO, socket or device named like a photo --------------------------------------------


@pytest.fixture()
def fifo_folder(local: LocalFindMe) -> Iterator[Path]:
    folder = local.photo_root / "pipes"
    folder.mkdir(exist_ok=True)
    (folder / "obama2.jpg").write_bytes((local.photo_root / "event/talk/obama2.jpg").read_bytes())
    if not (folder / "fifo.jpg").exists():
        os.mkfifo(folder / "fifo.jpg")
    yield folder


def test_a_fifo_in_a_folder_is_never_opened(
    client: OpenWhiskClient, local: LocalFindMe, fifo_folder: Path, redis_client: redis.Redis
) -> None:
    job_id = start(client, folder="pipes", reference_image=OBAMA)
    # Time for the sweep to re-drive an activation the shared engine refused over the minute.
    status = wait_for_job(client, job_id, timeout=240)
    assert (status["state"], status["photos_total"], len(status["matches"])) == ("done", 1, 1)
    # If one gets through anyway (an event naming it), it is failed at once with the reason.
    store = JobStore(redis_client, 3600)
    event_id = store.fields(job_id)["event"]  # the place's event reads the photos
    store.update(event_id, state="comparing")
    store.enqueue(event_id, [{"photo": "fifo.jpg"}])
    auth = tuple(local.auth.split(":", 1))
    event = {"job_id": event_id}
    url = f"{local.api_host}/api/v1/namespaces/_/triggers/tweet_image"
    assert wait_out_429(lambda: httpx.post(url, json=event, auth=auth)).status_code == 202
    # Its activation may be refused over this minute's limit (no redelivery): the sweep
    # re-drives it. Waited for in Redis, not with invocations.
    deadline = time.monotonic() + 240
    while not store.status(job_id).failed:
        assert time.monotonic() < deadline, "the FIFO was never recorded as failed"
        time.sleep(0.2)
    assert store.status(job_id).failed == [
        {"photo": "fifo.jpg", "reason": "not a regular file (a FIFO)"}
    ]


def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.jpg")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "socket.jpg"))
        for name, kind in (("fifo.jpg", "a FIFO"), ("socket.jpg", "a socket")):
            with pytest.raises(PhotoError, match=f"not a regular file \\({kind}\\)"):
                read_limited(tmp_path / name)
    with pytest.raises(PhotoError, match="not a regular file \\(a device\\)"):
        read_limited(Path("/dev/zero"))
    source = FolderSource(root=tmp_path, folder=tmp_path)
    assert list(source.photos()) == []
