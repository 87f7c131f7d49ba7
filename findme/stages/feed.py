"""search_feed: a search's matches as an Atom feed, newest first, so a person can follow
an event's new photos of them in a feed reader instead of keeping a page open.

Served through OpenWhisk's .http extension (application/atom+xml). Anyone with the
search's id may read it, as anyone with its view link may look at its results.
"""

from __future__ import annotations

import time
from typing import Any
from xml.etree import ElementTree as ET

from findme import event_search, params
from findme.errors import Forbidden, HttpAnswer, NotFound, run_action
from findme.ownership import may_view
from findme.settings import Settings
from findme.store import job_store

ATOM = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 200


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _text(parent: ET.Element, tag: str, value: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    element.text = value
    return element


def atom(job_id: str, fields: dict[str, str], matches: list[dict[str, Any]]) -> str:
    """The feed document: one entry a matching photo, the newest found first."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    where = fields.get("event_name") or fields.get("query") or fields.get("folder") or "a search"
    _text(feed, "title", f"FindMe: photos of you in {where}")
    _text(feed, "id", f"urn:findme:search:{job_id}")
    found = [
        float(m.get("found") or fields.get("finished") or fields.get("created") or 0)
        for m in matches
    ]
    _text(feed, "updated", _when(max(found, default=float(fields.get("created", "0")))))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "FindMe")
    for match, when in sorted(zip(matches, found, strict=True), key=lambda p: -p[1])[:MAX_ENTRIES]:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        by = f" by {match['author']}" if match.get("author") else ""
        _text(entry, "title", f"A photo of you{by} ({match.get('confidence', 'possible')} match)")
        _text(entry, "id", f"urn:findme:search:{job_id}:{match['photo']}")
        _text(entry, "updated", _when(when))
        link = match.get("post_url") or (match["photo"] if "://" in match["photo"] else "")
        if link:
            ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "href": link})
        summary = f"{match['photo']}: distance {match.get('distance', 0):.2f}"
        if match.get("alt"):
            summary += f". {match['alt']}"
        _text(entry, "summary", summary)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True)


def search_feed(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    job_id = params.job_id(args)
    store = job_store(settings)
    fields = store.fields(job_id)
    if fields is None:
        raise NotFound(f"no job {job_id} (unknown or expired)")
    if not may_view(fields, args):
        raise Forbidden("its owner stopped sharing this search: only they can see it now")
    if fields.get("event") and fields.get("search_done") == "1":
        event_search.catch_up(job_id, store, settings)  # only what is new since it looked
    return HttpAnswer(
        statusCode=200,
        headers={"Content-Type": "application/atom+xml; charset=utf-8"},
        body=atom(job_id, fields, store.matches(job_id)),
    )


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(search_feed, args)
