"""register_search: validates a search, creates its job and fires search_request."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any

from findme import event_search, params
from findme.download import check_url
from findme.errors import ActionError, BadRequest, NotFound, run_action
from findme.images import PhotoError, open_image
from findme.jobs import JobStore, State, new_job_id
from findme.ownership import OWNER_FIELD, new_owner_key, owner_digest
from findme.places import event_for_search, start_job
from findme.reference import ReferenceUnusable
from findme.settings import (
    DEFAULT_THRESHOLD,
    MAX_THRESHOLD,
    MIN_THRESHOLD,
    Settings,
    deployment_of,
)
from findme.sources import SOURCES, SourceUnavailable
from findme.sources.folder import inside_root, is_regular_file, photo_root, read_limited
from findme.sources.mastodon import parse_servers, parse_tags
from findme.sources.profiles import MAX_HANDLE_LENGTH, network_of, shown
from findme.sources.twitter import DEFAULT_MAX_POSTS
from findme.sources.urls import parse_urls
from findme.stages.search import listing_lease_ms
from findme.store import job_store

REFERENCE_PARAMS = ("reference_image", "reference_url", "reference_path", "handle")
# OpenWhisk refuses a request over 1 MB before any action runs; the page and the
# CLI shrink photos to about 1600 px before they upload them.
MAX_REFERENCE_BASE64 = 1024 * 1024
MAX_REFERENCES = 10
# A chosen face's box is in the photo's pixels; no photo FindMe reads is larger.
MAX_BOX_COORDINATE = 100_000
# Pillow's format name -> the name people know.
REFERENCE_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "GIF": "GIF", "WEBP": "WebP", "BMP": "BMP"}


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
    if image.format not in REFERENCE_FORMATS:
        *first, last = REFERENCE_FORMATS.values()
        raise BadRequest(
            f"reference_image must be a {', '.join(first)} or {last} image"
            f" (this one is {image.format or 'of an unknown format'})"
        )
    return data


def _values(args: dict[str, Any], name: str) -> list[Any]:
    """A reference parameter's values: one string, or a list of them."""
    value = args.get(name)
    if value is None or value == "" or value == []:
        return []
    return value if isinstance(value, list) else [value]


def _one_reference(name: str, value: Any, settings: Settings) -> tuple[str, str, bytes | None]:
    """(kind, value kept in the job, uploaded bytes) of one reference."""
    one = {name: value}
    if name == "reference_image":
        if isinstance(value, str) and len(value) > MAX_REFERENCE_BASE64:
            raise BadRequest(
                "reference_image is too large to upload (at most 1 MB): "
                "send a smaller photo, about 1600 pixels on its longest side"
            )
        text = params.required_str(one, name, MAX_REFERENCE_BASE64)
        return "image", "", _decode_reference_image(text)
    if name == "reference_url":
        url = params.required_str(one, name, 2048)
        problem = check_url(url, settings.allowed_media_hosts | settings.url_hosts)
        if problem:
            raise BadRequest(f"reference_url: {problem}")
        return "url", url, None
    if name == "reference_path":
        path = params.required_str(one, name, 1024)
        resolved = inside_root(photo_root(settings), path, name)
        if not is_regular_file(resolved):
            raise BadRequest("reference_path is not a file under the photo root")
        try:
            open_image(read_limited(resolved))  # the header only: its size and kind
        except PhotoError as error:
            raise BadRequest(f"reference_path: {error}") from None
        return "path", path, None
    handle = params.required_str(one, name, MAX_HANDLE_LENGTH).strip()
    network = network_of(handle)
    if network is None:
        raise BadRequest(
            "handle must be an X username (like ada_l), a Mastodon address "
            "(like @ada@mastodon.social) or a Bluesky handle (like ada.bsky.social)"
        )
    return "handle", shown(handle, network).lstrip("@"), None


def uploaded_photo(args: dict[str, Any], settings: Settings) -> bytes:
    """The bytes of reference_image, checked as a search's reference photo is."""
    _, _, data = _one_reference("reference_image", args.get("reference_image"), settings)
    assert data is not None
    return data


def _references(args: dict[str, Any], settings: Settings) -> list[tuple[str, str, bytes | None]]:
    """Up to MAX_REFERENCES photos of the person, from any mix of the reference params."""
    given = [(name, value) for name in REFERENCE_PARAMS for value in _values(args, name)]
    if not given:
        raise BadRequest(f"a reference is required: one of {', '.join(REFERENCE_PARAMS)}")
    if len(given) > MAX_REFERENCES:
        raise BadRequest(f"give at most {MAX_REFERENCES} reference photos, not {len(given)}")
    if len(_values(args, "handle")) > 1:
        raise BadRequest("handle: give one handle")
    return [_one_reference(name, value, settings) for name, value in given]


def chosen_face(args: dict[str, Any], references: int) -> list[int] | None:
    """reference_face: the box [top, right, bottom, left] of the face the person chose
    in their one reference photo (one of photo_faces' boxes); none: its largest face."""
    value = args.get("reference_face")
    if value is None or value == "" or value == []:
        return None
    if references != 1:
        raise BadRequest("reference_face: choose a face only with one reference photo")
    if (
        not isinstance(value, list)
        or len(value) != 4
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or not all(0 <= v <= MAX_BOX_COORDINATE for v in value)
    ):
        raise BadRequest(
            "reference_face must be a face's box [top, right, bottom, left] in pixels, "
            "as photo_faces gives it"
        )
    top, right, bottom, left = value
    if not (top < bottom and left < right):
        raise BadRequest("reference_face: a box's top must be above its bottom, left before right")
    return value


