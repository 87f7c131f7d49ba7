"""Where posts with photos come from: a folder under the photo root, X, Mastodon
hashtag timelines, Bluesky's post search, or an organiser's list of photo URLs.

A source lists photo entries, dicts with at least "photo" (the photo's id in
the job, shown to the user) and, for posts, "post_url" and "author"; and reads
the bytes of one entry. Entries are kept in the job's queue in Redis, so they
hold no secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from findme.errors import BadRequest
from findme.settings import Settings

Entry = dict[str, Any]


class SourceUnavailable(Exception):
    """The source refused or failed; str(error) says why, without any secret."""


class SearchCutShort(Exception):
    """The search stopped after some pages; the photos yielded so far stand."""


class ListingStopped(Exception):
    """The job was cancelled or deleted while its source was listed: nothing more of
    it is written (a deleted job's keys never come back)."""


class Source(Protocol):
    def pages(self, cursor: str | None) -> Iterator[tuple[list[Entry], str | None]]:
        """The source's photo entries page by page, starting after cursor (None: from
        the start); each page comes with the cursor to resume after it, None after the
        last. A listing longer than one activation resumes from a saved cursor."""
        ...

    def read(self, entry: Entry) -> bytes: ...


SOURCES = ("folder", "twitter", "mastodon", "bluesky", "urls")


def open_source(job: dict[str, str], settings: Settings) -> Source:
    from findme.sources.bluesky import BlueskySource
    from findme.sources.folder import FolderSource
    from findme.sources.mastodon import MastodonSource
    from findme.sources.twitter import XSource
    from findme.sources.urls import UrlListSource

    kinds: dict[str, Any] = {
        "folder": FolderSource,
        "twitter": XSource,
        "mastodon": MastodonSource,
        "bluesky": BlueskySource,
        "urls": UrlListSource,
    }
    kind = kinds.get(job.get("source", ""))
    if kind is None:
        raise BadRequest(f"source {job.get('source')!r} is not available")
    return kind.for_job(job, settings)
