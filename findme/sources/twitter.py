"""Photos from X: recent search with tweepy, and a person's profile picture.

Only photos count (not videos or GIFs); retweets are left out by the query;
each photo carries its post URL and author; a live event's reading of new posts
asks X only for posts after the newest its previous reading saw (since_id).
Errors are bounded: a 429 waits for the reset time a few times, 5xx and network
errors back off a few times, 401/403 are about the token; a search cut short
keeps what it found.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import tweepy

from findme.download import fetch
from findme.settings import Settings
from findme.sources import SearchCutShort, SourceUnavailable
from findme.sources.newest import NewestSeen
from findme.store import job_store

__all__ = ["SearchCutShort", "XSource", "XUnavailable", "profile_picture_url"]

# tweepy logs request headers (the bearer token) at DEBUG: never let it.
logging.getLogger("tweepy").setLevel(logging.INFO)

HANDLE_PATTERN = re.compile(r"^@?([A-Za-z0-9_]{1,15})$")
DEFAULT_MAX_POSTS = 1000
MAX_RATE_LIMIT_WAITS = 2
MAX_RATE_LIMIT_WAIT_SECONDS = 120
MAX_RETRIES = 3
NEWEST_MARK = "x"  # the place X's newest post id is kept under (findme.sources.newest)
_TRANSIENT = (tweepy.TwitterServerError, requests.ConnectionError, requests.Timeout)


class XUnavailable(SourceUnavailable):
    """The X API refused or failed; str(error) says why, without the token."""


def _client(settings: Settings) -> tweepy.Client:
    if not settings.x_bearer_token:
        raise XUnavailable(
            "no X bearer token: set X_BEARER_TOKEN (locally) or the x_bearer_token package input"
        )
    return tweepy.Client(bearer_token=settings.x_bearer_token, wait_on_rate_limit=False)


def photo_variant(url: str, size: str) -> str:
    """https://pbs.twimg.com/media/ID.jpg -> .../media/ID?format=jpg&name=SIZE."""
    parts = urlsplit(url)
    stem, dot, extension = parts.path.rpartition(".")
    if not dot:
        return url
    return f"{parts.scheme}://{parts.netloc}{stem}?format={extension}&name={size}"


def _with_retries(call: Any, what: str) -> Any:
    """Runs one X API call with the bounded rate-limit and error policy."""
    waits = retries = 0
    while True:
        try:
            return call()
        except tweepy.TooManyRequests as error:
            waits += 1
            if waits > MAX_RATE_LIMIT_WAITS:
                raise XUnavailable(f"X rate limit reached {waits} times while {what}") from None
            reset = getattr(error, "reset_time", None) or 0
            time.sleep(min(max(reset - time.time(), 0) + 1, MAX_RATE_LIMIT_WAIT_SECONDS))
        except (tweepy.Unauthorized, tweepy.Forbidden) as error:
            code = error.response.status_code if error.response is not None else "401/403"
            raise XUnavailable(
                f"X refused the bearer token (HTTP {code}) while {what}: check x_bearer_token "
                "and that its app has access to recent search"
            ) from None
        except _TRANSIENT as error:
            retries += 1
            if retries > MAX_RETRIES:
                raise XUnavailable(f"X failed while {what} ({type(error).__name__})") from None
            time.sleep(0.5 * 2**retries)


def profile_picture_url(settings: Settings, handle: str) -> str:
    """The full-size profile picture of an X user (without the _normal suffix)."""
    username = HANDLE_PATTERN.match(handle)
    if not username:
        raise XUnavailable(f"{handle!r} is not an X username")
    client = _client(settings)
    response = _with_retries(
        lambda: client.get_user(username=username.group(1), user_fields=["profile_image_url"]),
        f"looking up @{username.group(1)}",
    )
    user = response.data
    if user is None or not getattr(user, "profile_image_url", None):
        raise XUnavailable(f"X user @{username.group(1)} does not exist")
    return re.sub(r"_normal(\.\w+)$", r"\1", user.profile_image_url)


def _photos_of(
    tweets: list[tweepy.Tweet], includes: dict[str, Any], size: str
) -> Iterator[dict[str, Any]]:
    media = {m.media_key: m for m in includes.get("media", [])}
    users = {u.id: u.username for u in includes.get("users", [])}
    for tweet in tweets:
        keys = (tweet.attachments or {}).get("media_keys", [])
        author = users.get(tweet.author_id)
        post_url = f"https://x.com/{author or 'i/web'}/status/{tweet.id}"
        for key in keys:
            item = media.get(key)
            if item is None or item.type != "photo" or not item.url:
                continue
            yield {
                "photo": photo_variant(item.url, size),
                "post_url": post_url,
                "author": author,
            }


def _id_order(mark: str) -> int | None:
    """X's post ids grow with time (decimal strings)."""
    return int(mark) if mark.isdigit() and len(mark) < 30 else None


@dataclass
class XSource:
    settings: Settings
    query: str
    max_posts: int = DEFAULT_MAX_POSTS
    # A live event's reading of new posts asks X for posts after the newest the
    # previous reading saw (since_id), and keeps the newest it sees.
    newest: NewestSeen = field(default_factory=NewestSeen)

    @classmethod
    def for_job(cls, job: dict[str, str], settings: Settings) -> XSource:
        return cls(
            settings,
            job.get("query", ""),
            int(job.get("max_posts", DEFAULT_MAX_POSTS)),
            NewestSeen.for_job(job, job_store(settings)),
        )

    def pages(self, cursor: str | None) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """Pages of X's recent search; the cursor holds X's next_token and the posts
        read so far (max_posts counts across activations)."""
        client = _client(self.settings)
        state = json.loads(cursor) if cursor else {"token": None, "posts": 0}
        token, posts = state.get("token"), int(state.get("posts", 0))
        query = self.query if "-is:retweet" in self.query else f"{self.query} -is:retweet"
        since_id = self.newest.before(NEWEST_MARK)
        read = 0
        while posts < self.max_posts:
            try:
                response = _with_retries(
                    lambda token=token: client.search_recent_tweets(
                        query=query,
                        max_results=max(10, min(100, self.max_posts)),
                        expansions=["attachments.media_keys", "author_id"],
                        media_fields=["url", "type", "width", "height"],
                        user_fields=["username"],
                        next_token=token,
                        since_id=since_id,
                    ),
                    "searching X",
                )
            except XUnavailable as error:
                if read == 0 and posts == 0:
                    raise
                reason = f"the X search was cut short after {posts} posts: {error}"
                raise SearchCutShort(reason) from None
            read += 1
            tweets = (response.data or [])[: self.max_posts - posts]
            # A reading of new posts stops at what it read before, even where since_id
            # was not honoured.
            tweets, reached_known = self.newest.unread(
                NEWEST_MARK, tweets, lambda tweet: str(tweet.id), _id_order
            )
            posts += len(tweets)
            token = (response.meta or {}).get("next_token")
            entries = list(_photos_of(tweets, response.includes or {}, self.settings.x_photo_size))
            more = token is not None and not reached_known and posts < self.max_posts
            yield entries, json.dumps({"token": token, "posts": posts}) if more else None
            if not more:
                return
        yield [], None

    def read(self, entry: dict[str, Any]) -> bytes:
        return fetch(str(entry.get("photo", "")), self.settings.allowed_media_hosts)
