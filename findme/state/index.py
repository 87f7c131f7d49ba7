"""An event's face index (filled in below)."""

from __future__ import annotations

from findme.state.base import StoreBase


class EventIndex(StoreBase):
    """The faces of an event's photos, indexed once for every search of the event."""
