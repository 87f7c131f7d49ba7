"""Photos from Mastodon: the hashtag timelines of the servers a search names, and a
person's avatar (`@name@server`).

A server only knows the posts that reached it, so a search may read several; a
photo seen on two servers is compared once (by its origin URL, `remote_url`,
never downloaded: the first server's own copy, `url`, is). People's choices
are honoured: only `public` posts, only authors who let their posts be searched (`indexable`, or
`discoverable` when the operator allows it), never `noindex` accounts;
`sensitive` posts are marked. API calls and downloads go only to the server and
its media host, under the download rules of findme.download.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from findme.download import ApiResponse, fetch
from findme.errors import BadRequest
from findme.jobs import FINAL_STATES, JobStore
from findme.settings import Settings
from findme.sources import ListingStopped, SearchCutShort, SourceUnavailable
from findme.sources.mastodon_server import MastodonServer, ServerInfo, as_dict, https_host
from findme.sources.newest import NewestSeen
from findme.store import job_store

MAX_URL = 2048  # longer is no link FindMe fetches or shows (findme.download)
PAGE_LIMIT = 40  # Mastodon's largest page of a timeline (a server giving more is cut there)
# Mastodon posts hold at most 4 attachments, and it shows at most 16 of a post from
# another server (its max_media_attachments_from_activitypub): a post claiming
# 20,000 is read at its first 16.
MAX_ATTACHMENTS_PER_POST = 16
MAX_TAGS = 5  # the tag of the path and up to 4 more with any[]
MAX_SERVERS = 10
DEFAULT_MAX_POSTS = 1000  # posts read per server
# Mastodon's hashtag rule: word characters, at least one of them not a digit.
TAG_PATTERN = re.compile(r"^#?(\w*[^\W\d]\w*)$")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
SERVER_PATTERN = re.compile(rf"^(?:{_LABEL}\.)+[a-z][a-z0-9-]*[a-z0-9]$")
ACCOUNT_PATTERN = re.compile(r"^@?([A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*)@([^@\s/]+)$")


def parse_tags(query: str) -> list[str]:
    """The hashtags of a query ('#pycon #pycon2026', 'pycon, pycon2026')."""
    words = [w for w in re.split(r"[\s,]+", query.strip()) if w]
    if not words:
        raise BadRequest("query is required for Mastodon: one to five hashtags, like '#pycon'")
    if len(words) > MAX_TAGS:
        raise BadRequest(f"query: give at most {MAX_TAGS} hashtags for Mastodon")
    tags = []
    for word in words:
        found = TAG_PATTERN.match(word)
        if not found or len(found.group(1)) > 100:
            raise BadRequest(
                f"query: {word!r} is not a hashtag (letters, digits and _, not only digits)"
            )
        if found.group(1).lower() not in (t.lower() for t in tags):
            tags.append(found.group(1))
    return tags


def parse_server(value: Any, settings: Settings) -> str:
    """A server's host name as a caller gives it ('mastodon.social', 'https://x.y/')."""
    if not isinstance(value, str) or not value.strip() or len(value) > 253:
        raise BadRequest("servers: each server is a host name, like 'mastodon.social'")
    text = value.strip().lower()
    text = text.removeprefix("https://").rstrip("/")
    if not SERVER_PATTERN.match(text):
        raise BadRequest(f"servers: {value!r} is not a Mastodon server's host name")
    if settings.mastodon_servers and text not in settings.mastodon_servers:
        allowed = ", ".join(sorted(settings.mastodon_servers))
        raise BadRequest(f"servers: this FindMe searches only these Mastodon servers: {allowed}")
    return text


def parse_servers(value: Any, settings: Settings) -> list[str]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[\s,]+", value) if v]
    if not isinstance(value, list) or not value:
        raise BadRequest("servers is required for Mastodon: a list of servers to search")
    if len(value) > MAX_SERVERS:
        raise BadRequest(f"servers: give at most {MAX_SERVERS} Mastodon servers")
    servers: list[str] = []
    for item in value:
        server = parse_server(item, settings)
        if server not in servers:
            servers.append(server)
    return servers


def parse_account(handle: str) -> tuple[str, str] | None:
    """('name', 'server') of '@name@server', else None."""
    found = ACCOUNT_PATTERN.match(handle.strip())
    if not found or not SERVER_PATTERN.match(found.group(2).lower()):
        return None
    return found.group(1), found.group(2).lower()


def _visible(status: dict[str, Any], settings: Settings) -> bool:
    """Whether the author's choices let FindMe look at this post's photos."""
    if status.get("visibility") != "public" or status.get("reblog"):
        return False
    account = as_dict(status.get("account"))
    if account.get("noindex") is True:
        return False
    if account.get("indexable") is True:
        return True
    return settings.mastodon_include_discoverable and account.get("discoverable") is True


