"""The attacks of issue 23 that come from foreign servers and the links people give:
media hosts, Mastodon servers, lists of photo URLs. Each is repeated from outside:
through register_search, the listing and the downloads, against replayed answers
or a real (TLS) server on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import responses

from findme import replay
from findme.download import fetch
from findme.errors import BadRequest
from findme.images import PhotoError
from findme.settings import Settings
from findme.sources import mastodon_server
from findme.sources.urls import UrlListSource
from findme.stages.register import register_search
from tests import fake_https, x_api
from tests import mastodon_api as m
from tests import photo_variants as pv
from tests.fake_https import serve_bytes

BUCKET = "bucket.example.org"


# -- 12: an allowed path prefix is not left by .. in any spelling ----------------------------


@pytest.mark.parametrize(
    "path",
    [
        "alice/../bob/a.jpg",
        "alice/%2e%2e/bob/a.jpg",
        "alice/%2E%2e/bob/a.jpg",
        "alice%2f..%2fbob/a.jpg",
        "alice/%252e%252e/bob/a.jpg",
        "alice/..;/bob/a.jpg",
        "alice/..%5cbob/a.jpg",
        "alice/./../bob/a.jpg",
    ],
)
def test_an_allowed_path_prefix_cannot_be_climbed_out_of(path: str) -> None:
    url = f"https://{BUCKET}/{path}"
    allowed = {"url_hosts": f"{BUCKET}/alice/"}
    with pytest.raises(BadRequest, match=r"item 1 .*path climbs out of its folder"):
        register_search({"source": "urls", "urls": [url], "handle": "ada", **allowed})
    # A link queued anyway (an event's payload) is refused before any connection.
    source = UrlListSource(Settings.load(allowed, env={}), None, "")  # type: ignore[arg-type]
    with pytest.raises(PhotoError, match="climbs out of its folder"):
        source.read({"photo": url})


def test_photos_under_the_prefix_are_still_allowed() -> None:
    allowed = {"url_hosts": f"{BUCKET}/alice/"}
    urls = [f"https://{BUCKET}/alice/2026/a.jpg", f"https://{BUCKET}/alice/my%20photo.jpg"]
    with pytest.raises(BadRequest, match="a reference is required"):
        register_search({"source": "urls", "urls": urls, **allowed})  # the list itself passed


# -- 15: IPv6 forms of a private IPv4 address are private too -----------------------------


@pytest.fixture()
def replaying(tmp_path: Path) -> Iterator[Callable[..., None]]:
    """Answers the process's HTTP calls and DNS look-ups from a cassette."""

    def start(interactions: list[dict], dns: dict[str, list[str]] | None = None) -> None:
        mastodon_server._instances.clear()
        path = x_api.write_cassette(tmp_path, interactions)
        if dns is not None:
            path.write_text(json.dumps({**json.loads(path.read_text()), "dns": dns}))
        mocks.append(replay.install(path))

    mocks: list[responses.RequestsMock] = []
    yield start
    for mock in mocks:
        mock.stop()
        mock.reset()
    replay._active = None


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",  # IPv4-compatible
        "::8.8.8.8",  # IPv4-compatible, deprecated whatever it holds
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata service
        "64:ff9b:1::a00:1",  # NAT64's local-use prefix
        "2002:a9fe:a9fe::1",  # 6to4 of the metadata service
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    ],
)
def test_ipv6_forms_of_private_addresses_are_refused(replaying, address: str) -> None:
    replaying([], dns={"photos.example.org": [address]})
    with pytest.raises(PhotoError, match="resolves to a private or reserved address"):
        fetch("https://photos.example.org/a.jpg", frozenset({"photos.example.org"}))


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111"])
def test_public_ipv6_addresses_still_pass(replaying, address: str) -> None:
    url = "https://photos.example.org/a.jpg"
    replaying([m.photo(url, "obama2.jpg")], dns={"photos.example.org": [address]})
    assert fetch(url, frozenset({"photos.example.org"}))[:2] == b"\xff\xd8"  # a JPEG


# -- 8: a slow server's download or API call ends at a total deadline ------------------------

MEDIA_HOST = "media.example.org"
OBAMA_JPEG = (pv.PHOTOS / "obama.jpg").read_bytes()


@pytest.fixture()
def fake_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable]:
    yield from fake_https.servers(tmp_path, monkeypatch)


def test_a_photo_from_a_real_tls_server(fake_server) -> None:
    fake_server([MEDIA_HOST], lambda h: serve_bytes(h, OBAMA_JPEG, "image/jpeg"))
    assert fetch(f"https://{MEDIA_HOST}/a.jpg", frozenset({MEDIA_HOST})) == OBAMA_JPEG
