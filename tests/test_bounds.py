"""The attacks of issue 23 on `findme serve` itself, repeated against a real engine:
the photo routes, the REST API's key, the per-caller budget, the page's framing.

Attacks that need a foreign server (a Mastodon server, a media host) are in
tests/test_foreign_servers.py; docs/security.md lists every one and what stops it.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import redis

from findme.local.runner import LocalFindMe

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
