"""Photos from Bluesky's post search (`app.bsky.feed.searchPosts`), and a person's
avatar (`app.bsky.actor.getProfile`).

100 posts a page, newest first; a live event's reading of new posts asks only for
posts since the newest its previous reading saw (findme.sources.newest).
Photos come from image embeds, the media of a record-with-media embed, and
gallery embeds, and are downloaded only from cdn.bsky.app's image paths. People's
choices are honoured: authors labelled `!no-unauthenticated` (they asked not to be
shown to logged-out viewers) and posts labelled porn, sexual, nudity or
graphic-media are left out.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from findme.download import ApiResponse, fetch
from findme.settings import Settings
from findme.sources import SearchCutShort, SourceUnavailable
from findme.sources.bluesky_session import BlueskyClient, BlueskyUnavailable
from findme.sources.newest import NewestSeen
from findme.sources.pacing import reset_time, wait_until
from findme.store import job_store

PAGE_LIMIT = 100
DEFAULT_MAX_POSTS = 1000
MAX_RATE_LIMIT_WAITS = 2
MAX_RETRIES = 2
NEWEST_MARK = "bluesky"  # the place the newest post's time is kept under (findme.sources.newest)
CDN_HOSTS = frozenset({"cdn.bsky.app/img/"})
OPTED_OUT_AUTHOR = "!no-unauthenticated"
ADULT_OR_GRAPHIC = {"porn", "sexual", "nudity", "graphic-media"}
HANDLE_PATTERN = re.compile(
    r"^@?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?)$",
    re.IGNORECASE,
)


def parse_handle(handle: str) -> str | None:
    found = HANDLE_PATTERN.match(handle.strip())
    return found.group(1).lower() if found and len(found.group(1)) <= 253 else None


def _labels(item: dict[str, Any]) -> set[str]:
    values = {
        str(label.get("val")) for label in item.get("labels") or [] if isinstance(label, dict)
    }
    record_labels = (item.get("record") or {}).get("labels") or {}
    if isinstance(record_labels, dict):  # the author's self-labels on the post
        values |= {
            str(v.get("val")) for v in record_labels.get("values") or [] if isinstance(v, dict)
        }
    return values


def _images(embed: Any) -> list[dict[str, Any]]:
    """The images of an embed view: images#view, a recordWithMedia#view's media, or a
    gallery's items; video, links and quoted posts have none."""
    if not isinstance(embed, dict):
        return []
    kind = str(embed.get("$type", ""))
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        return _images(embed.get("media"))
    if not (kind.startswith("app.bsky.embed.images") or "gallery" in kind):
        return []
    found = []
    for item in embed.get("images") or embed.get("items") or []:
        if isinstance(item, dict) and not isinstance(item.get("fullsize"), str):
            item = item.get("image")  # a gallery item wrapping its image view
        if isinstance(item, dict) and isinstance(item.get("fullsize"), str):
            found.append(item)
    return found


def photos_of(posts: list[Any]) -> list[dict[str, Any]]:
    entries = []
    for post in posts:
        if not isinstance(post, dict):
            continue
        author = post.get("author") or {}
        if OPTED_OUT_AUTHOR in _labels(author) or ADULT_OR_GRAPHIC & _labels(post):
            continue
        handle = str(author.get("handle") or author.get("did") or "")
        rkey = str(post.get("uri", "")).rstrip("/").rsplit("/", 1)[-1]
        post_url = f"https://bsky.app/profile/{handle}/post/{rkey}" if handle and rkey else None
        for image in _images(post.get("embed")):
            entry: dict[str, Any] = {
                "photo": image["fullsize"],
                "post_url": post_url,
                "author": handle or None,
            }
            if image.get("alt"):
                entry["alt"] = str(image["alt"])[:1500]
            entries.append(entry)
    return entries


def _search_page(client: BlueskyClient, params: dict[str, Any], settings: Settings) -> ApiResponse:
    """One page of the search, waiting out a rate limit when there is time for it."""
    waits = retries = 0
    while True:
        response = client.get("app.bsky.feed.searchPosts", params)
        if response.status_code == 429:
            waits += 1
            reset = reset_time(response.headers.get("RateLimit-Reset"))
            if waits > MAX_RATE_LIMIT_WAITS or not wait_until(reset, settings):
                raise BlueskyUnavailable("Bluesky's rate limit was reached")
            continue
        if response.status_code >= 500 and retries < MAX_RETRIES:
            retries += 1
            time.sleep(0.5 * 2**retries)
            continue
        if response.status_code != 200 or not isinstance(response.json, dict):
            message = response.json.get("message") if isinstance(response.json, dict) else None
            detail = f": {str(message)[:200]}" if message else ""
            raise BlueskyUnavailable(
                f"Bluesky refused the search (HTTP {response.status_code}){detail}"
            )
        return response