def photos_of(
    statuses: list[Any], server: str, hosts: frozenset[str], settings: Settings
) -> list[dict[str, Any]]:
    """The image attachments of the posts people let be searched."""
    entries = []
    for status in statuses:
        if not isinstance(status, dict) or not _visible(status, settings):
            continue
        author = _text(as_dict(status.get("account")).get("acct"), 320)
        post_url = _text(status.get("url"), MAX_URL) or _text(status.get("uri"), MAX_URL)
        attachments = status.get("media_attachments")
        if not isinstance(attachments, list):
            continue
        for media in attachments[:MAX_ATTACHMENTS_PER_POST]:
            if not isinstance(media, dict) or media.get("type") != "image":
                continue
            url = _text(media.get("url"), MAX_URL)
            if not url:
                continue
            # Where it may be downloaded from: the server, and its media host if the
            # photo is there (one host an entry, never the server's whole list).
            photo_host = https_host(url)
            entry: dict[str, Any] = {
                "photo": url,
                # Where the photo was first posted: the same on every server that has it.
                "origin": _text(media.get("remote_url"), MAX_URL) or url,
                "post_url": post_url,
                "author": author,
                "server": server,
                "hosts": sorted({server} | ({photo_host} & hosts if photo_host else set())),
            }
            description = media.get("description")
            if isinstance(description, str) and description:
                entry["alt"] = description[:1500]  # Mastodon's longest alt text
            if status.get("sensitive"):
                entry["sensitive"] = True
            entries.append(entry)
    return entries


def _text(value: Any, longest: int) -> str | None:
    """A text field of a server's answer: a non-empty string of at most `longest`
    characters, else None (a server may put an object, a number or a novel there)."""
    return value if isinstance(value, str) and 0 < len(value) <= longest else None


def _tag_url(server: str, tags: list[str], since: str | None) -> tuple[str, dict[str, Any]]:
    """The hashtag timeline's first page; since (a post id): only posts newer than it,
    newest first (a server that ignores it is stopped there by the reading itself)."""
    params: dict[str, Any] = {"only_media": "true", "limit": str(PAGE_LIMIT)}
    if len(tags) > 1:
        params["any[]"] = tags[1:]
    if _as_id(since):
        params["since_id"] = str(_as_id(since))
    return f"https://{server}/api/v1/timelines/tag/{quote(tags[0], safe='')}", params


