"""How a search's result reads on the terminal and as `--json`."""

from __future__ import annotations

from typing import Any

from findme.settings import SURE_FIND_PER_MIN_FACE, Settings


def printable(text: str) -> str:
    """Text a caller chose (a query, a file name) as the terminal should show it: a
    control character (an escape sequence that retitles the window or writes the
    clipboard) is written out as \\x1b, never sent to the terminal."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


def match_line(match: dict[str, Any]) -> str:
    post = f"  {match['post_url']}" if match.get("post_url") else ""
    small = match.get("small_faces", 0)
    note = f", {count(small, 'face')} too small to compare reliably" if small else ""
    return (
        f"match  {match['photo']}  distance {match['distance']:.3f}"
        f" ({match.get('confidence', 'possible')}{note}){post}"
    )


def stopped(what: str, job_id: str, progress: dict[str, Any]) -> str:
    """Where a stopped search got to, and how to go on with it ("findme: " + what + ...)."""
    total, done, found = progress["photos_total"], progress["photos_done"], progress["matches"]
    found = found if isinstance(found, int) else len(found)  # a count, or the matches
    where = (
        f"after {done} of {count(total, 'photo')} ({found} {'match' if found == 1 else 'matches'}"
        " so far)"
        if total
        else "before any photo was listed"
    )
    return f"findme: {what} {where}. Go on with: findme search --resume {job_id}"


def small_faces_note(photos: int) -> str:
    """Why a photo of the person can be missed, and what would find it."""
    min_face = Settings.load().min_face_px
    smallest = round(SURE_FIND_PER_MIN_FACE * min_face)
    held = "photo holds" if photos == 1 else "photos hold"
    return (
        f"{photos} {held} faces under {smallest} px, too small to compare reliably: "
        f"a photo of you there can be missed (FINDME_MIN_FACE={min_face}; "
        "a lower one looks for smaller faces, more slowly)"
    )


def with_file_names(status: dict[str, Any], files: list[str]) -> dict[str, Any]:
    """The status with each uploaded reference named by its file, where the search
    says "reference 2 of 3 (upload)": the CLI knows the files it uploaded."""
    if not files:
        return status

    def named(text: str) -> str:
        for index, name in enumerate(files):
            upload = f"reference {index + 1} of {len(files)} (upload)"
            text = text.replace(upload, f"reference {index + 1} of {len(files)} ({name})")
        return text

    renamed = {**status, "reference_notes": [named(n) for n in status.get("reference_notes", [])]}
    if status.get("error"):
        renamed["error"] = named(status["error"])
    if not renamed["reference_notes"]:
        del renamed["reference_notes"]
    return renamed


def summary(status: dict[str, Any]) -> dict[str, Any]:
    """The `--json` document of a search: its counts, matches and failed photos."""
    return {
        "job_id": status["job_id"],
        "state": status["state"],
        "error": status.get("error"),
        "photos_total": status["photos_total"],
        "photos_done": status["photos_done"],
        "photos_failed": status["photos_failed"],
        "matches": [
            {
                "photo": m["photo"],
                "distance": m["distance"],
                "confidence": m.get("confidence"),
                "faces": m.get("faces"),
                "small_faces": m.get("small_faces", 0),
                "box": m["box"],
                # A face the photo's edge cuts: matched only when nearer (docs/accuracy.md).
                **({"cut": True} if m.get("cut") else {}),
                **({"post_url": m["post_url"]} if m.get("post_url") else {}),
                **({"author": m["author"]} if m.get("author") else {}),
            }
            for m in status["matches"]
        ],
        "failed": status["failed"],
        "photos_with_small_faces": status.get("photos_with_small_faces", 0),
        **({"warning": status["warning"]} if status.get("warning") else {}),
        # The event that indexed the photos: `findme search --event ID` searches it again.
        **({"event": status["event"]} if status.get("event") else {}),
        **({"reference_notes": status["reference_notes"]} if status.get("reference_notes") else {}),
        **(
            {"reference_pictures": status["reference_pictures"]}
            if status.get("reference_pictures")
            else {}
        ),
    }
