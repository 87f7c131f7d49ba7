"""Recorded X API v2 responses (in the shapes X returns them) for replay in tests."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from tests import photo_variants as pv

API = "https://api.twitter.com/2"
SEARCH = f"{API}/tweets/search/recent"
# Made up for each test run: no credential is written in the repository.
TOKEN = f"findme-test-{secrets.token_urlsafe(32)}"


def user(username: str, picture: str) -> dict[str, Any]:
    return {
        "url": f"{API}/users/by/username/{username}",
        "json": {
            "data": {
                "id": "9001",
                "name": username.title(),
                "username": username,
                "profile_image_url": picture,
            }
        },
    }


def no_such_user(username: str) -> dict[str, Any]:
    return {
        "url": f"{API}/users/by/username/{username}",
        "json": {
            "errors": [
                {
                    "value": username,
                    "detail": f"Could not find user with username: [{username}].",
                    "title": "Not Found Error",
                    "resource_type": "user",
                    "parameter": "username",
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
            ]
        },
    }


def tweet(tweet_id: str, author_id: str, media_keys: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": tweet_id,
        "text": f"at the talk #pycon {tweet_id}",
        "author_id": author_id,
        "edit_history_tweet_ids": [tweet_id],
    }
    if media_keys:
        body["attachments"] = {"media_keys": media_keys}
    return body


def media(key: str, kind: str, name: str = "") -> dict[str, Any]:
    item: dict[str, Any] = {"media_key": key, "type": kind, "width": 1200, "height": 800}
    if kind == "photo":
        item["url"] = f"https://pbs.twimg.com/media/{name}.jpg"
    else:
        item["preview_image_url"] = (
            f"https://pbs.twimg.com/ext_tw_video_thumb/{key}/pu/img/{name}.jpg"
        )
    return item


def page(
    tweets: list[dict],
    media_items: list[dict] | None,
    users: dict[str, str],
    next_token: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "data": tweets,
        "meta": {
            "result_count": len(tweets),
            "newest_id": tweets[0]["id"],
            "oldest_id": tweets[-1]["id"],
        },
    }
    if next_token:
        body["meta"]["next_token"] = next_token
    if media_items is not None:  # X leaves includes out when no tweet has expansions
        body["includes"] = {
            "media": media_items,
            "users": [{"id": i, "name": n.title(), "username": n} for i, n in users.items()],
        }
    return {"url": SEARCH, "json": body}


def error(url: str, status: int, **headers: str) -> dict[str, Any]:
    titles = {
        401: "Unauthorized",
        403: "Forbidden",
        429: "Too Many Requests",
        503: "Service Unavailable",
    }
    return {
        "url": url,
        "status": status,
        "headers": headers,
        "json": {
            "title": titles.get(status, "Error"),
            "detail": titles.get(status, "Error"),
            "type": "about:blank",
            "status": status,
        },
    }


def photo(name: str, file: str) -> dict[str, Any]:
    return {
        "url": f"https://pbs.twimg.com/media/{name}?format=jpg&name=medium",
        "headers": {"Content-Type": "image/jpeg"},
        "body_file": file,
    }


def profile_picture(url: str, file: str) -> dict[str, Any]:
    return {"url": url, "headers": {"Content-Type": "image/jpeg"}, "body_file": file}


def write_photos(folder: Path) -> None:
    """The photos the posts show, made from the committed public-domain photos."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "obama2.jpg": pv.encoded(pv.shrunk(pv.photo("obama2.jpg"), 1200)),
        "biden.jpg": pv.encoded(pv.shrunk(pv.photo("biden.jpg"), 1200)),
        "group.jpg": pv.encoded(
            pv.shrunk(pv.group(pv.photo("biden.jpg"), pv.photo("obama3.jpg")), 1200)
        ),
        "obama.jpg": (pv.PHOTOS / "obama.jpg").read_bytes(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)


def write_cassette(folder: Path, interactions: list[dict[str, Any]]) -> Path:
    write_photos(folder)
    path = folder / "cassette.json"
    path.write_text(json.dumps({"interactions": interactions}, indent=1))
    return path


PICTURE = "https://pbs.twimg.com/profile_images/1500/speaker_normal.jpg"
USERS = {"11": "alice", "12": "bob", "13": "carol", "14": "dave"}


def pycon_interactions() -> list[dict[str, Any]]:
    """#pycon: two pages (a 429 between them), photos among videos and GIFs, a post
    with two photos, a photo posted twice, and a page without includes."""
    return [
        user("obama_speaker", PICTURE),
        profile_picture(PICTURE.replace("_normal", ""), "obama.jpg"),
        page(
            [
                tweet("101", "11", ["3_1", "3_2"]),
                tweet("102", "12", ["7_1", "16_1"]),
                tweet("103", "13", ["3_3"]),
            ],
            [
                media("3_1", "photo", "OBAMA2"),
                media("3_2", "photo", "BIDEN"),
                media("7_1", "video", "clip"),
                media("16_1", "animated_gif", "gif"),
                media("3_3", "photo", "GROUP"),
            ],
            USERS,
            next_token="b26v89c19zqg8o3fpzbkk",
        ),
        error(SEARCH, 429, **{"x-rate-limit-reset": "1700000000", "x-rate-limit-remaining": "0"}),
        page(
            [tweet("104", "14", ["3_4"]), tweet("105", "12", ["3_5"])],
            [media("3_4", "photo", "BIDEN2"), media("3_5", "photo", "OBAMA2")],
            USERS,
            next_token="c37w90d20arh9p4gqacll",
        ),
        page([tweet("106", "11", [])], None, USERS),  # no media at all: no includes
        photo("OBAMA2", "obama2.jpg"),
        photo("BIDEN", "biden.jpg"),
        photo("GROUP", "group.jpg"),
        photo("BIDEN2", "biden.jpg"),
    ]