@dataclass
class MastodonSource:
    settings: Settings
    servers: list[str]
    tags: list[str]
    max_posts: int = DEFAULT_MAX_POSTS
    store: JobStore | None = None  # remembers origins across activations
    job_id: str = ""
    # Each server's newest post id: a live event's reading of new posts stops at the
    # previous reading's, and keeps the newest it sees for the next.
    newest: NewestSeen = field(default_factory=NewestSeen)
    _origins: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_job(cls, job: dict[str, str], settings: Settings) -> MastodonSource:
        store = job_store(settings)
        return cls(
            settings,
            json.loads(job.get("servers") or "[]"),
            json.loads(job.get("tags") or "[]"),
            int(job.get("max_posts", DEFAULT_MAX_POSTS)),
            store,
            job.get("job_id", ""),
            NewestSeen.for_job(job, store),
        )

    def _first_copies(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Entries whose photo was not listed before from another server."""
        copies = [(e["origin"], e["photo"]) for e in entries]
        if self.store is not None and self.job_id:
            # Checked before each page's claims: a deleted job's origins never come back.
            if self.store.state(self.job_id) in (None, *FINAL_STATES):
                raise ListingStopped(self.job_id)
            owners = self.store.claim_origins(self.job_id, copies)
            if owners is None:  # deleted meanwhile
                raise ListingStopped(self.job_id)
        else:
            owners = [self._origins.setdefault(origin, copy) for origin, copy in copies]
        return [e for e, owner in zip(entries, owners, strict=True) if owner == e["photo"]]

    def pages(self, cursor: str | None) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """Each server's hashtag timeline in turn, 40 posts a page, following the
        Link: rel="next" header. The cursor holds the server being read, its next
        page, the posts read there, what was found and the servers that failed."""
        state = json.loads(cursor) if cursor else {}
        index = int(state.get("server", 0))
        next_url: str | None = state.get("next")
        posts = int(state.get("posts", 0))
        found = int(state.get("found", 0))
        problems: list[str] = list(state.get("problems", []))
        while index < len(self.servers):
            host = self.servers[index]
            server = MastodonServer(host, self.settings)
            try:
                info = server.info()
                _check_feed_access(server, info)
                since = self.newest.before(host)
                url, params = (next_url, None) if next_url else _tag_url(host, self.tags, since)
                while url and posts < self.max_posts:
                    response = server.get(url, params)
                    if response.status_code != 200 or not isinstance(response.json, list):
                        raise server.refused(response, f"reading #{self.tags[0]}")
                    statuses = response.json[: min(PAGE_LIMIT, self.max_posts - posts)]
                    # A live event's reading of new posts stops at what it read before.
                    statuses, reached_known = self.newest.unread(
                        host, statuses, _post_mark, _id_order
                    )
                    posts += len(statuses)
                    entries = self._first_copies(
                        photos_of(statuses, host, info.hosts, self.settings)
                    )
                    found += len(entries)
                    url, params = _next_page(response, host), None
                    if not statuses or reached_known:
                        url = None
                    more = url is not None and posts < self.max_posts
                    state = {
                        "server": index if more else index + 1,
                        "next": url if more else None,
                        "posts": posts if more else 0,
                        "found": found,
                        "problems": problems,
                    }
                    last = not more and index + 1 >= len(self.servers) and not problems
                    yield entries, None if last else json.dumps(state)
            except (SourceUnavailable, *MALFORMED) as error:
                # One server's failure, or an answer of a shape no Mastodon gives,
                # fails that server: the others' photos stand, the warning names it.
                read = f" after {posts} posts" if posts else ""
                problems.append(f"{host}{read}: {_worded(host, error)}")
            index, next_url, posts = index + 1, None, 0
        if not problems:
            yield [], None
            return
        reason = "; ".join(problems)
        if found == 0 and len(problems) == len(self.servers):
            raise SourceUnavailable(f"no Mastodon server could be searched: {reason}")
        raise SearchCutShort(f"the Mastodon search was cut short: {reason}")

    def read(self, entry: dict[str, Any]) -> bytes:
        url = str(entry.get("photo", ""))
        server = str(entry.get("server", "")).lower()
        hosts = frozenset(str(h).lower() for h in entry.get("hosts", []) if h) | {server}
        return fetch(url, hosts - {""})


# What reading an answer of an unexpected shape can raise (a list where an object
# belongs, a number where text does): a server's fault, never the search's.
MALFORMED = (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError)


def _worded(host: str, error: Exception) -> str:
    if isinstance(error, SourceUnavailable):
        return str(error)
    return f"{host} answered in a shape Mastodon never gives ({type(error).__name__})"


def _as_id(value: Any) -> int:
    """A Mastodon id (a decimal string that grows with time) as a number; 0 if none."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 30 else 0


def _id_order(mark: str) -> int | None:
    return _as_id(mark) or None


def _post_mark(status: Any) -> str | None:
    """A post's id, which orders it (None when it has none)."""
    number = _as_id(status.get("id")) if isinstance(status, dict) else 0
    return str(number) if number else None


def _check_feed_access(server: MastodonServer, info: ServerInfo) -> None:
    """Says, before asking, when the server's settings (Mastodon 4.5's
    timelines_access) keep its hashtag feeds from FindMe: without a token, any part
    (local or remote posts) not public makes the whole feed need a login."""
    access = {info.hashtag_feeds.get(part) for part in ("local", "remote")} - {None}
    if access == {"disabled"}:
        raise SourceUnavailable(f"{server.host} has turned its hashtag feeds off")
    if access - {"public"} and not server.token:
        raise server.restricted("its settings say so")


def _next_page(response: ApiResponse, host: str) -> str | None:
    """The Link header's next page, only on the same server's hashtag timeline."""
    url = _text((response.links.get("next") or {}).get("url"), MAX_URL)
    if not url or https_host(url) != host:
        return None
    return url if urlsplit(url).path.startswith("/api/v1/timelines/tag/") else None


def account_picture(settings: Settings, handle: str) -> tuple[str, frozenset[str]]:
    """The avatar_static URL of '@name@server' and the hosts it may be fetched from."""
    account = parse_account(handle)
    if account is None:
        raise SourceUnavailable(f"{handle!r} is not a Mastodon address like @name@server")
    name, host = account
    if settings.mastodon_servers and host not in settings.mastodon_servers:
        raise SourceUnavailable(f"this FindMe does not look up accounts on {host}")
    server = MastodonServer(host, settings)
    info = server.info()
    response = server.get(f"https://{host}/api/v1/accounts/lookup", {"acct": name})
    if response.status_code == 404:
        raise SourceUnavailable(f"Mastodon account @{name}@{host} does not exist")
    if response.status_code != 200 or not isinstance(response.json, dict):
        raise server.refused(response, f"looking up @{name}@{host}")
    picture = response.json.get("avatar_static") or response.json.get("avatar")
    if not isinstance(picture, str) or picture.endswith("/missing.png"):
        raise SourceUnavailable(f"Mastodon account @{name}@{host} has no profile picture")
    return picture, info.hosts
