"""More than fifty bad inputs, each with a clear error or a failed photo with a reason."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image

from findme import replay
from findme.client import OpenWhiskClient
from findme.download import fetch
from findme.images import MAX_PHOTO_BYTES, PhotoError, decode_for_detection
from findme.local.runner import LocalFindMe
from findme.settings import Settings
from tests import photo_variants as pv
from tests.conftest import wait_for_job, wait_out_429

ALLOWED = Settings.load(env={}).allowed_media_hosts
OBAMA = base64.b64encode((pv.PHOTOS / "obama.jpg").read_bytes()).decode()
MEDIA = "https://pbs.twimg.com/media/F1.jpg"

# -- URLs: refused before any connection -----------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/media/a.jpg", "not on an allowed media host"),
        ("https://169.254.169.254/latest/meta-data/", "not on an allowed media host"),
        ("file:///etc/passwd", "only https"),
        ("http://pbs.twimg.com/media/a.jpg", "only https"),
        ("ftp://pbs.twimg.com/media/a.jpg", "only https"),
        ("https://evil.example.com/media/a.jpg", "not on an allowed media host"),
        ("https://pbs.twimg.com.evil.example/media/a.jpg", "not on an allowed media host"),
        ("https://pbs.twimg.com/secret/a.jpg", "not on an allowed media host"),
        ("https://user:pw@pbs.twimg.com/media/a.jpg", "credentials"),
        ("https://pbs.twimg.com:8443/media/a.jpg", "standard https port"),
        ("https://[::1]/media/a.jpg", "not on an allowed media host"),
        ("https://", "not on an allowed media host"),
        ("", "only https"),
        ("https://pbs.twimg.com:99999/media/a.jpg", "not a URL"),
        ("https://pbs.twimg.com/" + "a" * 3000, "not a URL"),
    ],
)
def test_urls_refused_before_connecting(url: str, reason: str) -> None:
    with pytest.raises(PhotoError, match=reason):
        fetch(url, ALLOWED)


@pytest.fixture()
def cassette(tmp_path: Path) -> Iterator[callable]:
    def start(interactions: list[dict], dns: dict[str, list[str]] | None = None) -> None:
        path = tmp_path / "cassette.json"
        (tmp_path / "photo.jpg").write_bytes(pv.encoded(pv.shrunk(pv.photo("biden.jpg"), 300)))
        path.write_text(
            json.dumps({"interactions": interactions, "dns": dns or replay.DEFAULT_DNS})
        )
        replay.install(path)

    yield start
    if replay._active is not None:
        replay._active.stop()
        replay._active = None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "169.254.169.254",
        "10.0.0.5",
        "192.168.1.20",
        "::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",
    ],
)
def test_hosts_resolving_to_private_addresses_are_refused(cassette, address: str) -> None:
    cassette(
        [{"url": MEDIA, "body_file": "photo.jpg", "headers": {"Content-Type": "image/jpeg"}}],
        dns={"pbs.twimg.com": ["151.101.36.159", address]},
    )
    with pytest.raises(PhotoError, match="resolves to a private or reserved address"):
        fetch(MEDIA, ALLOWED)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            {"status": 302, "headers": {"Location": "https://127.0.0.1/x.jpg"}},
            "redirects are not followed",
        ),
        (
            {"status": 301, "headers": {"Location": "http://169.254.169.254/"}},
            "redirects are not followed",
        ),
        ({"status": 404}, r"download failed \(HTTP 404\)"),
        ({"headers": {"Content-Type": "text/html"}}, "not an image"),
        (
            {"headers": {"Content-Type": "image/jpeg", "Content-Length": str(MAX_PHOTO_BYTES + 1)}},
            "too large",
        ),
    ],
)
def test_bad_answers_from_the_media_host(cassette, answer: dict, reason: str) -> None:
    cassette([{"url": MEDIA, "body_file": "photo.jpg", **answer}])
    with pytest.raises(PhotoError, match=reason):
        fetch(MEDIA, ALLOWED)


def test_a_good_answer_is_read(cassette) -> None:
    cassette([{"url": MEDIA, "body_file": "photo.jpg", "headers": {"Content-Type": "image/jpeg"}}])
    assert fetch(MEDIA, ALLOWED)[:2] == b"\xff\xd8"


# -- photo bytes --------------------------------------------------------------------

BOMB_SIDE = 8000


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: b"", "empty file"),
        (lambda: b"plain text", "not an image"),
        (lambda: b"<html><body>404</body></html>", "not an image"),
        (lambda: os.urandom(4096), "not an image"),
        (lambda: pv.encoded(pv.photo("obama2.jpg"))[:3000], "truncated or corrupt"),
        (lambda: pv.encoded(Image.new("1", (BOMB_SIDE, BOMB_SIDE)), "PNG"), "image too large"),
        (lambda: pv.encoded(Image.new("L", (9000, 6000))), "image too large"),
        (lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not an image|truncated or corrupt"),
        (lambda: b"GIF89a" + b"\x00" * 10, "not an image|truncated or corrupt"),
    ],
)
def test_bad_photo_bytes(make, reason: str) -> None:
    with pytest.raises(PhotoError, match=reason):
        decode_for_detection(make(), 1600)


# -- action parameters, over the REST API -------------------------------------------


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"folder": "event", "reference_image": OBAMA, "threshold": "nan"}, "threshold"),
        ({"folder": "event", "reference_image": OBAMA, "threshold": True}, "threshold"),
        ({"folder": "event", "reference_image": OBAMA, "threshold": [0.5]}, "threshold"),
        ({"folder": "event", "reference_image": OBAMA, "query": {"q": 1}}, "query"),
        ({"query": "#pycon", "handle": "bad handle!"}, "handle"),
        ({"query": "#pycon", "handle": "a" * 40}, "handle"),
        ({"handle": "someone"}, "query"),
        ({"query": "#pycon", "handle": "someone", "max_posts": 0}, "max_posts"),
        ({"query": "#pycon", "handle": "someone", "max_posts": "many"}, "max_posts"),
        ({"folder": "event\x00", "reference_image": OBAMA}, "folder"),
        ({"folder": "event", "reference_path": "event"}, "reference_path"),
        ({"folder": "event", "reference_path": "escape/passwd"}, "reference_path"),
        ({"folder": "escape", "reference_image": OBAMA}, "folder"),
        (
            {"folder": "event", "reference_image": base64.b64encode(b"\x00" * 100).decode()},
            "reference_image",
        ),
        (
            {"folder": "event", "reference_url": "https://pbs.twimg.com/secret/me.jpg"},
            "reference_url",
        ),
        ({"folder": "event", "reference_url": "file:///etc/passwd"}, "reference_url"),
    ],
)
def test_register_search_refuses(
    client: OpenWhiskClient, local: LocalFindMe, params: dict, named: str
) -> None:
    escape = local.photo_root / "escape"
    if not escape.exists():
        escape.symlink_to("/etc")  # a link that leaves the photo root
    code, result = client.invoke("register_search", params)
    assert (code, result["statusCode"]) == (502, 400), result
    assert named in result["error"]


@pytest.mark.parametrize(
    ("action", "params", "status", "message"),
    [
        ("compare_images", {"job_id": "0" * 32}, 404, "no job"),
        ("compare_images", {"job_id": "0" * 32, "drainer": 7}, 400, "drainer must be a string"),
        ("compare_images", {}, 400, "job_id is required"),
        ("twitter_search", {"job_id": "0" * 32}, 404, "no job"),
        ("twitter_search", {}, 400, "job_id is required"),
        ("search_status", {"job_id": "ABC" * 11}, 400, "job_id is not a FindMe job id"),
        ("search_status", {"job_id": 12345}, 400, "job_id must be a string"),
        ("delete_search", {"job_id": "0" * 32}, 404, "no job"),
    ],
)
def test_other_actions_refuse(
    client: OpenWhiskClient, action: str, params: dict, status: int, message: str
) -> None:
    code, result = client.invoke(action, params)
    assert (code, result["statusCode"]) == (502, status)
    assert message in result["error"]


def test_bad_photo_entries_fail_and_the_job_still_finishes(
    client: OpenWhiskClient, local: LocalFindMe
) -> None:
    from findme.jobs import JobStore
    from findme.store import redis_client

    _, result = client.invoke("register_search", {"folder": "event/talk", "reference_image": OBAMA})
    job_id = result["job_id"]
    wait_for_job(client, job_id)
    store = JobStore(redis_client(local.redis_url), 3600)
    event_id = store.fields(job_id)["event"]  # the place's event reads the photos
    store.update(event_id, state="comparing")
    bad = ["../../../etc/passwd", "/etc/hostname", "missing.jpg"]
    assert store.enqueue(event_id, [{"photo": p} for p in bad]) == 3
    fired = wait_out_429(
        lambda: requests.post(
            f"{local.api_host}/api/v1/namespaces/_/triggers/tweet_image",
            json={"job_id": event_id},
            auth=tuple(local.auth.split(":", 1)),
            timeout=10,
        )
    )
    assert fired.status_code == 202
    store.finish_search(event_id)
    # The shared engine may have refused that activation over this minute's limit (no
    # redelivery): the sweep re-drives it. Waited for in Redis, not with invocations.
    deadline = time.monotonic() + 240
    while (store.progress(event_id) or {}).get("photos_done", 0) < 6:
        assert time.monotonic() < deadline, "the bad entries were never recorded"
        time.sleep(0.2)
    status = wait_for_job(client, job_id)
    reasons = {f["photo"]: f["reason"] for f in status["failed"]}
    assert status["state"] == "done" and status["photos_done"] == status["photos_total"] == 6
    assert reasons["../../../etc/passwd"] == "photo is outside the photo root"
    assert reasons["/etc/hostname"] == "photo must be a path relative to the photo root"
    assert reasons["missing.jpg"].startswith("unreadable")


# -- the HTTP API -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/api/v1/namespaces/_/actions/findme/search_status", b"{not json", 400),
        ("post", "/api/v1/namespaces/_/actions/findme/search_status", b"[1, 2]", 400),
        ("post", "/api/v1/namespaces/_/triggers/tweet_image", b'"a string"', 400),
        ("get", "/api/v1/namespaces/_/activations?limit=abc", None, 400),
        ("post", "/api/v1/web/guest/findme/register_search.json", b"{broken", 400),
        ("post", "/api/v1/web/guest/findme/register_search.xml", b"{}", 404),
        ("get", "/api/v1/namespaces/_/actions/../../etc/passwd", None, 404),
    ],
)
def test_http_api_refuses(
    local: LocalFindMe, method: str, path: str, body: bytes | None, status: int
) -> None:
    response = requests.request(
        method,
        local.api_host + path,
        data=body,
        headers={"Content-Type": "application/json"},
        auth=tuple(local.auth.split(":", 1)),
        timeout=10,
    )
    assert response.status_code == status
    if status == 400:
        assert response.json()["error"]


def test_web_actions_can_require_a_secret(redis_client: object, photo_root: Path) -> None:
    with LocalFindMe(photo_root=photo_root, compare_workers=1, web_secret="s3cret-header") as local:
        url = f"{local.api_host}/api/v1/web/guest/findme/search_status.http?job_id={'0' * 32}"
        assert requests.get(url, timeout=10).status_code == 401
        assert (
            requests.get(url, headers={"X-Require-Whisk-Auth": "wrong"}, timeout=10).status_code
            == 401
        )
        ok = requests.get(url, headers={"X-Require-Whisk-Auth": "s3cret-header"}, timeout=10)
        assert ok.status_code == 404 and "no job" in ok.json()["error"]


# -- the CLI -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threshold", "abc"], "invalid float value"),
        (["--folder", str(pv.PHOTOS / "obama.jpg")], "is a file, not a folder"),
        (["--reference", str(pv.PHOTOS)], "cannot read reference"),
        (["--handle", "someone"], "give --reference photos or --handle, not both"),
        (["--reference", None], "give a reference: --reference PHOTO (repeat for up to 10"),
        (["--folder", None, "--query", ""], "give --folder DIR, or --query"),
    ],
)
def test_cli_refuses(args: list, message: str) -> None:
    base = {"--reference": str(pv.PHOTOS / "obama.jpg"), "--folder": str(pv.PHOTOS)}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [part for flag, value in base.items() if value is not None for part in (flag, value)]
    run = subprocess.run(
        [sys.executable, "-m", "findme", "search", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    last = run.stderr.strip().splitlines()[-1]  # argparse puts its usage above
    assert "error: " in last and message in last
