"""Recorded Mastodon API responses (in the shapes Mastodon 4.5 returns them) for replay.

The servers, accounts and posts are made up; the photos in the posts are made
from the committed public-domain test photos (tests/photos/SOURCE.md).
"""

from __future__ import annotations

import secrets
import zlib
from typing import Any

SERVER = "mastodon.example"
MEDIA = "files.mastodon.example"
SECOND = "fosstodon.example"
SECOND_MEDIA = "cdn.fosstodon.example"
LOCKED = "locked.example"
REMOTE_MEDIA = "files.remote.example"
# Made up for each test run: no credential is written in the repository.
TOKEN = f"findme-test-{secrets.token_urlsafe(24)}"


def instance(server: str, media_host: str, hashtag_feeds: str = "public") -> dict[str, Any]:
    return {
        "url": f"https://{server}/api/v2/instance",
        "json": {
            "domain": server,
            "title": server.title(),
            "version": "4.5.0",
            "thumbnail": {
                "url": f"https://{media_host}/site_uploads/files/000/000/001/@1x/thumb.png"
            },
            "configuration": {
                "urls": {"streaming": f"wss://{server}"},
                "timelines_access": {
                    "live_feeds": {"local": "public", "remote": "public"},
                    "hashtag_feeds": {"local": hashtag_feeds, "remote": hashtag_feeds},
                    "trending_link_feeds": {"local": "public", "remote": "public"},
                },
            },
        },
    }


def account(
    acct: str,
    *,
    indexable: bool = True,
    discoverable: bool = True,
    noindex: bool = False,
    avatar: str | None = None,
) -> dict[str, Any]:
    username = acct.split("@")[0]
    return {
        "id": str(zlib.crc32(acct.encode())),
        "username": username,
        "acct": acct,
        "display_name": username.title(),
        "discoverable": discoverable,
        "indexable": indexable,
        "noindex": noindex,
        "avatar": avatar or f"https://{MEDIA}/accounts/avatars/000/000/001/original/a.png",
        "avatar_static": avatar or f"https://{MEDIA}/accounts/avatars/000/000/001/original/a.png",
    }


def image(url: str, *, remote_url: str | None = None, description: str | None = None) -> dict:
    return {
        "id": str(zlib.crc32(url.encode())),
        "type": "image",
        "url": url,
        "preview_url": url.replace("/original/", "/small/"),
        "remote_url": remote_url,
        "description": description,
    }


def video(url: str) -> dict[str, Any]:
    return {"id": "77", "type": "gifv", "url": url, "remote_url": None, "description": None}


def status(
    status_id: str,
    who: dict[str, Any],
    media: list[dict[str, Any]],
    *,
    server: str = SERVER,
    visibility: str = "public",
    sensitive: bool = False,
) -> dict[str, Any]:
    name = who["acct"].split("@")[0]
    host = who["acct"].split("@")[1] if "@" in who["acct"] else server
    return {
        "id": status_id,
        "uri": f"https://{host}/users/{name}/statuses/{status_id}",
        "url": f"https://{host}/@{name}/{status_id}",
        "visibility": visibility,
        "sensitive": sensitive,
        "spoiler_text": "",
        "content": "<p>at the talk #pycon</p>",
        "reblog": None,
        "account": who,
        "media_attachments": media,
        "tags": [{"name": "pycon", "url": f"https://{server}/tags/pycon"}],
    }


