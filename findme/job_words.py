"""A search in a person's words, from its job record: who it looks for (its
references) and where it looks (what it searched, for every kind of source).
`findme jobs` and the reports use the same words, so that searches are told apart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from findme.sources.profiles import network_of


def _list(fields: dict[str, Any], name: str) -> list[Any]:
    try:
        value = json.loads(fields.get(name) or "[]")
    except (TypeError, ValueError):
        return []
    return value if isinstance(value, list) else []


def reference_names(fields: dict[str, Any]) -> list[str]:
    """Each reference as a person knows it: the file name the CLI uploaded, the
    handle whose profile picture it is, the path or URL; "an uploaded photo" when
    nothing else is known (the page's uploads)."""
    files = _list(fields, "reference_files")  # the CLI's: one a reference, in order
    names = []
    for index, reference in enumerate(_list(fields, "references")):
        kind, value = reference.get("kind"), str(reference.get("value") or "")
        if kind == "handle":
            names.append(value if network_of(value) == "bluesky" else f"@{value}")
        elif kind == "image":
            named = index < len(files) and files[index]
            names.append(str(named) if named else "an uploaded photo")
        else:
            names.append(value or "a photo")
    return names


def folder_path(fields: dict[str, Any]) -> Path:
    """The folder a folder search read (the root for ".")."""
    root = Path(fields.get("photo_root") or "")
    folder = fields.get("folder") or "."
    return root if folder == "." else root / folder


def folder_name(fields: dict[str, Any]) -> str:
    return folder_path(fields).name or "all photos"


def where(fields: dict[str, Any], full_path: bool = False) -> str:
    """What the search looked through, e.g. "the X posts matching #pycon"."""
    source, query = fields.get("source"), fields.get("query") or ""
    if source == "folder":
        return f"the folder {folder_path(fields) if full_path else folder_name(fields)}"
    if source == "urls":
        total = int(fields.get("urls_total") or 0)
        return f"a list of {total} photo URLs" if total else "a list of photo URLs"
    if source == "mastodon":
        servers = ", ".join(map(str, _list(fields, "servers"))) or "Mastodon"
        return f"the Mastodon posts tagged {query} on {servers}"
    if source == "bluesky":
        return f"the Bluesky posts matching {query}"
    return f"the X posts matching {query}"


def search_name(fields: dict[str, Any]) -> str:
    """A few words naming the search, for its reports' file names: its query, the
    folder's name, or its kind of source."""
    if fields.get("query"):
        return str(fields["query"])
    if fields.get("source") == "folder":
        return folder_name(fields)
    return {"urls": "photo links"}.get(str(fields.get("source")), "search")
