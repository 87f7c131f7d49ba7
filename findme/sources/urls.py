"""An organiser's photos: a list of https photo URLs on hosts the operator allows.

The list travels in the register_search request (at most 10,000 URLs; with
OpenWhisk's 1 MB a request, that is about 100 characters a URL) and is kept in
Redis with the job, not in the job's record; duplicates are dropped when it is
registered. Each URL is its photo's id and its link; the author is its host.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from findme.download import check_url, fetch
from findme.errors import BadRequest
from findme.jobs import JobStore
from findme.settings import Settings
from findme.store import job_store

MAX_URLS = 10_000
PAGE_SIZE = 500


def parse_urls(value: Any, settings: Settings) -> list[str]:
    """The list's URLs in order, each once; a clear 400 naming the first bad one."""
    if isinstance(value, str):
        value = value.split()  # one a line, as pasted on the page
    if not isinstance(value, list) or not value:
        raise BadRequest("urls is required for the urls source: a list of https photo URLs")
    if len(value) > MAX_URLS:
        raise BadRequest(f"urls: give at most {MAX_URLS} photo URLs, not {len(value)}")
    if not settings.url_hosts:
        raise BadRequest("urls: this FindMe allows no photo hosts (url_hosts)")
    urls: dict[str, None] = {}
    for number, url in enumerate(value, 1):
        if not isinstance(url, str):
            raise BadRequest(f"urls: item {number} is not a URL")
        url = url.strip()
        problem = check_url(url, settings.url_hosts)
        if problem:
            hosts = ", ".join(sorted(settings.url_hosts))
            raise BadRequest(f"urls: item {number} ({url[:100]!r}): {problem} (allowed: {hosts})")
        urls.setdefault(url, None)
    return list(urls)


@dataclass
class UrlListSource:
    settings: Settings
    store: JobStore
    job_id: str

    @classmethod
    def for_job(cls, job: dict[str, str], settings: Settings) -> UrlListSource:
        return cls(settings, job_store(settings), job.get("job_id", ""))

    def pages(self, cursor: str | None) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """The list in pages of 500; the cursor is the index of the next URL."""
        start = int(cursor) if cursor and cursor.isdigit() else 0
        while True:
            urls = self.store.urls(self.job_id, start, PAGE_SIZE)
            start += len(urls)
            entries = [
                {"photo": url, "post_url": url, "author": urlsplit(url).hostname} for url in urls
            ]
            if len(urls) < PAGE_SIZE:
                yield entries, None
                return
            yield entries, str(start)

    def read(self, entry: dict[str, Any]) -> bytes:
        return fetch(str(entry.get("photo", "")), self.settings.url_hosts)
