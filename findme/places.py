"""Places to look, and the events that index them.

An event is one place (a hashtag on named Mastodon servers, a Bluesky or X search,
a list of photo links, a folder) listed and indexed once. An organiser creates one
on purpose; a person's search of a place nobody indexed yet creates one quietly,
so the next person who searches the same place pays for nothing again. Searches
of a place some event indexes reuse that event.
"""

from __future__ import annotations

import hashlib
import json
import time

from findme import event_reading
from findme.events import Deferred, paced_fire
from findme.jobs import JobStore, State, new_job_id
from findme.settings import Settings, deployment_of

# What makes two searches look at the same photos.
PLACE_FIELDS = ("source", "folder", "photo_root", "servers", "tags", "max_posts")
# A quietly created event read longer ago than this is read again when a person
# searches it: a hashtag goes on after the first person's search. A folder is
# walked again after half a minute (it costs no API request, but 10,000 files
# take a second: people searching together share one walk).
REFRESH_AFTER_SECONDS = {"folder": 30.0, "urls": float("inf")}
DEFAULT_REFRESH_AFTER_SECONDS = 600.0


def place_digest(source: dict[str, str], query: str, urls: list[str]) -> str:
    """One place, whichever engine asks: a folder is its photo root and path (an
    engine of another root names another place); a network, its servers and query."""
    described = {name: source.get(name, "") for name in PLACE_FIELDS}
    described["query"] = query
    described["urls"] = hashlib.sha256("\n".join(urls).encode()).hexdigest() if urls else ""
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def new_event(
    store: JobStore,
    settings: Settings,
    source: dict[str, str],
    urls: list[str],
    query: str,
    extra: dict[str, str],
    *,
    take_place: bool,
) -> str:
    """Creates an event's record and starts its listing; returns its id. take_place:
    the event becomes the place's even if another indexes it (an organiser's)."""
    event_id = new_job_id()
    deployment = deployment_of(settings.api_host)
    fields = {
        **source,
        **extra,
        "job_id": event_id,
        "role": "event",
        "query": query,
        "deployment": deployment,
    }
    if urls:
        fields["urls_total"] = str(len(urls))
    store = store.for_job(fields)
    store.create(event_id, fields)
    if urls:
        store.save_urls(event_id, urls)
    digest = place_digest(source, query, urls)
    store.update(event_id, place=digest)
    if take_place:
        store.take_place(digest, event_id, store.ttl)
    elif store.claim_place(digest, event_id, store.ttl) != event_id:
        store.delete_event(event_id)  # another search created it a moment before: use that
        return store.event_of_place(digest) or event_id
    start_job(event_id, store, settings)
    return event_id


def start_job(
    job_id: str, store: JobStore, settings: Settings, failure: str = "could not start reading"
) -> None:
    """Fires search_request for a job (an event's listing, or a search); a fire over this
    minute's limit is left to the sweep, which starts it within a minute."""
    try:
        paced_fire(settings, store, "search_request", {"job_id": job_id})
    except Deferred:
        pass
    except Exception as error:
        store.fail(job_id, f"{failure}: {error}")
        raise


def can_read(event: dict[str, str], settings: Settings) -> bool:
    """Whether this deployment can read the event's photos: any network or link list;
    a folder only under the photo root it was indexed from."""
    if event.get("deployment", "") == deployment_of(settings.api_host):
        return True
    if event.get("source") != "folder":
        return True
    root = settings.photo_root
    return root is not None and event.get("photo_root") == str(root)


def adopt(event_id: str, store: JobStore, settings: Settings) -> None:
    """The engine a person searches through drives the event from now on (its sweep
    re-drives only its own deployment's jobs): a `findme search` that was stopped, or
    another process's event of the same photo root, is finished by this one."""
    event = store.fields(event_id) or {}
    deployment = deployment_of(settings.api_host)
    if event and event.get("deployment") != deployment:
        store.update(event_id, deployment=deployment)
        if event.get("state") not in (State.DONE.value, State.FAILED.value):
            store.mark_active(event_id)


def event_for_search(
    store: JobStore, settings: Settings, source: dict[str, str], urls: list[str], query: str
) -> str:
    """The event that indexes this place: an existing one (read again for new posts when
    it was created quietly a while ago), else a new one, created quietly."""
    digest = place_digest(source, query, urls)
    existing = store.event_of_place(digest)
    event = store.fields(existing) if existing else None
    if existing and event and event.get("state") != State.FAILED.value:
        last_read = float(event.get("last_read") or 0)
        refresh = REFRESH_AFTER_SECONDS.get(event.get("source", ""), DEFAULT_REFRESH_AFTER_SECONDS)
        stale = time.time() - last_read > refresh
        adopt(existing, store, settings)
        photos = (store.progress(existing) or {}).get("photos_total", 0)
        mode = event_reading.next_mode(event, photos)
        if event.get("implicit") == "1" and stale and store.for_job(event).relist(existing, mode):
            start_job(existing, store, settings)
        return existing
    if existing:
        store.release_place(digest, existing)
    extra = {"implicit": "1", "name": "", "ttl": str(settings.job_ttl_seconds)}
    return new_event(store, settings, source, urls, query, extra, take_place=False)