def tag_page(
    server: str,
    statuses: list[dict[str, Any]],
    *,
    max_id: str | None = None,
    next_max_id: str | None = None,
    tag: str = "pycon",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    base = f"https://{server}/api/v1/timelines/tag/{tag}"
    query = (
        "only_media=true&limit=40"
        if max_id is None
        else f"limit=40&max_id={max_id}&only_media=true"
    )
    links = []
    if next_max_id:
        links.append(f'<{base}?limit=40&max_id={next_max_id}&only_media=true>; rel="next"')
    if statuses:
        links.append(f'<{base}?limit=40&min_id={statuses[0]["id"]}&only_media=true>; rel="prev"')
    return {
        "url": f"{base}?{query}",
        "headers": {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "297",
            "X-RateLimit-Reset": "2026-11-30T01:05:00.000Z",
            **({"Link": ", ".join(links)} if links else {}),
            **(headers or {}),
        },
        "json": statuses,
    }


def error(url: str, code: int, message: str, **headers: str) -> dict[str, Any]:
    return {"url": url, "status": code, "headers": headers, "json": {"error": message}}


def lookup(server: str, name: str, who: dict[str, Any]) -> dict[str, Any]:
    return {"url": f"https://{server}/api/v1/accounts/lookup?acct={name}", "json": who}


def photo(url: str, file: str) -> dict[str, Any]:
    return {"url": url, "headers": {"Content-Type": "image/jpeg"}, "body_file": file}


def media_url(host: str, name: str, cache: bool = False) -> str:
    folder = "cache/media_attachments" if cache else "media_attachments"
    return f"https://{host}/{folder}/files/000/000/{name}/original/{name}.jpg"


# The people of the #pycon scenario.
ALICE = account("alice")
BOB = account("bob")
CAROL = account("carol")
DAVE = account("dave", indexable=False, discoverable=True)
ERIN = account("erin", noindex=True)
FRANK = account("frank@remote.example")
GINA = account("gina")
HAL = account("hal")
AVATAR = f"https://{MEDIA}/accounts/avatars/000/000/042/original/speaker.jpg"
SPEAKER = account("speaker", avatar=AVATAR)
GROUP_ORIGIN = media_url(REMOTE_MEDIA, "group")
FOREIGN = "https://tracker.example/pixel.jpg"


def pycon_interactions(locked_status: int = 401) -> list[dict[str, Any]]:
    """#pycon on three servers: mastodon.example (two pages: public, unlisted and
    private posts, an opted-out, a discoverable-only and a noindex author, a video, a
    sensitive remote post, a photo on a foreign host), fosstodon.example (the same
    remote post again) and locked.example (hashtag feeds for logged-in users only)."""
    first = [
        status("109", ALICE, [image(media_url(MEDIA, "obama2")), video(media_url(MEDIA, "clip"))]),
        status("108", BOB, [image(media_url(MEDIA, "biden"))], visibility="unlisted"),
        status("107", CAROL, [image(media_url(MEDIA, "obama3"))], visibility="private"),
        status("106", DAVE, [image(media_url(MEDIA, "dave"))]),
        status("105", ERIN, [image(media_url(MEDIA, "erin"))]),
        status(
            "104",
            FRANK,
            [
                image(
                    media_url(MEDIA, "group", cache=True),
                    remote_url=GROUP_ORIGIN,
                    description="Two speakers on stage",
                )
            ],
            sensitive=True,
        ),
    ]
    second = [
        status("103", GINA, [image(FOREIGN)]),
        status("102", HAL, [image(media_url(MEDIA, "biden2"))]),
    ]
    again = [
        status(
            "204",
            FRANK,
            [image(media_url(SECOND_MEDIA, "group", cache=True), remote_url=GROUP_ORIGIN)],
            server=SECOND,
        )
    ]
    again[0]["url"] = first[-1]["url"]  # one post: its link is the origin's everywhere
    locked_page = f"https://{LOCKED}/api/v1/timelines/tag/pycon?only_media=true&limit=40"
    return [
        instance(SERVER, MEDIA),
        tag_page(SERVER, first, next_max_id="104"),
        tag_page(SERVER, second, max_id="104"),
        instance(SECOND, SECOND_MEDIA),
        tag_page(SECOND, again),
        instance(LOCKED, "media.locked.example", hashtag_feeds="authenticated"),
        error(locked_page, locked_status, "This API requires an authenticated user")
        if locked_status != 200
        else tag_page(LOCKED, []),
        lookup(SERVER, "speaker", SPEAKER),
        photo(AVATAR, "obama.jpg"),
        photo(media_url(MEDIA, "obama2"), "obama2.jpg"),
        photo(media_url(MEDIA, "group", cache=True), "group.jpg"),
        photo(media_url(SECOND_MEDIA, "group", cache=True), "group.jpg"),
        photo(media_url(MEDIA, "biden2"), "biden.jpg"),
        photo(media_url(MEDIA, "dave"), "biden.jpg"),
    ]
