"""Fetching photos and reference pictures from the web, only from allowed media hosts."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from findme.images import MAX_PHOTO_BYTES, PhotoError

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15
_CHUNK = 64 * 1024


def check_url(url: str, allowed_hosts: frozenset[str]) -> str | None:
    """Why a URL may not be fetched, or None when it may."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "only https URLs are fetched"
    if parts.username or parts.password:
        return "URLs with credentials are refused"
    if (parts.hostname or "").lower() not in allowed_hosts:
        return f"host {parts.hostname!r} is not an allowed media host"
    return None


def fetch(url: str, allowed_hosts: frozenset[str]) -> bytes:
    problem = check_url(url, allowed_hosts)
    if problem:
        raise PhotoError(problem)
    try:
        with requests.get(
            url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=False
        ) as response:
            if response.is_redirect:
                raise PhotoError("redirects are not followed")
            if response.status_code != 200:
                raise PhotoError(f"download failed (HTTP {response.status_code})")
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if not kind.startswith("image/"):
                raise PhotoError(f"not an image (content type {kind or 'missing'})")
            body = bytearray()
            for chunk in response.iter_content(_CHUNK):
                body.extend(chunk)
                if len(body) > MAX_PHOTO_BYTES:
                    raise PhotoError(f"file too large (over {MAX_PHOTO_BYTES} bytes)")
            return bytes(body)
    except requests.RequestException as error:
        raise PhotoError(f"download failed ({type(error).__name__})") from None