def source_fields(args: dict[str, Any], settings: Settings) -> dict[str, str]:
    """The job fields of where to look, checked (shared with create_event)."""
    folder = params.optional_str(args, "folder", 1024)
    query = params.optional_str(args, "query", 512)
    guessed = [
        name for name, given in (("urls", "urls"), ("mastodon", "servers")) if args.get(given)
    ]
    source = params.optional_str(args, "source", 32)
    if source is None and folder is None and query is None and not guessed:
        raise BadRequest(
            "a folder, a list of photo URLs or a query is needed: folder (a folder under "
            "the photo root), urls, or query (an X search such as '#pycon')"
        )
    source = source or ("folder" if folder else guessed[0] if guessed else "twitter")
    if source not in SOURCES:
        raise BadRequest(f"source must be one of: {', '.join(SOURCES)} (got {source!r})")
    if source in ("mastodon", "bluesky"):
        query = params.optional_str(args, "query", 512)
        max_posts = params.number_in_range(args, "max_posts", DEFAULT_MAX_POSTS, 10, 10_000)
        fields = {"source": source, "max_posts": str(int(max_posts))}
        if source == "bluesky":
            if not query or not query.strip():
                raise BadRequest("query is required for Bluesky (for example '#pycon')")
            if not (settings.bluesky_handle and settings.bluesky_app_password):
                raise BadRequest("this FindMe has no Bluesky account set up (bluesky_handle)")
            return fields
        servers = parse_servers(args.get("servers"), settings)
        tags = parse_tags(query or "")
        return {**fields, "servers": json.dumps(servers), "tags": json.dumps(tags)}
    if source == "urls":
        return {"source": source, "urls": json.dumps(parse_urls(args.get("urls"), settings))}
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


def _event_fields(event_id: str, store: JobStore) -> dict[str, str]:
    """A search of an event: where it looks is the event's index."""
    if not params.JOB_ID_PATTERN.match(event_id):
        raise BadRequest("event_id is not a FindMe event id")
    event = store.fields(event_id)
    if event is None or event.get("role") != "event":
        raise NotFound(f"no event {event_id} (unknown, deleted or expired)")
    fields = {"event": event_id, "event_name": event.get("name", "")}
    for name in ("source", "query", "folder", "photo_root", "servers", "tags", "urls_total"):
        if event.get(name):
            fields[name] = event[name]
    return fields


def _search_now(job_id: str, store: JobStore, settings: Settings) -> dict[str, Any]:
    """An indexed event is searched in this activation: one invocation a person, no
    trigger, no waiting (OpenWhisk's 60 a minute serve 60 people, not 20). It holds the
    job's listing lease meanwhile, so a sweep that sees the new search does not start
    it a second time (its uploaded photo is read once, then deleted)."""
    token = secrets.token_hex(8)
    if not store.take_search_lease(job_id, token, listing_lease_ms(settings)):
        return {"job_id": job_id}  # a listing activation has it already
    job = store.fields(job_id) or {}
    try:
        state = event_search.start(job_id, job, store, settings)
    except (ReferenceUnusable, SourceUnavailable, ActionError) as error:
        store.fail(job_id, str(error))
        return {"job_id": job_id, "state": State.FAILED.value}
    finally:
        store.release_search_lease(job_id, token)
    return {"job_id": job_id, "state": state}


def register_search(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    params.require_post(args, "register_search")
    query = params.optional_str(args, "query", 512) or ""
    threshold = params.number_in_range(
        args, "threshold", DEFAULT_THRESHOLD, MIN_THRESHOLD, MAX_THRESHOLD
    )
    store = job_store(settings)
    event = params.optional_str(args, "event_id", 64)
    place = source_fields(args, settings) if event is None else None
    references = _references(args, settings)  # refused before any listing starts
    face = chosen_face(args, len(references))
    if place is not None:
        # A place some event indexes (an organiser's, an earlier person's) is reused.
        urls = json.loads(place.pop("urls", "[]"))
        event = event_for_search(store, settings, place, urls, query)
    source = _event_fields(str(event), store)
    job_id = new_job_id()
    fields = {
        **source,
        "job_id": job_id,
        "deployment": deployment_of(settings.api_host),
        "query": source.get("query", query),
        "threshold": repr(threshold),
        "references": json.dumps(
            [
                {"kind": kind, "value": value, **({"face": face} if face else {})}
                for kind, value, _ in references
            ]
        ),
    }
    owner_key = new_owner_key()
    fields[OWNER_FIELD] = owner_digest(owner_key)  # the key itself is shown once, below
    uploads = {index: data for index, (_, _, data) in enumerate(references) if data is not None}
    store.create(job_id, fields, uploads=uploads)
    if (store.fields(str(event)) or {}).get("state") == State.DONE.value:
        return {**_search_now(job_id, store, settings), "owner_key": owner_key}
    start_job(job_id, store, settings, "could not start the search")
    return {"job_id": job_id, "owner_key": owner_key}


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(register_search, args)
