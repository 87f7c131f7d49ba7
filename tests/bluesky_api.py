"""Recorded Bluesky XRPC responses (in the shapes bsky.social returns them) for replay.

The accounts and posts are made up; the photos in the posts are made from the
committed public-domain test photos (tests/photos/SOURCE.md).
"""

from __future__ import annotations

import secrets
from typing import Any

SERVICE = "https://bsky.social/xrpc"
CDN = "https://cdn.bsky.app/img"
ACCOUNT = "findme-bot.bsky.social"


def _made_up(kind: str) -> str:
    """A credential made up for this test run, in the shape of the real one:
    none is written in the repository."""
    if kind == "app password":
        return "-".join(secrets.token_hex(2) for _ in range(4))
    return f"test.{kind}.{secrets.token_urlsafe(24)}"


PASSWORD = _made_up("app password")
ACCESS = _made_up("access")
ACCESS_TWO = _made_up("access")
REFRESH = _made_up("refresh")
REFRESH_TWO = _made_up("refresh")
SECRETS = (PASSWORD, ACCESS, ACCESS_TWO, REFRESH, REFRESH_TWO)
SEARCH = f"{SERVICE}/app.bsky.feed.searchPosts"


def session(access: str = ACCESS, refresh: str = REFRESH, refreshed: bool = False) -> dict:
    name = "refreshSession" if refreshed else "createSession"
    return {
        "method": "POST",
        "url": f"{SERVICE}/com.atproto.server.{name}",
        "json": {
            "did": "did:plc:findmebot00000000000000",
            "handle": ACCOUNT,
            "accessJwt": access,
            "refreshJwt": refresh,
            "active": True,
        },
    }


def xrpc_error(url: str, status: int, error: str, message: str, method: str = "GET", **headers):
    return {
        "method": method,
        "url": url,
        "status": status,
        "headers": headers,
        "json": {"error": error, "message": message},
    }


def author(handle: str, labels: list[str] | None = None) -> dict[str, Any]:
    did = f"did:plc:{handle.split('.')[0]:0<24}"
    return {
        "did": did,
        "handle": handle,
        "displayName": handle.split(".")[0].title(),
        "labels": [
            {"src": did, "uri": f"at://{did}/app.bsky.actor.profile/self", "val": v}
            for v in labels or []
        ],
    }


def image_view(who: dict[str, Any], name: str, alt: str = "") -> dict[str, Any]:
    return {
        "thumb": f"{CDN}/feed_thumbnail/plain/{who['did']}/{name}@jpeg",
        "fullsize": f"{CDN}/feed_fullsize/plain/{who['did']}/{name}@jpeg",
        "alt": alt,
        "aspectRatio": {"width": 1200, "height": 800},
    }


def images(*views: dict[str, Any]) -> dict[str, Any]:
    return {"$type": "app.bsky.embed.images#view", "images": list(views)}


def record_with_media(media: dict[str, Any]) -> dict[str, Any]:
    return {
        "$type": "app.bsky.embed.recordWithMedia#view",
        "record": {"record": {"$type": "app.bsky.embed.record#viewNotFound", "uri": "at://x"}},
        "media": media,
    }


def gallery(*views: dict[str, Any]) -> dict[str, Any]:
    return {
        "$type": "app.bsky.embed.gallery#view",
        "items": [{"$type": "app.bsky.embed.gallery#viewItem", "image": v} for v in views],
    }


def video(who: dict[str, Any]) -> dict[str, Any]:
    return {
        "$type": "app.bsky.embed.video#view",
        "cid": "bafkreivideo",
        "playlist": f"https://video.bsky.app/watch/{who['did']}/bafkreivideo/playlist.m3u8",
        "thumbnail": f"https://video.cdn.bsky.app/hls/{who['did']}/bafkreivideo/thumbnail.jpg",
    }


def external(url: str, thumb: str) -> dict[str, Any]:
    return {
        "$type": "app.bsky.embed.external#view",
        "external": {"uri": url, "title": "Slides", "description": "", "thumb": thumb},
    }


