"""Listing a source to its end in a test, as the listing stage would."""

from __future__ import annotations

from findme.sources import SearchCutShort, Source


def listed(source: Source, cursor: str | None = None) -> tuple[list[dict], str | None]:
    """Every entry the source lists from cursor on, and the warning it ends with (if any)."""
    entries: list[dict] = []
    try:
        for page, _ in source.pages(cursor):
            entries += page
    except SearchCutShort as cut:
        return entries, str(cut)
    return entries, None
