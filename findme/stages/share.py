"""share_search: the owner of a search stops (or starts again) sharing its link. The
link is view-only; unshared, only the owner key reads the search."""

from __future__ import annotations

from typing import Any

from findme import params
from findme.errors import BadRequest, NotFound, run_action
from findme.ownership import require_owner
from findme.settings import Settings
from findme.store import job_store


def share_search(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    params.require_post(args, "share_search")
    job_id = params.job_id(args)
    shared = args.get("shared")
    if shared not in (True, False, "true", "false"):
        raise BadRequest("shared must be true (anyone with the link may look) or false")
    store = job_store(settings)
    job = store.fields(job_id)
    if job is None:
        raise NotFound(f"no job {job_id} (unknown or expired)")
    require_owner(job, args, "search")
    store.update(job_id, shared="1" if shared in (True, "true") else "0")
    return {"job_id": job_id, "shared": shared in (True, "true")}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(share_search, args)
