"""An event's source read again while the event is live: new posts only most of the
time, and in full now and then, so posts deleted (or authors who opted out) and
files removed leave the index and every result.

A full reading lists everything (a folder or a list of links always does: it costs
no network); a photo indexed before and not listed again has gone from its source.
"""

from __future__ import annotations

import json
import time

from findme.jobs import JobStore
from findme.settings import Settings
from findme.sources.newest import marks_of

# Sources whose every reading is full: reading them costs no API request.
ALWAYS_FULL = ("folder", "urls")
# An event with at most this many photos is read in full every time (a few pages a
# server); a larger one in full this often, else for new posts only.
FULL_UP_TO_PHOTOS = 400
FULL_EVERY_SECONDS = 15 * 60


def next_mode(event: dict[str, str], photos: int, now: float | None = None) -> str:
    """ "full" or "new": how the next reading of a live event lists its source."""
    now = time.time() if now is None else now
    if event.get("source") in ALWAYS_FULL or photos <= FULL_UP_TO_PHOTOS:
        return "full"
    last_full = float(event.get("last_full_read") or 0)
    return "full" if now - last_full >= FULL_EVERY_SECONDS else "new"


def finished(event_id: str, store: JobStore, settings: Settings, *, complete: bool) -> list[str]:
    """After a reading: when it was full and complete, the photos it did not list again
    leave the index and every search's results. Returns those photos."""
    event = store.fields(event_id) or {}
    now = str(time.time())
    full = event.get("listing_mode", "full") != "new"
    newest = {**marks_of(event.get("listing_since")), **marks_of(event.get("reading_newest"))}
    store.update(
        event_id,
        last_read=now,
        listing_since=json.dumps(newest),
        reading_newest="{}",
        **({"last_full_read": now} if full else {}),
    )
    if not (full and complete):
        return []
    gone = store.forget_unlisted(event_id)
    if gone:
        for search_id in store.followers(event_id):
            for photo in gone:
                store.drop_match(search_id, photo)
    return gone
