"""Photos from a folder inside the photo root the local engine was started with."""

from __future__ import annotations

import os
import stat
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


MAX_NAME_BYTES = 255  # one path component, as Linux and macOS file systems allow
MAX_PATH_BYTES = 4096


def inside_root(root: Path, relative: str, name: str) -> Path:
    """Resolves a path given by a caller; refuses anything that leaves the root, and
    anything the file system could not take (NUL, unencodable text, too long)."""
    if "\x00" in relative:
        raise BadRequest(f"{name} must not contain NUL characters")
    try:
        encoded = os.fsencode(relative)
    except UnicodeEncodeError:
        raise BadRequest(f"{name} is not valid text (a lone surrogate character)") from None
    if len(encoded) > MAX_PATH_BYTES or any(
        len(part) > MAX_NAME_BYTES for part in encoded.split(b"/")
    ):
        raise BadRequest(f"{name} is too long for a file name")
    if os.path.isabs(relative):
        raise BadRequest(f"{name} must be a path relative to the photo root")
    try:
        resolved = (root / relative).resolve()
    except (OSError, RuntimeError):  # a symlink loop, a component too long once resolved
        raise BadRequest(f"{name} cannot be resolved under the photo root") from None
    if resolved != root and root not in resolved.parents:
        raise BadRequest(f"{name} is outside the photo root")
    return resolved


def is_regular_file(path: Path) -> bool:
    """A regular file (after symlinks); never a FIFO, socket or device, which could block."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def read_limited(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_PHOTO_BYTES. Opened without blocking
    and checked again once open, so a FIFO or device put in its place is never read."""
    if not is_regular_file(path):
        raise PhotoError(_not_regular(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as error:
        raise PhotoError(f"unreadable ({error.strerror or type(error).__name__})") from None
    with os.fdopen(fd, "rb") as file:
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise PhotoError(_not_regular(path))
            if info.st_size > MAX_PHOTO_BYTES:
                raise PhotoError(f"file too large ({info.st_size} bytes, limit {MAX_PHOTO_BYTES})")
            data = file.read(MAX_PHOTO_BYTES + 1)
        except OSError as error:
            raise PhotoError(f"unreadable ({error.strerror or type(error).__name__})") from None
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError(f"file too large (more than {MAX_PHOTO_BYTES} bytes)")
    return data


def _not_regular(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return "unreadable (no such file)"
    kinds = {stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket", stat.S_ISDIR: "a folder"}
    kind = next((k for test, k in kinds.items() if test(mode)), "a device")
    return f"not a regular file ({kind})"


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
                if not is_regular_file(path):
                    continue  # a FIFO, socket or device named like a photo
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
