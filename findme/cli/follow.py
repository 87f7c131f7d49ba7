"""Following a running search: a progress bar, each match as it is found, and the
whole result at the end, read as any client reads it."""

from __future__ import annotations

import sys
import time
from typing import Any

from tqdm import tqdm

from findme.cli.errors import UsageError
from findme.cli.output import match_line
from findme.client import OpenWhiskClient
from findme.jobs import FINAL_STATES, JobStore

WATCH_SECONDS = 0.05  # how often the CLI looks at its job's counts in Redis


def all_status(client: OpenWhiskClient, job_id: str) -> tuple[int, dict[str, Any]]:
    """search_status read page by page (cursor "0", then next_cursor until null), so no
    answer passes OpenWhisk's 1 MB; a status without next_cursor is all in one page."""
    cursor: str | None = "0"
    whole: dict[str, Any] | None = None
    code = 200
    while cursor is not None:
        code, page = client.invoke(
            "search_status", {"job_id": job_id, "cursor": cursor, "limit": 1000}
        )
        if "state" not in page:
            return code, page
        if whole is None:
            whole = {**page, "matches": [], "failed": []}
        whole["matches"] += page.get("matches", [])
        whole["failed"] += page.get("failed", [])
        cursor = page.get("next_cursor")
    assert whole is not None
    whole.pop("next_cursor", None)
    return code, whole


def follow(client: OpenWhiskClient, store: JobStore, job_id: str, quiet: bool) -> dict[str, Any]:
    """Waits for the job's end with a progress bar on a terminal, printing matches as
    they are found. It watches the local engine's own Redis, so waiting costs none of
    OpenWhisk's 60 invocations a minute and sees the end at once; the result is then
    read as any client reads it, through search_status, page by page."""
    shown: set[str] = set()
    bar = tqdm(total=0, unit="photo", disable=quiet or None, file=sys.stderr, leave=False)

    def show(matches: list[dict[str, Any]]) -> None:
        for match in matches:
            if not quiet and match["photo"] not in shown:
                shown.add(match["photo"])
                tqdm.write(match_line(match))

    try:
        while True:
            progress = store.progress(job_id)
            if progress is None:
                raise UsageError(f"no job {job_id} (unknown or expired)")
            bar.total, bar.n = progress["photos_total"], progress["photos_done"]
            bar.set_postfix(state=progress["state"], refresh=False)
            bar.refresh()
            if not quiet and progress["matches"] > len(shown):
                show(store.matches(job_id))
            if progress["state"] in FINAL_STATES:
                break
            time.sleep(WATCH_SECONDS)
        code, status = all_status(client, job_id)
        if "state" not in status:  # a failed job's status is still a status
            raise UsageError(status.get("error") or f"search_status answered HTTP {code}")
        show(status["matches"])
        return status
    finally:
        bar.close()
