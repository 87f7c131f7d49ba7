"""Where posts with photos come from: a folder here, X with the X issue.

A source lists photo entries, dicts with at least "photo" (the photo's id in
the job, shown to the user) and optionally "post_url"; and reads the bytes of
one entry. Entries travel in tweet_image payloads, so they hold no secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from findme.errors import BadRequest
from findme.settings import Settings


class Source(Protocol):
    def photos(self) -> Iterator[dict[str, Any]]: ...

    def read(self, entry: dict[str, Any]) -> bytes: ...


SOURCES = ("folder",)


def open_source(job: dict[str, str], settings: Settings) -> Source:
    from findme.sources.folder import FolderSource

    if job.get("source") == "folder":
        return FolderSource.for_job(job, settings)
    raise BadRequest(f"source {job.get('source')!r} is not available")
