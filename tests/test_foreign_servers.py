"""The attacks of issue 23 that come from foreign servers and the links people give:
media hosts, Mastodon servers, lists of photo URLs. Each is repeated from outside:
through register_search, the listing and the downloads, against replayed answers
or a real (TLS) server on 127.0.0.1.
"""

from __future__ import annotations

import pytest

from findme.errors import BadRequest
from findme.images import PhotoError
from findme.settings import Settings
from findme.sources.urls import UrlListSource
from findme.stages.register import register_search

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