def post(rkey: str, who: dict[str, Any], embed: dict | None, labels: list[str] = ()) -> dict:
    uri = f"at://{who['did']}/app.bsky.feed.post/{rkey}"
    return {
        "uri": uri,
        "cid": f"bafyrei{rkey}",
        "author": who,
        "record": {"$type": "app.bsky.feed.post", "text": "at the talk #pycon", "langs": ["en"]},
        **({"embed": embed} if embed else {}),
        "labels": [
            {"src": "did:plc:ar7c4by46qjdydhdevvrndac", "uri": uri, "val": v} for v in labels
        ],
        "indexedAt": "2026-11-29T18:00:00.000Z",
    }


def search_page(
    posts: list[dict[str, Any]],
    *,
    cursor: str | None = None,
    next_cursor: str | None = None,
    query: str = "%23pycon",
    since: str | None = None,
) -> dict[str, Any]:
    url = f"{SEARCH}?q={query}&sort=latest&limit=100" + (f"&since={since}" if since else "")
    url += f"&cursor={cursor}" if cursor else ""
    body: dict[str, Any] = {"posts": posts, "hitsTotal": 9}
    if next_cursor:
        body["cursor"] = next_cursor
    return {"url": url, "headers": {"RateLimit-Remaining": "2999"}, "json": body}


def profile(handle: str, avatar: str) -> dict[str, Any]:
    who = author(handle)
    return {
        "url": f"{SERVICE}/app.bsky.actor.getProfile?actor={handle}",
        "json": {**who, "avatar": avatar, "followersCount": 12},
    }


def photo(url: str, file: str) -> dict[str, Any]:
    return {"url": url, "headers": {"Content-Type": "image/jpeg"}, "body_file": file}


ANNA = author("anna.bsky.social")
BEN = author("ben.example.com")
CARA = author("cara.bsky.social")
DAN = author("dan.bsky.social", labels=["!no-unauthenticated"])
EVE = author("eve.bsky.social")
SPEAKER = author("speaker.bsky.social")
AVATAR = f"{CDN}/avatar/plain/{SPEAKER['did']}/bafkreiavatar@jpeg"
FOREIGN = "https://images.elsewhere.example/feed_fullsize/x.jpg"


def fullsize(who: dict[str, Any], name: str) -> str:
    return image_view(who, name)["fullsize"]


def pycon_interactions() -> list[dict[str, Any]]:
    """#pycon: two pages; image, record-with-media and gallery embeds, a video, a link
    card, an author who opted out of logged-out viewers, labelled posts (porn,
    graphic-media, nudity, sexual), a photo on a foreign host."""
    first = [
        post("3kpost1", ANNA, images(image_view(ANNA, "obama2", "On stage")), []),
        post("3kpost2", BEN, record_with_media(images(image_view(BEN, "biden")))),
        post("3kpost3", CARA, video(CARA)),
        post("3kpost4", DAN, images(image_view(DAN, "dan"))),
        post("3kpost5", EVE, images(image_view(EVE, "eve1")), ["porn"]),
        post("3kpost6", EVE, images(image_view(EVE, "eve2")), ["graphic-media"]),
    ]
    foreign = {"thumb": FOREIGN, "fullsize": FOREIGN, "alt": ""}
    second = [
        post("3kpost7", CARA, gallery(image_view(CARA, "group"), image_view(CARA, "biden2"))),
        post("3kpost8", EVE, images(image_view(EVE, "eve3")), ["nudity"]),
        post("3kpost9", EVE, images(image_view(EVE, "eve4")), ["sexual"]),
        post("3kposta", BEN, external("https://slides.example/talk", f"{CDN}/x@jpeg")),
        post("3kpostb", ANNA, images(foreign)),
    ]
    return [
        session(),
        search_page(first, next_cursor="6"),
        search_page(second, cursor="6"),
        profile("speaker.bsky.social", AVATAR),
        photo(AVATAR, "obama.jpg"),
        photo(fullsize(ANNA, "obama2"), "obama2.jpg"),
        photo(fullsize(BEN, "biden"), "biden.jpg"),
        photo(fullsize(CARA, "group"), "group.jpg"),
        photo(fullsize(CARA, "biden2"), "biden.jpg"),
    ]
