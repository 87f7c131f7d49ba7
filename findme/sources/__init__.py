"""Where posts with photos come from: a folder under the photo root, or X.

A source lists photo entries, dicts with at least "photo" (the photo's id in
the job, shown to the user) and optionally "post_url"; and reads the bytes of
one entry. Entries are kept in the job's queue in Redis, so they hold no secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from findme.errors import BadRequest
from findme.settings import Settings

Entry = dict[str, Any]


class Source(Protocol):
    def pages(self, cursor: str | None) -> Iterator[tuple[list[Entry], str | None]]:
        """The source's photo entries page by page, starting after cursor (None: from
        the start); each page comes with the cursor to resume after it, None after the
        last. A listing longer than one activation resumes from a saved cursor."""
        ...

    def read(self, entry: Entry) -> bytes: ...


SOURCES = ("folder", "twitter")


def open_source(job: dict[str, str], settings: Settings) -> Source:
    from findme.sources.folder import FolderSource
    from findme.sources.twitter import XSource

    if job.get("source") == "folder":
        return FolderSource.for_job(job, settings)
    if job.get("source") == "twitter":
        return XSource.for_job(job, settings)
    raise BadRequest(f"source {job.get('source')!r} is not available")
