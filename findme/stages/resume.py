"""resume_search: goes on with a stopped search (cancelled, or failed part-way), as
`findme search --resume` does: photos already recorded keep their outcome, the
source is listed again and only the others are compared."""

from __future__ import annotations

import contextlib
from typing import Any

from findme import params
from findme.errors import BadRequest, NotFound, run_action
from findme.events import Deferred, paced_fire
from findme.jobs import State
from findme.ownership import require_search_owner
from findme.reference import load_references
from findme.settings import Settings, deployment_of
from findme.store import job_store

RESUMABLE = {State.CANCELLED.value, State.FAILED.value}


def resume_search(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    params.require_post(args, "resume_search")
    job_id = params.job_id(args)
    store = job_store(settings)
    job = store.fields(job_id)
    if job is None:
        raise NotFound(f"no job {job_id} (unknown or expired)")
    require_search_owner(job, args)
    state = job.get("state", "")
    if state == State.DONE.value:
        raise BadRequest("this search is done: there is nothing left to search")
    if state not in RESUMABLE:
        raise BadRequest("this search is still running")
    if job.get("reference_fingerprints") and load_references(job_id, job, store) is None:
        raise BadRequest("the reference descriptors of this search have expired")
    state = store.reopen(job_id)
    # This deployment runs it now: its sweep re-drives it.
    store.update(job_id, deployment=deployment_of(settings.api_host))
    # Over this minute's fires (Deferred), the sweep restarts its listing within a minute.
    with contextlib.suppress(Deferred):
        paced_fire(settings, store, "search_request", {"job_id": job_id})
    return {"job_id": job_id, "state": state}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(resume_search, args)
