"""delete_search: removes a job, its matches and its reference descriptors (biometric data).

Only the job's own data goes: shared data another job may need (the face cache,
a reference descriptor another job took) stays until it expires or its last
job is deleted.
"""

from __future__ import annotations

from typing import Any

from findme import params
from findme.errors import NotFound, run_action
from findme.ownership import require_search_owner
from findme.settings import Settings
from findme.store import job_store


def delete_search(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    params.require_post(args, "delete_search")
    job_id = params.job_id(args)
    store = job_store(settings)
    require_search_owner(store.fields(job_id) or {}, args)
    if not store.delete(job_id):
        raise NotFound(f"no job {job_id} (unknown or expired)")
    return {"job_id": job_id, "deleted": True}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(delete_search, args)
