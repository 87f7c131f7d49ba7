"""The trip report of a finished job: its matches as CSV, JSON or one self-contained HTML page."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import io
import json
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageOps

from findme.images import PhotoError, open_image

THUMBNAIL_SIDE = 800
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


def rows(status: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for match in status["matches"]:
        top, right, bottom, left = match["box"]
        out.append(
            {
                "photo": match["photo"],
                "post_url": match.get("post_url") or "",
                "author": match.get("author") or "",
                "distance": match["distance"],
                "confidence": match.get("confidence", ""),
                "top": top,
                "right": right,
                "bottom": bottom,
                "left": left,
            }
        )
    return out


def to_csv(status: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(status))
    return out.getvalue()


def to_json(status: dict[str, Any]) -> str:
    keys = ("job_id", "query", "state", "created", "photos_total", "photos_done", "photos_failed")
    return json.dumps({**{k: status.get(k) for k in keys}, "matches": rows(status)}, indent=2)


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
border-radius:4px}.caption{padding:.6rem .8rem;display:flex;justify-content:space-between;
gap:.5rem;font-size:.9rem}.caption>*{min-width:0}.caption span{white-space:nowrap}
a{color:#2f6fed;overflow-wrap:anywhere}
"""


def to_html(status: dict[str, Any], photo_bytes: Callable[[dict[str, Any]], bytes | None]) -> str:
    created = dt.datetime.fromtimestamp(status.get("created") or 0, dt.timezone.utc)
    title = status.get("query") or "FindMe search"
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
        link = match.get("post_url") or (
            match["photo"] if match["photo"].startswith("https://") else ""
        )
        label = html.escape("open the post" if match.get("post_url") else match["photo"])
        caption = f'<a href="{html.escape(link)}">{label}</a>' if link else label
        picture = (
            f'<img src="{source}" alt="{html.escape(match["photo"])}">'
            f'<div class="face" style="{outline}"></div>'
            if source
            else f"<p>{html.escape(match['photo'])} (photo not available)</p>"
        )
        items.append(
            f'<li><div class="photo">{picture}</div><div class="caption">{caption}'
            f"<span>distance {match['distance']:.2f}</span></div></li>"
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} — FindMe</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="meta">{len(status["matches"])} photos of you among {status["photos_total"]}, '
        f"searched {created:%Y-%m-%d %H:%M} UTC</p>"
        f"<ul>{''.join(items)}</ul></main></body></html>"
    )
