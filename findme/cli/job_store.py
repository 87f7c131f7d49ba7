"""Reaching the jobs a command reads or changes."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

from findme.jobs import JobStore
from findme.local.embedded_redis import EmbeddedRedis
from findme.settings import Settings
from findme.store import redis_client


def add_job_id_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "job_id",
        metavar="JOB_ID",
        help="the search's job id: findme search prints it, findme jobs lists them",
    )


@contextlib.contextmanager
def open_job_store(url: str | None = None) -> Iterator[JobStore]:
    """The jobs of url (a running engine's Redis), REDIS_URL, or of the embedded Redis
    that `findme search` uses."""
    embedded = None
    url = url or Settings.load().redis_url
    if not url:
        embedded = EmbeddedRedis()
        url = embedded.url
    try:
        yield JobStore(redis_client(url), Settings.load().job_ttl_seconds)
    finally:
        if embedded:
            embedded.close()
