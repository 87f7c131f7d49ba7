"""`findme eval DIR`: precision, recall and distances on a labelled folder of photos, so a
person can choose a threshold from their own photos.

DIR/people/<name>/*  portraits of one person each (the first ones, in name order,
                     serve as that person's references)
DIR/groups/*         other photos, with DIR/groups/labels.json: {"file": ["name", ...]}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from findme import faces
from findme.images import decode_for_detection
from findme.matching import comparable_distances
from findme.settings import DEFAULT_MIN_FACE_PX

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"}
BIN = 0.05


@dataclass
class Row:
    references: int
    jitters: int
    pairs: int
    precision: float  # at the threshold evaluated
    recall: float
    best_f1_threshold: float
    best_f1: float
    threshold_99_precision: float | None
    farthest_true: float  # the largest distance of a photo that shows the person
    nearest_false: float  # the smallest distance of a photo that does not
    margin: float  # nearest_false - farthest_true: larger separates better
    # (mean different-person distance - mean same-person distance) over their
    # pooled standard deviation: the separation of the two, every pair counted
    d_prime: float
    same_person: list[int]  # histogram of distances, bins of BIN from 0
    different_people: list[int]
    # Pairs whose photo has no face that can match (in neither histogram): none
    # found, or only faces cut by the photo's edge too far to match (findme.cut_faces).
    no_face: int


def _photos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def load_labelled(root: Path) -> tuple[dict[str, list[Path]], dict[Path, set[str]]]:
    people = {d.name: _photos(d) for d in sorted((root / "people").iterdir()) if d.is_dir()}
    labels: dict[Path, set[str]] = {}
    groups = root / "groups"
    if groups.is_dir():
        listed = json.loads((groups / "labels.json").read_text())
        labels = {groups / name: set(names) for name, names in listed.items()}
    return people, labels


def _pixels(path: Path, max_side: int):
    return decode_for_detection(path.read_bytes(), max_side)


def _metrics(scores: list[tuple[float, bool]], threshold: float) -> dict[str, float | None]:
    distances = np.array([d for d, _ in scores])
    truth = np.array([t for _, t in scores])

    def at(t: float) -> tuple[float, float]:
        predicted = distances <= t
        hits = int((predicted & truth).sum())
        precision = hits / predicted.sum() if predicted.sum() else 1.0
        recall = hits / truth.sum() if truth.sum() else 1.0
        return float(precision), float(recall)

    candidates = sorted(set(distances[np.isfinite(distances)].tolist()))
    f1s = []
    t99 = None
    for t in candidates:
        p, r = at(t)
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
        if p >= 0.99:
            t99 = float(t)
    best_f1 = max(f1s, default=0.0)
    best = [i for i, f in enumerate(f1s) if f == best_f1]
    # Halfway from the last best distance to the next one: the same F1, with room either side.
    if best:
        after = candidates[best[-1] + 1] if best[-1] + 1 < len(candidates) else candidates[best[-1]]
        best_t = (float(candidates[best[-1]]) + float(after)) / 2
    else:
        best_t = threshold
    precision, recall = at(threshold)
    positives, negatives = distances[truth], distances[~truth]
    farthest = float(positives[np.isfinite(positives)].max()) if truth.any() else 0.0
    nearest = float(negatives.min()) if (~truth).any() else float("inf")
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "best_f1_threshold": round(best_t, 4),
        "best_f1": round(best_f1, 4),
        "threshold_99_precision": t99,
        "farthest_true": round(farthest, 4),
        "nearest_false": round(nearest, 4),
        "margin": round(nearest - farthest, 4),
    }


def d_prime(same_person: list[float], different_people: list[float]) -> float:
    """The separation of the two sets of distances (finite ones): the difference of
    their means over their pooled standard deviation (0 when either is empty)."""
    same = np.array([d for d in same_person if np.isfinite(d)])
    different = np.array([d for d in different_people if np.isfinite(d)])
    if not same.size or not different.size:
        return 0.0
    spread = np.sqrt((same.var() + different.var()) / 2)
    return round(float((different.mean() - same.mean()) / spread), 3) if spread else 0.0


def _histogram(values: list[float]) -> list[int]:
    bins = np.arange(0, 1.2 + BIN, BIN)
    finite = [v for v in values if np.isfinite(v)]
    return np.histogram(np.clip(finite, 0, 1.2 - 1e-9), bins=bins)[0].tolist()


def evaluate(
    root: Path,
    reference_counts: list[int],
    jitter_counts: list[int],
    threshold: float = 0.6,
    max_side: int = 1600,
    min_face_px: int = DEFAULT_MIN_FACE_PX,
) -> list[Row]:
    people, labels = load_labelled(root)
    photos = {p: {name} for name, files in people.items() for p in files} | labels
    found = {}
    for path in photos:
        pixels = _pixels(path, max_side)
        found[path] = (faces.find_faces(pixels, min_face_px), pixels.width, pixels.height)
    rows = []
    for count in reference_counts:
        for jitters in jitter_counts:
            scores: list[tuple[float, bool]] = []
            for name, portraits in people.items():
                refs = [
                    faces.reference_face(_pixels(p, max_side), min_face_px, jitters)
                    for p in portraits[:count]
                ]
                read = [r.descriptor for r in refs if r is not None]
                for photo, names in photos.items():
                    if photo in portraits[:count]:
                        continue
                    # What a search does: a face cut by the photo's edge too far to
                    # match counts as no face.
                    gaps = comparable_distances(*found[photo], np.stack(read)) if read else []
                    scores.append((float(np.min(gaps, initial=np.inf)), name in names))
            metrics = _metrics(scores, threshold)
            rows.append(
                Row(
                    references=count,
                    jitters=jitters,
                    pairs=len(scores),
                    d_prime=d_prime([d for d, t in scores if t], [d for d, t in scores if not t]),
                    same_person=_histogram([d for d, t in scores if t]),
                    different_people=_histogram([d for d, t in scores if not t]),
                    no_face=sum(1 for d, _ in scores if not np.isfinite(d)),
                    **metrics,
                )
            )
    return rows


def table(rows: list[Row], threshold: float) -> str:
    at = f"@{threshold}"
    head = (
        f"{'refs':>4} {'jitter':>6} {'pairs':>5} {'P' + at:>7} {'R' + at:>7}"
        f" {'bestF1 t':>8} {'F1':>6} {'t@99%P':>7} {'far true':>8} {'near false':>10} {'margin':>7}"
    )
    lines = [head]
    for r in rows:
        t99 = f"{r.threshold_99_precision:.3f}" if r.threshold_99_precision is not None else "-"
        lines.append(
            f"{r.references:>4} {r.jitters:>6} {r.pairs:>5} {r.precision:>7.3f} {r.recall:>7.3f}"
            f" {r.best_f1_threshold:>8.3f} {r.best_f1:>6.3f} {t99:>7} {r.farthest_true:>8.3f}"
            f" {r.nearest_false:>10.3f} {r.margin:>7.3f}"
        )
    return "\n".join(lines)


def as_json(rows: list[Row]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2)
