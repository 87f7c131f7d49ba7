"""Where a live event's last reading stopped on each place it reads (a Mastodon
server, Bluesky, X), so that a reading of new posts only asks for what came after:
Mastodon and X ask `since_id` the newest post read before, Bluesky `since` its
time; and each stops at the posts read before even where a network did not honour
that (`unread`).

The previous reading's marks (`listing_since`) stay as they are while a reading
goes on, since its continuation in another activation must stop at the same place;
what this reading sees is kept apart (`reading_newest`) and becomes the next
reading's marks when it ends (findme.event_reading.finished).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from findme.jobs import JobStore


def marks_of(value: str | None) -> dict[str, str]:
    """A job field holding marks (JSON: place -> mark); {} when absent or malformed."""
    try:
        found = json.loads(value or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


@dataclass
class NewestSeen:
    store: JobStore | None = None
    job_id: str = ""
    # Place -> the newest post the previous reading saw: set only for a reading of
    # new posts (a full reading reads everything).
    since: dict[str, str] = field(default_factory=dict)
    # Place -> the newest post this reading has seen so far.
    newest: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_job(cls, job: dict[str, str], store: JobStore | None) -> NewestSeen:
        new_only = job.get("listing_mode") == "new"
        return cls(
            store,
            job.get("job_id", ""),
            marks_of(job.get("listing_since")) if new_only else {},
            marks_of(job.get("reading_newest")),
        )

    def before(self, place: str) -> str | None:
        """The newest post of the previous reading there, when this one reads new posts only."""
        return self.since.get(place)

    def unread(
        self,
        place: str,
        items: list[Any],
        mark_of: Callable[[Any], str | None],
        order: Callable[[str], Any],
        *,
        inclusive: bool = False,
    ) -> tuple[list[Any], bool]:
        """One page of posts, newest first as every network lists them: keeps the newest
        one's mark, and returns the posts this reading has not read before (all of them
        in a full reading; a post without a mark it can order is kept), and whether it
        reached posts read before (no page past this one is needed). inclusive: the
        newest post read before comes again (Bluesky's `since`), and is let through."""
        marks = [mark_of(item) or "" for item in items]
        self.saw(place, marks, order)
        since = self.since.get(place)
        known = order(since) if since else None
        if known is None:
            return items, False
        keys = [order(mark) if mark else None for mark in marks]
        fresh = [
            item
            for item, key in zip(items, keys, strict=True)
            if key is None or key > known or (inclusive and key == known)
        ]
        return fresh, len(fresh) < len(items)

    def saw(self, place: str, marks: list[str], order: Callable[[str], Any]) -> None:
        """Keeps the newest of `marks` (ordered by `order`; a mark it cannot order is
        None and ignored) when it is newer than anything known there."""
        ordered = [(order(mark), mark) for mark in marks if mark]
        ordered = [(key, mark) for key, mark in ordered if key is not None]
        known = [order(m) for m in (self.newest.get(place), self.since.get(place)) if m]
        known = [key for key in known if key is not None]
        if not ordered:
            return
        key, mark = max(ordered)
        if known and key <= max(known):
            return
        self.newest[place] = mark
        if self.store is not None and self.job_id:
            self.store.update(self.job_id, reading_newest=json.dumps(self.newest))
