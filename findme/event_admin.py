"""What an organiser does to an event, whoever asks (the web actions check the owner
key first; the CLI is the operator's, on its own data): take a photo down, delete the
event with everything it holds."""

from __future__ import annotations

from typing import Any

from findme import face_cache
from findme.jobs import JobStore
from findme.settings import Settings

DELETED = "the organiser deleted this event and its photos"


def take_down(event_id: str, photo: str, store: JobStore) -> dict[str, Any]:
    """A photo gone from the index and from every search's results, for good."""
    was_indexed = store.take_down(event_id, photo)
    removed = 0
    for search_id in store.followers(event_id):
        if store.match(search_id, photo) is not None:
            store.drop_match(search_id, photo)
            removed += 1
    return {
        "event_id": event_id,
        "photo": photo,
        "taken_down": True,
        "was_indexed": bool(was_indexed),
        "removed_from_searches": removed,
    }


def delete(event_id: str, store: JobStore, settings: Settings) -> dict[str, Any]:
    """The event, its index and its photos' faces gone (the face cache's copies too:
    face data of people who never searched stays no longer than its event); its
    searches lose their matches and say the organiser deleted the event."""
    searches = store.followers(event_id)
    digests = store.indexed_digests(event_id)
    store.forget_cached_faces(digests, face_cache.detection_key(settings))
    for search_id in searches:
        store.fail(search_id, DELETED)
        store.drop_matches(search_id)
    store.delete_event(event_id)
    return {"event_id": event_id, "deleted": True, "searches_emptied": len(searches)}
