"""API calls to one Mastodon server: paced by its X-RateLimit-* headers, retried a
little, with its access token (if the operator set one for it), and what its
instance description says about its media host and hashtag feeds."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from findme.download import ApiResponse, call_api
from findme.images import PhotoError
from findme.settings import Settings
from findme.sources import SourceUnavailable
from findme.sources.pacing import remaining, reset_time, wait_until

MAX_RETRIES = 2
MAX_RATE_LIMIT_WAITS = 2
INSTANCE_CACHE_SECONDS = 600
# A warm worker remembers this many servers' descriptions (callers name servers).
MAX_CACHED_INSTANCES = 64
# Mastodon serves its uploads from one media host (thumbnail and icons share it):
# a description naming more is taken at its first few, never at thousands.
MAX_MEDIA_HOSTS = 2
MAX_ICONS_READ = 20


class RateLimited(SourceUnavailable):
    """The server's rate limit was reached and there is no time to wait for it."""


@dataclass
class ServerInfo:
    hosts: frozenset[str]  # the server and its media host: where downloads may go
    hashtag_feeds: dict[str, str] = field(default_factory=dict)


_instances: dict[str, tuple[float, ServerInfo]] = {}


class MastodonServer:
    """API calls to one server, paced by its X-RateLimit-* headers."""

    def __init__(self, host: str, settings: Settings) -> None:
        self.host, self.settings = host, settings
        self.token = settings.mastodon_tokens.get(host)
        self.blocked_until: float | None = None

    def get(self, url: str, params: dict[str, Any] | None = None) -> ApiResponse:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        waits = retries = 0
        while True:
            blocked = self.blocked_until and self.blocked_until > time.time()
            if blocked and not wait_until(self.blocked_until, self.settings):
                raise self._rate_limited()
            self.blocked_until = None
            try:
                response = call_api(
                    "GET", url, frozenset({self.host}), headers=headers, params=params
                )
            except PhotoError as error:
                retries += 1
                if retries > MAX_RETRIES or "did not answer" not in str(error):
                    raise SourceUnavailable(f"{self.host} could not be reached: {error}") from None
                time.sleep(0.5 * 2**retries)
                continue
            reset = reset_time(response.headers.get("X-RateLimit-Reset"))
            if response.status_code == 429:
                waits += 1
                self.blocked_until = reset or time.time() + 300
                if waits > MAX_RATE_LIMIT_WAITS:
                    raise self._rate_limited()
                continue
            if response.status_code >= 500 and retries < MAX_RETRIES:
                retries += 1
                time.sleep(0.5 * 2**retries)
                continue
            left = remaining(response.headers, "X-RateLimit-Remaining")
            if left is not None and left <= 1:
                self.blocked_until = reset or time.time() + 300
            return response

    def _rate_limited(self) -> RateLimited:
        at = time.strftime("%H:%M:%S UTC", time.gmtime(self.blocked_until or time.time()))
        return RateLimited(
            f"{self.host}'s rate limit (300 requests per 5 minutes) was reached; it resets at {at}"
        )

    def info(self) -> ServerInfo:
        """Where the server keeps its media, and who may read its hashtag feeds."""
        cached = _instances.get(self.host)
        if cached and time.time() - cached[0] < INSTANCE_CACHE_SECONDS:
            return cached[1]
        response = self.get(f"https://{self.host}/api/v2/instance")
        if response.status_code == 404:  # before Mastodon 4.0
            response = self.get(f"https://{self.host}/api/v1/instance")
        document = response.json if isinstance(response.json, dict) else None
        if response.status_code != 200 or document is None:
            # No word on a media host: downloads only from the server itself.
            return ServerInfo(frozenset({self.host}))
        access = as_dict(
            as_dict(as_dict(document.get("configuration")).get("timelines_access")).get(
                "hashtag_feeds"
            )
        )
        hosts = frozenset({self.host, *_media_hosts(document)})
        info = ServerInfo(hosts, {k: v for k, v in access.items() if isinstance(v, str)})
        if len(_instances) >= MAX_CACHED_INSTANCES:
            del _instances[min(_instances, key=lambda h: _instances[h][0])]  # the oldest
        _instances[self.host] = (time.time(), info)
        return info

    def restricted(self, why: str) -> SourceUnavailable:
        return SourceUnavailable(
            f"{self.host} lets only logged-in users read its hashtag feeds ({why}): "
            f"its operator's choice; a FindMe operator can set an access token for "
            f"{self.host} (mastodon_token)"
        )

    def refused(self, response: ApiResponse, what: str) -> SourceUnavailable:
        """Why the server refused a call, in a person's words."""
        code = response.status_code
        if code in (401, 403):
            if self.token:
                return SourceUnavailable(
                    f"{self.host} refused FindMe's access token while {what} (HTTP {code})"
                )
            return self.restricted(f"HTTP {code}")
        if code == 404:
            return SourceUnavailable(f"{self.host} has no such page while {what} (HTTP 404)")
        if code == 422:
            return SourceUnavailable(f"{self.host} refused the search while {what} (HTTP 422)")
        return SourceUnavailable(f"{self.host} failed while {what} (HTTP {code})")


def as_dict(value: Any) -> dict[str, Any]:
    """An object of a server's answer, or {} when the server put something else there."""
    return value if isinstance(value, dict) else {}


def _media_hosts(document: dict[str, Any]) -> list[str]:
    """Where the server keeps its uploads: the host of its thumbnail and icons, which
    Mastodon serves from its media host (files.mastodon.social for mastodon.social);
    the first MAX_MEDIA_HOSTS named, whatever the description holds."""
    thumbnail = document.get("thumbnail")
    urls = [thumbnail.get("url") if isinstance(thumbnail, dict) else thumbnail]
    icons = document.get("icon")
    if isinstance(icons, list):
        urls += [i.get("src") for i in icons[:MAX_ICONS_READ] if isinstance(i, dict)]
    hosts: list[str] = []
    for url in urls:
        host = https_host(url)
        if host and host not in hosts:
            hosts.append(host)
    return hosts[:MAX_MEDIA_HOSTS]


def https_host(url: Any) -> str | None:
    """The host of an https URL a server gave, lower-case; None for anything else."""
    if not isinstance(url, str) or len(url) > 2048 or not url.startswith("https://"):
        return None
    try:
        return (urlsplit(url).hostname or "").lower() or None
    except ValueError:  # a malformed authority ('https://[x/')
        return None
