"""Photos from a folder inside the photo root the local engine was started with."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from findme.errors import BadRequest
from findme.images import MAX_PHOTO_BYTES, PhotoError
from findme.settings import Settings

PAGE_SIZE = 500
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}


def photo_root(settings: Settings) -> Path:
    if settings.photo_root is None:
        raise BadRequest("folder sources need the local engine's photo root (findme --photos)")
    return settings.photo_root


def inside_root(root: Path, relative: str, name: str) -> Path:
    """Resolves a path given by a caller; refuses anything that leaves the root."""
    if os.path.isabs(relative):
        raise BadRequest(f"{name} must be a path relative to the photo root")
    resolved = (root / relative).resolve()
    if resolved != root and root not in resolved.parents:
        raise BadRequest(f"{name} is outside the photo root")
    return resolved


def read_limited(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_PHOTO_BYTES:
            raise PhotoError(f"file too large ({size} bytes, limit {MAX_PHOTO_BYTES})")
        return path.read_bytes()
    except PhotoError:
        raise
    except OSError as error:
        raise PhotoError(f"unreadable ({error.strerror or type(error).__name__})") from None


@dataclass(frozen=True)
class FolderSource:
    root: Path
    folder: Path

    @classmethod
    def for_job(cls, job: dict[str, str], settings: Settings) -> FolderSource:
        root = photo_root(settings)
        return cls(root=root, folder=inside_root(root, job.get("folder", "."), "folder"))

    def photos(self) -> Iterator[dict[str, Any]]:
        """Image files under the folder, depth first in name order, hidden ones skipped."""
        for directory, subdirs, files in os.walk(self.folder):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            here = Path(directory)
            for name in sorted(files):
                path = here / name
                if name.startswith(".") or path.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                if path.is_symlink() and self.root not in path.resolve().parents:
                    continue  # a link that leaves the photo root
                yield {"photo": path.relative_to(self.folder).as_posix()}

    def pages(self, cursor: str | None) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """The photos in pages; the cursor is how many were listed before (the walk's
        order is stable)."""
        start = int(cursor) if cursor and cursor.isdigit() else 0
        listed = 0
        page: list[dict[str, Any]] = []
        for entry in self.photos():
            listed += 1
            if listed <= start:
                continue
            page.append(entry)
            if len(page) >= PAGE_SIZE:
                yield page, str(listed)
                page = []
        yield page, None

    def read(self, entry: dict[str, Any]) -> bytes:
        try:
            path = inside_root(self.folder, str(entry.get("photo", "")), "photo")
        except BadRequest as error:
            raise PhotoError(str(error)) from None
        if self.root not in path.parents:
            raise PhotoError("photo is outside the photo root")
        return read_limited(path)
