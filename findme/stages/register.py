"""register_search: validates a search, creates its job and fires search_request."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from findme import params
from findme.download import check_url
from findme.errors import BadRequest, run_action
from findme.events import fire_trigger
from findme.images import PhotoError, open_image
from findme.jobs import new_job_id
from findme.settings import DEFAULT_THRESHOLD, MAX_THRESHOLD, MIN_THRESHOLD, Settings
from findme.sources import SOURCES
from findme.sources.folder import inside_root, photo_root
from findme.sources.twitter import DEFAULT_MAX_POSTS, HANDLE_PATTERN
from findme.store import job_store

REFERENCE_PARAMS = ("reference_image", "reference_url", "reference_path", "handle")
MAX_REFERENCE_BASE64 = 14 * 1024 * 1024  # about 10 MB of image


def _decode_reference_image(text: str) -> bytes:
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]  # a data: URL from a browser's FileReader
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("reference_image is not valid base64") from None
    try:
        image = open_image(data)
    except PhotoError as error:
        raise BadRequest(f"reference_image: {error}") from None
    if image.format not in ("JPEG", "PNG", "WEBP", "GIF", "BMP"):
        raise BadRequest("reference_image must be a JPEG or PNG image")
    return data


def _reference(args: dict[str, Any], settings: Settings) -> tuple[str, str, bytes | None]:
    """(kind, value kept in the job, uploaded bytes) of the one reference given."""
    given = [name for name in REFERENCE_PARAMS if args.get(name) not in (None, "")]
    if not given:
        raise BadRequest(f"a reference is required: one of {', '.join(REFERENCE_PARAMS)}")
    if len(given) > 1:
        raise BadRequest(f"give one reference only, not {' and '.join(given)}")
    name = given[0]
    if name == "reference_image":
        text = params.required_str(args, name, MAX_REFERENCE_BASE64)
        return "image", "", _decode_reference_image(text)
    if name == "reference_url":
        url = params.required_str(args, name, 2048)
        problem = check_url(url, settings.allowed_media_hosts)
        if problem:
            raise BadRequest(f"reference_url: {problem}")
        return "url", url, None
    if name == "reference_path":
        path = params.required_str(args, name, 1024)
        resolved = inside_root(photo_root(settings), path, name)
        if not resolved.is_file():
            raise BadRequest("reference_path is not a file under the photo root")
        return "path", path, None
    handle = params.required_str(args, name, 16)
    if not HANDLE_PATTERN.match(handle):
        raise BadRequest("handle must be an X username (letters, digits, _; at most 15)")
    return "handle", handle.lstrip("@"), None


def _source(args: dict[str, Any], settings: Settings) -> dict[str, str]:
    folder = params.optional_str(args, "folder", 1024)
    source = params.optional_str(args, "source", 32) or ("folder" if folder else "twitter")
    if source not in SOURCES:
        raise BadRequest(f"source must be one of: {', '.join(SOURCES)} (got {source!r})")
    if source == "twitter":
        if not params.optional_str(args, "query", 512):
            raise BadRequest("query is required for the X source (for example '#pycon')")
        max_posts = params.number_in_range(args, "max_posts", DEFAULT_MAX_POSTS, 10, 10_000)
        return {"source": source, "max_posts": str(int(max_posts))}
    if folder is None:
        raise BadRequest("folder is required for the folder source")
    resolved = inside_root(photo_root(settings), folder, "folder")
    if not resolved.is_dir():
        raise BadRequest(f"folder {folder!r} is not a folder under the photo root")
    # The root is kept so `findme report` can embed the photos later.
    return {"source": source, "folder": folder, "photo_root": str(photo_root(settings))}


def register_search(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    query = params.optional_str(args, "query", 512) or ""
    threshold = params.number_in_range(
        args, "threshold", DEFAULT_THRESHOLD, MIN_THRESHOLD, MAX_THRESHOLD
    )
    source = _source(args, settings)
    kind, reference, upload = _reference(args, settings)
    store = job_store(settings)
    job_id = new_job_id()
    fields = {
        **source,
        "query": query,
        "threshold": repr(threshold),
        "reference_kind": kind,
        "reference": reference,
    }
    store.create(job_id, fields, upload=upload)
    try:
        fire_trigger(settings, "search_request", {"job_id": job_id})
    except Exception as error:
        store.fail(job_id, f"could not start the search: {error}")
        raise
    return {"job_id": job_id}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(register_search, args)
