"""twitter_search (the source stage): reference descriptor, photo listing, batches."""

from __future__ import annotations

import json
from typing import Any

from findme import params
from findme.errors import ActionError, NotFound, run_action
from findme.events import fire_trigger
from findme.jobs import FINAL_STATES, JobStore, State
from findme.reference import ReferenceUnusable, reference_descriptors
from findme.settings import Settings
from findme.sources import open_source
from findme.sources.twitter import SearchCutShort, XUnavailable
from findme.store import job_store


def _fire_batches(job_id: str, job: dict[str, str], store: JobStore, settings: Settings) -> int:
    """Lists the source's photos and fires tweet_image for new ones, batch by batch."""
    source = open_source(job, settings)
    pending: list[dict[str, Any]] = []
    batches = 0

    def flush() -> None:
        nonlocal batches
        fresh = set(store.add_photos(job_id, [entry["photo"] for entry in pending]))
        batch = [entry for entry in pending if entry["photo"] in fresh]
        pending.clear()
        if batch:
            if batches == 0:
                store.set_state(job_id, State.COMPARING)
            fire_trigger(settings, "tweet_image", {"job_id": job_id, "photos": batch})
            batches += 1
            store.update(job_id)  # progress: keeps the stall watchdog away

    try:
        for entry in source.photos():
            pending.append(entry)
            if len(pending) >= settings.batch_size:
                flush()
    except SearchCutShort as cut:
        store.update(job_id, warning=str(cut))  # the photos found so far still count
    flush()
    return batches


def search(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    job_id = params.job_id(args)
    store = job_store(settings)
    job = store.fields(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.get("state") in FINAL_STATES or not store.claim_search(job_id):
        return {"job_id": job_id, "skipped": "this job's search has already run"}
    store.set_state(job_id, State.SEARCHING)
    try:
        references = reference_descriptors(job_id, job, store, settings)
        store.update(
            job_id,
            reference_fingerprints=json.dumps(references.fingerprints),
            reference_notes=json.dumps(references.notes),
            reference_faces=json.dumps(references.faces),
        )
        batches = _fire_batches(job_id, job, store, settings)
    except ReferenceUnusable as error:
        store.fail(job_id, str(error))
        return {"job_id": job_id, "state": State.FAILED.value, "reason": str(error)}
    except Exception as error:
        worded = isinstance(error, (ActionError, XUnavailable))
        reason = str(error) if worded else type(error).__name__
        store.fail(job_id, f"the search stopped: {reason}")
        raise
    state = store.finish_search(job_id)
    return {"job_id": job_id, "state": state, "batches": batches}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(search, args)
