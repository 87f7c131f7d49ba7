"""cancel_search: stops a running search; what it found so far stays, and
`findme search --resume` can go on from there."""

from __future__ import annotations

from typing import Any

from findme import params
from findme.errors import NotFound, run_action
from findme.ownership import require_search_owner
from findme.settings import Settings
from findme.store import job_store


def cancel_search(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    params.require_post(args, "cancel_search")
    job_id = params.job_id(args)
    store = job_store(settings)
    require_search_owner(store.fields(job_id) or {}, args)
    state, stopped = store.cancel(job_id)
    if state == "unknown":
        raise NotFound(f"no job {job_id} (unknown or expired)")
    # A search that had already ended keeps its state: cancelling it changes nothing.
    return {"job_id": job_id, "state": state, "cancelled": stopped}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(cancel_search, args)
