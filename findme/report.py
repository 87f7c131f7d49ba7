"""The trip report of a finished job: its matches as CSV, JSON or one self-contained HTML page.

Every value is escaped where it lands, links are https only (a fired photo can carry any
post_url), and CSV cells cannot start a spreadsheet formula."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageOps

from findme.images import PhotoError, open_image
from findme.job_words import folder_name, reference_names, where

THUMBNAIL_SIDE = 480  # a card's size: 300 matches stay a few MB (the zip holds originals)
CSV_FIELDS = [
    "photo",
    "post_url",
    "author",
    "distance",
    "confidence",
    "top",
    "right",
    "bottom",
    "left",
]


FOLDER_FIELDS = [f for f in CSV_FIELDS if f not in ("post_url", "author")]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_link(url: Any) -> str:
    """An https URL, or "" for anything else (javascript:, data:, relative paths)."""
    if not isinstance(url, str):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme == "https" and parts.netloc else ""


def neutral(value: Any) -> Any:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows(status: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for match in status["matches"]:
        top, right, bottom, left = match["box"]
        confirmed = match.get("review") == "confirmed"
        out.append(
            {
                "photo": match["photo"],
                "post_url": safe_link(match.get("post_url")),
                "author": match.get("author") or "",
                # A confirmed face became a reference: its distance (0) says nothing.
                "distance": "" if confirmed else match["distance"],
                "confidence": "confirmed" if confirmed else match.get("confidence", ""),
                "top": top,
                "right": right,
                "bottom": bottom,
                "left": left,
            }
        )
    return out


def to_csv(status: dict[str, Any]) -> str:
    fields = FOLDER_FIELDS if status.get("source") == "folder" else CSV_FIELDS
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: neutral(v) for k, v in row.items()} for row in rows(status))
    return out.getvalue()


def _iso(epoch: Any) -> str | None:
    if not epoch:
        return None
    return dt.datetime.fromtimestamp(float(epoch), dt.timezone.utc).isoformat(timespec="seconds")


def to_json(status: dict[str, Any]) -> str:
    keys = (
        "job_id",
        "query",
        "source",
        "folder",
        "threshold",
        "state",
        "photos_total",
        "photos_done",
        "photos_failed",
    )
    document = {
        **{k: status.get(k) for k in keys},
        "created": _iso(status.get("created")),
        "finished": _iso(status.get("finished")),
        "matches": rows(status),
    }
    return json.dumps(document, indent=2)


def thumbnail_data_url(data: bytes) -> str | None:
    """A small upright JPEG of the photo as a data: URL, so the page needs nothing else."""
    try:
        image = ImageOps.exif_transpose(open_image(data))
        image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=82)
    except (PhotoError, OSError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


_STYLE = """
body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1d2433;background:#f6f7fb}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1rem}h1{color:#2f6fed;margin:0}
.meta{color:#5b6477}ul{list-style:none;padding:0;display:grid;gap:1rem;align-items:start;
grid-template-columns:repeat(auto-fill,minmax(14rem,1fr))}li{background:#fff;border-radius:12px;
overflow:hidden;box-shadow:0 1px 3px #0002}.photo{position:relative;line-height:0}
.photo img{width:100%;display:block}.face{position:absolute;border:3px solid #ffd400;
border-radius:4px}.caption{padding:.6rem .8rem;display:flex;flex-direction:column;gap:.2rem;
font-size:.9rem;overflow-wrap:anywhere}a{color:#2f6fed}
"""


def _title(status: dict[str, Any]) -> str:
    if status.get("query"):
        return str(status["query"])
    if status.get("source") == "folder":
        return f"Photos in {folder_name(status)}"
    if status.get("source") == "urls":
        return "Photos from a list of URLs"
    return "FindMe search"


def _outcome(status: dict[str, Any]) -> str:
    """How many photos of the person, among how many, and whether the search ended."""
    found, total = len(status["matches"]), int(status.get("photos_total") or 0)
    done = int(status.get("photos_done", total) or 0)
    of_you = f"{found} photo{'' if found == 1 else 's'} of you"
    state = status.get("state") or "done"
    if state == "done":
        return f"{of_you} among {total} in {where(status)}"
    ended = {
        "cancelled": "The search was stopped",
        "failed": f"The search failed ({status.get('error') or 'no reason given'})",
    }.get(state, "Still searching")
    if not total:
        return f"{ended} before any photo was listed in {where(status)}"
    among = f"{of_you} among the {done} checked in {where(status)}"
    if state in ("cancelled", "failed"):
        return f"{ended} after {done} of {total} photos: {among}"
    return f"{ended} ({done} of {total} photos so far): {among}"


def to_html(status: dict[str, Any], photo_bytes: Callable[[dict[str, Any]], bytes | None]) -> str:
    created = dt.datetime.fromtimestamp(status.get("created") or 0, dt.timezone.utc)
    references = reference_names(status)
    reference = f"; reference: {', '.join(references)}" if references else ""
    title = _title(status)
    items = []
    for match in status["matches"]:
        data = photo_bytes(match)
        source = thumbnail_data_url(data) if data else None
        top, right, bottom, left = match["box"]
        width, height = match.get("width") or 1, match.get("height") or 1
        outline = (
            f"left:{100 * left / width:.2f}%;top:{100 * top / height:.2f}%;"
            f"width:{100 * (right - left) / width:.2f}%;height:{100 * (bottom - top) / height:.2f}%"
        )
        post = safe_link(match.get("post_url"))
        link = post or safe_link(match["photo"])
        label = html.escape("open the post" if post else match["photo"])
        caption = f'<a href="{html.escape(link)}">{label}</a>' if link else label
        picture = (
            f'<img src="{html.escape(source)}" alt="{html.escape(match["photo"])}">'
            f'<div class="face" style="{html.escape(outline)}"></div>'
            if source
            else f"<p>{html.escape(match['photo'])} (photo not available)</p>"
        )
        word = (
            "confirmed by you"
            if match.get("review") == "confirmed"
            else (f"distance {float(match['distance']):.2f}, {match.get('confidence', 'possible')}")
        )
        items.append(
            f'<li><div class="photo">{picture}</div><div class="caption">{caption}'
            f"<span>{html.escape(word)}</span></div></li>"
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} — FindMe</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="meta">{html.escape(_outcome(status))}; faces up to distance '
        f"{float(status.get('threshold') or 0):.2f}{html.escape(reference)}; "
        f"searched {created:%Y-%m-%d %H:%M} UTC</p>"
        f"<ul>{''.join(items)}</ul></main></body></html>"
    )
