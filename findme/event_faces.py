"""An event's indexed faces as one matrix, and each photo's nearest distance to a
person's reference faces, all photos in one product (30,000 faces: milliseconds).

A warm activation keeps the matrix of the last events it read and fetches only
what was indexed since, as a warm container keeps its models: the next person's
search of the same event reads nothing but the new photos. Photos taken down or
gone since stay in the kept matrix; the caller keeps only photos the index
still holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from findme.codec import DESCRIPTOR_LENGTH
from findme.jobs import JobStore

_HEX_PER_FACE = DESCRIPTOR_LENGTH * 4 * 2
_DTYPE = np.dtype("<f4")
KEPT_EVENTS = 2  # a worker serving two events at once keeps both


@dataclass(frozen=True)
class IndexedFaces:
    photos: list[str]
    counts: np.ndarray  # faces of each photo, in order
    matrix: np.ndarray  # every face's descriptor, photo after photo
    seq: int  # the newest index place included
    places: dict[str, tuple[int, int]] | None = None

    @classmethod
    def decode(cls, indexed: dict[str, str], seq: int) -> IndexedFaces:
        photos = [p for p, h in indexed.items() if h]
        counts = np.array([len(indexed[p]) // _HEX_PER_FACE for p in photos], dtype=np.int64)
        raw = bytes.fromhex("".join(indexed[p] for p in photos))
        matrix = np.frombuffer(raw, dtype=_DTYPE).reshape(-1, DESCRIPTOR_LENGTH)
        return cls(photos, counts, matrix.astype(np.float32), seq)

    def joined(self, newer: IndexedFaces) -> IndexedFaces:
        return IndexedFaces(
            self.photos + newer.photos,
            np.concatenate([self.counts, newer.counts]),
            np.concatenate([self.matrix, newer.matrix]),
            max(self.seq, newer.seq),
        )

    def descriptors_of(self, photo: str) -> np.ndarray:
        """The faces of one photo (its last copy, should it be in twice)."""
        start, count = self._places()[photo]
        return self.matrix[start : start + count]

    def _places(self) -> dict[str, tuple[int, int]]:
        """Photo -> (first row, rows), built once: hundreds of matches read it."""
        if self.places is None:
            starts = np.concatenate(([0], np.cumsum(self.counts)[:-1])).tolist()
            places = dict(
                zip(self.photos, zip(starts, self.counts.tolist(), strict=True), strict=True)
            )
            object.__setattr__(self, "places", places)
        return self.places

    def nearest_by_photo(self, references: np.ndarray) -> dict[str, float]:
        """Each photo's nearest face distance to any of the references."""
        if not self.photos:
            return {}
        refs = np.atleast_2d(references).astype(np.float32)
        # |a - b|^2 = |a|^2 + |b|^2 - 2ab: every face against every reference at once
        squared = (
            (self.matrix * self.matrix).sum(axis=1)[:, None]
            + (refs * refs).sum(axis=1)[None, :]
            - 2.0 * self.matrix @ refs.T
        )
        nearest = np.sqrt(np.maximum(squared, 0.0)).min(axis=1)
        starts = np.concatenate(([0], np.cumsum(self.counts)[:-1]))
        per_photo = np.minimum.reduceat(nearest, starts)
        found: dict[str, float] = {}
        for photo, distance in zip(self.photos, per_photo.tolist(), strict=True):
            found[photo] = min(distance, found.get(photo, distance))
        return found


_kept: dict[str, IndexedFaces] = {}


def since(event_id: str, seq: int, store: JobStore) -> IndexedFaces:
    """The faces of the photos indexed after seq (read from Redis)."""
    indexed, newest = store.indexed_since(event_id, seq)
    return IndexedFaces.decode(indexed, max(newest, seq))


def all_faces(event_id: str, store: JobStore) -> IndexedFaces:
    """Every face the event indexed, from what this process kept plus what is new."""
    kept = _kept.pop(event_id, None)
    if kept is None:
        kept = since(event_id, 0, store)
    elif store.index_seq(event_id) > kept.seq:
        kept = kept.joined(since(event_id, kept.seq, store))
    _kept[event_id] = kept  # the most recently used last
    while len(_kept) > KEPT_EVENTS:
        _kept.pop(next(iter(_kept)))
    return kept
