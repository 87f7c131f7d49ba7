"""What a person asked `findme search` for, checked and turned into register_search's
params before any engine starts."""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

from findme.cli.errors import UsageError
from findme.images import PhotoError, open_image, shrunk_jpeg
from findme.settings import MAX_THRESHOLD, MIN_THRESHOLD, Settings
from findme.sources.folder import IMAGE_SUFFIXES
from findme.sources.urls import MAX_URLS
from findme.stages.register import MAX_REFERENCES

# All reference photos together, before base64 (4/3 more): OpenWhisk takes at most
# 1 MB a request, and the rest of the request needs a little of it.
UPLOAD_BYTES = 700_000
SHRUNK_SIDES = (1600, 1200, 900, 640)  # tried in turn until a photo fits its share
MAX_URL_LIST_BYTES = 1_000_000  # leaves room under OpenWhisk's 1 MB for the rest


def search_params(args: argparse.Namespace) -> dict[str, Any]:
    """The register_search params of a CLI search."""
    if not MIN_THRESHOLD <= args.threshold <= MAX_THRESHOLD:
        raise UsageError(f"--threshold must be between {MIN_THRESHOLD} and {MAX_THRESHOLD}")
    if args.reference is None and args.handle is None:
        raise UsageError(
            f"give a reference: --reference PHOTO (repeat for up to {MAX_REFERENCES} photos "
            "of the person), or --handle with an X username, a Mastodon address "
            "(@name@server) or a Bluesky handle (name.bsky.social)"
        )
    if args.reference is not None and args.handle is not None:
        raise UsageError("give --reference photos or --handle, not both")
    if args.reference is not None and len(args.reference) > MAX_REFERENCES:
        raise UsageError(
            f"give at most {MAX_REFERENCES} references (--reference was given "
            f"{len(args.reference)} times)"
        )
    params: dict[str, Any] = {"query": args.query, "threshold": args.threshold}
    params.update(source_params(args))
    if args.reference is not None:
        share = UPLOAD_BYTES // len(args.reference)
        params["reference_image"] = [
            base64.b64encode(_read_reference(path, share)).decode() for path in args.reference
        ]
    else:
        params["handle"] = args.handle
    size = len(json.dumps(params))
    if params.get("urls") and size > MAX_URL_LIST_BYTES:
        raise UsageError(
            f"the URL list and the reference photos make a {size}-byte request: OpenWhisk "
            "takes at most 1 MB; give fewer URLs, or --handle instead of a photo"
        )
    return params


def _read_reference(path: Path, share: int) -> bytes:
    """The photo as uploaded: as it is when it fits its share of the request, else an
    upright JPEG copy shrunk until it does (as the page shrinks a phone photo)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read reference {path}: {error.strerror}") from None
    try:
        image = open_image(data)
        for side in SHRUNK_SIDES:
            if len(data) <= share:
                break
            data = shrunk_jpeg(image, max_side=side)
    except PhotoError as error:
        raise UsageError(f"reference {path} is unusable: {error}") from None
    return data


def _read_urls(path: Path) -> list[str]:
    """An organiser's photo URLs, one a line (blank lines and # comments skipped)."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read the URL list {path}: {error}") from None
    urls = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not urls:
        raise UsageError(f"{path} holds no URLs (one https photo URL a line)")
    if len(urls) > MAX_URLS:
        raise UsageError(f"{path} holds {len(urls)} URLs: give at most {MAX_URLS}")
    size = len(json.dumps(urls))
    if size > MAX_URL_LIST_BYTES:
        raise UsageError(
            f"{path} is {size} bytes as JSON: OpenWhisk takes at most 1 MB a request "
            "(10,000 URLs of about 90 characters); split the list into several searches"
        )
    return urls


def source_params(args: argparse.Namespace) -> dict[str, Any]:
    """Which source a CLI search (or event) reads, and its params."""
    if getattr(args, "event", None):
        return {"event_id": args.event}
    source = args.source or (
        "folder"
        if args.folder is not None
        else "urls"
        if args.urls is not None
        else "mastodon"
        if args.server
        else "twitter"
    )
    if source == "folder":
        if args.folder is None:
            raise UsageError("give --folder DIR, the folder of photos to search")
        if args.folder.exists() and not args.folder.is_dir():
            raise UsageError(
                f"{args.folder} is a file, not a folder: give the folder that holds the photos"
            )
        if not args.folder.is_dir():
            raise UsageError(f"no such folder: {args.folder}")
        _check_photos(args.folder)
        return {"source": "folder", "folder": "."}
    if source == "urls":
        if args.urls is None:
            raise UsageError("give --urls FILE, a text file of photo URLs, one a line")
        return {"source": "urls", "urls": _read_urls(args.urls)}
    if not args.query:
        raise UsageError(
            "give --folder DIR, or --query '#hashtag' to search X, Mastodon (with --server) "
            "or Bluesky (with --source bluesky), or --urls FILE"
        )
    if source == "bluesky":
        settings = Settings.load()
        if not (settings.bluesky_handle and settings.bluesky_app_password):
            raise UsageError(
                "searching Bluesky needs a Bluesky account: set FINDME_BLUESKY_HANDLE "
                "(name.bsky.social) and FINDME_BLUESKY_APP_PASSWORD (an app password, "
                "made in Bluesky's settings)"
            )
    if source == "mastodon":
        if not args.server:
            raise UsageError("give --server HOST (repeat for more) to search Mastodon")
        return {"source": "mastodon", "servers": args.server, "max_posts": args.max_posts}
    return {"source": source, "max_posts": args.max_posts}


def _check_photos(folder: Path) -> None:
    """A folder without photos is a clear error; other files are mentioned, not hidden."""
    photos, skipped = 0, []
    for _, subdirs, files in os.walk(folder):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() in IMAGE_SUFFIXES:
                photos += 1
            else:
                skipped.append(name)
    kinds = ", ".join(sorted({Path(n).suffix.lower() or n for n in skipped})[:8])
    if photos == 0:
        found = f" (only {len(skipped)} other files: {kinds})" if skipped else " (it is empty)"
        raise UsageError(
            f"no photos in {folder}{found}; FindMe reads JPEG, PNG, GIF, BMP, WebP and TIFF"
        )
    if skipped:
        files = (
            "1 file that is not a photo"
            if len(skipped) == 1
            else (f"{len(skipped)} files that are not photos")
        )
        print(f"findme: skipping {files} ({kinds})", file=sys.stderr)