def _moment(value: Any) -> datetime | None:
    """An ISO time of Bluesky's (naive ones read as UTC); None if it is not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _sorted_at(post: Any) -> str | None:
    """When Bluesky's search sorts a post (its sortAt: the earlier of when the post says
    it was written and when Bluesky indexed it), as a UTC time; None if neither reads."""
    if not isinstance(post, dict):
        return None
    record = post.get("record") if isinstance(post.get("record"), dict) else {}
    moments = [m for m in (_moment(post.get("indexedAt")), _moment(record.get("createdAt"))) if m]
    if not moments:
        return None
    return min(moments).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class BlueskySource:
    settings: Settings
    query: str
    max_posts: int = DEFAULT_MAX_POSTS
    # A live event's reading of new posts asks Bluesky for posts `since` the newest
    # the previous reading saw (inclusive: that one is listed again, and known), and
    # keeps the newest it sees.
    newest: NewestSeen = field(default_factory=NewestSeen)

    @classmethod
    def for_job(cls, job: dict[str, str], settings: Settings) -> BlueskySource:
        return cls(
            settings,
            job.get("query", ""),
            int(job.get("max_posts", DEFAULT_MAX_POSTS)),
            NewestSeen.for_job(job, job_store(settings)),
        )

    def pages(self, cursor: str | None) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """Pages of searchPosts (sort=latest); the cursor holds Bluesky's cursor and
        the posts read so far."""
        client = BlueskyClient(self.settings)
        state = json.loads(cursor) if cursor else {}
        token, posts = state.get("cursor"), int(state.get("posts", 0))
        since = self.newest.before(NEWEST_MARK)
        read = 0
        while posts < self.max_posts:
            params = {"q": self.query, "sort": "latest", "limit": str(PAGE_LIMIT)}
            if _moment(since) is not None:
                params["since"] = since
            if token:
                params["cursor"] = token
            try:
                response = _search_page(client, params, self.settings)
            except SourceUnavailable as error:
                if read == 0 and posts == 0:
                    raise
                reason = f"the Bluesky search was cut short after {posts} posts: {error}"
                raise SearchCutShort(reason) from None
            read += 1
            found = response.json.get("posts") or []
            found = found[: self.max_posts - posts] if isinstance(found, list) else []
            # A live event's reading of new posts stops at what it read before.
            found, reached_known = self.newest.unread(
                NEWEST_MARK, found, _sorted_at, _moment, inclusive=True
            )
            posts += len(found)
            token = response.json.get("cursor")
            more = bool(token) and bool(found) and not reached_known and posts < self.max_posts
            next_state = json.dumps({"cursor": token, "posts": posts}) if more else None
            yield photos_of(found), next_state
            if not more:
                return
        yield [], None

    def read(self, entry: dict[str, Any]) -> bytes:
        return fetch(str(entry.get("photo", "")), CDN_HOSTS)


def profile_picture(settings: Settings, handle: str) -> tuple[str, frozenset[str]]:
    """The avatar of a Bluesky handle, and where it may be fetched from."""
    name = parse_handle(handle)
    if name is None:
        raise SourceUnavailable(f"{handle!r} is not a Bluesky handle like name.bsky.social")
    response = BlueskyClient(settings).get("app.bsky.actor.getProfile", {"actor": name})
    if response.status_code == 400 and isinstance(response.json, dict):
        raise SourceUnavailable(f"Bluesky account {name} does not exist")
    if response.status_code != 200 or not isinstance(response.json, dict):
        raise SourceUnavailable(f"Bluesky failed looking up {name} (HTTP {response.status_code})")
    avatar = response.json.get("avatar")
    if not isinstance(avatar, str) or not avatar:
        raise SourceUnavailable(f"Bluesky account {name} has no profile picture")
    return avatar, CDN_HOSTS
