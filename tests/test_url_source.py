"""An organiser's list of photo URLs, through register_search and the local engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from findme.cli import UsageError, build_parser
from findme.cli.search_params import search_params
from findme.errors import BadRequest
from findme.settings import Settings
from findme.sources.urls import MAX_URLS, parse_urls
from findme.stages.available import available_sources
from findme.stages.register import register_search
from tests import mastodon_api as m
from tests import photo_variants as pv
from tests import x_api

HOST = "photos.example.org"
ALLOWED = f"{HOST}/pycon/"
BASE = f"https://{HOST}/pycon/2026"


def _settings() -> Settings:
    return Settings.load({"url_hosts": ALLOWED}, env={})


def test_the_list_is_checked_and_each_url_kept_once() -> None:
    urls = [f"{BASE}/a.jpg", f" {BASE}/b.jpg ", f"{BASE}/a.jpg"]
    assert parse_urls(urls, _settings()) == [f"{BASE}/a.jpg", f"{BASE}/b.jpg"]
    assert parse_urls(f"{BASE}/a.jpg\n{BASE}/b.jpg\n", _settings()) == [
        f"{BASE}/a.jpg",
        f"{BASE}/b.jpg",
    ]


@pytest.mark.parametrize(
    ("urls", "message"),
    [
        ([f"http://{HOST}/pycon/a.jpg"], "item 1 .*only https URLs are fetched"),
        ([f"{BASE}/a.jpg", "https://elsewhere.example/a.jpg"], "item 2 .*not on an allowed"),
        ([f"https://{HOST}/private/a.jpg"], "item 1 .*not on an allowed media host"),
        ([f"https://user:pw@{HOST}/pycon/a.jpg"], "credentials are refused"),
        ([f"{BASE}/a.jpg", 7], "item 2 is not a URL"),
        ([], "urls is required"),
        ([f"{BASE}/{n}.jpg" for n in range(MAX_URLS + 1)], "at most 10000 photo URLs"),
    ],
)
def test_a_bad_list_is_a_clear_400(urls: list, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        register_search({"source": "urls", "urls": urls, "handle": "ada", "url_hosts": ALLOWED})


def test_ten_thousand_urls_fit_in_one_request() -> None:
    """OpenWhisk takes 1 MB a request: 10,000 URLs of 100 characters fit."""
    urls = [f"{BASE}/{'x' * 46}/photo-{n:05}.jpg" for n in range(MAX_URLS)]
    assert len(urls[0]) == 100
    body = json.dumps({"source": "urls", "urls": urls, "reference_url": urls[0]})
    assert len(body.encode()) < 1024 * 1024
    assert len(parse_urls(urls, _settings())) == MAX_URLS


def test_end_to_end_the_organisers_photos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_client: object
) -> None:
    from findme.client import OpenWhiskClient
    from findme.local.runner import LocalFindMe
    from tests.conftest import wait_for_job

    photos = {"stage.jpg": "obama2.jpg", "hall.jpg": "biden.jpg", "group.jpg": "group.jpg"}
    cassette = x_api.write_cassette(
        tmp_path,
        [m.photo(f"{BASE}/{name}", file) for name, file in photos.items()]
        + [m.photo(f"{BASE}/speaker.jpg", "obama.jpg")],
    )
    monkeypatch.setenv("FINDME_REPLAY", str(cassette))
    monkeypatch.setenv("FINDME_URL_HOSTS", ALLOWED)
    urls = [f"{BASE}/{name}" for name in photos] + [f"{BASE}/stage.jpg", f"{BASE}/gone.jpg"]
    with LocalFindMe(photo_root=None, compare_workers=1) as local:
        client = OpenWhiskClient(local.api_host, local.auth)
        offered = requests.get(f"{local.api_host}/api/v1/web/guest/findme/sources.http", timeout=30)
        _, started = client.invoke(
            "register_search",
            {"source": "urls", "urls": urls, "reference_url": f"{BASE}/speaker.jpg"},
        )
        status = wait_for_job(client, started["job_id"])
    assert status["state"] == "done", status
    assert status["photos_total"] == 4  # stage.jpg listed twice, compared once
    assert sorted((x["photo"], x["post_url"], x["author"]) for x in status["matches"]) == [
        (f"{BASE}/group.jpg", f"{BASE}/group.jpg", HOST),
        (f"{BASE}/stage.jpg", f"{BASE}/stage.jpg", HOST),
    ]
    assert [f["photo"] for f in status["failed"]] == [f"{BASE}/gone.jpg"]
    # What the page offers: no X token, no Bluesky account, no photo root here.
    assert [s["source"] for s in offered.json()["sources"]] == ["mastodon", "urls"]
    assert offered.json()["sources"][1]["hosts"] == [ALLOWED]


def test_what_a_deployment_offers_follows_its_settings() -> None:
    full = available_sources(
        Settings.load(
            {
                "x_bearer_token": "t",
                "bluesky_handle": "a.bsky.social",
                "bluesky_app_password": "p",
                "mastodon_servers": "mastodon.example",
                "photo_root": "/",
            },
            env={},
        )
    )
    assert [s["source"] for s in full["sources"]] == ["folder", "twitter", "mastodon", "bluesky"]
    assert full["sources"][2]["servers"] == ["mastodon.example"]
    assert full["handles"] == ["x", "mastodon", "bluesky"]
    assert "p" not in json.dumps(full).replace('"', " ").split()
    # What a search keeps, and how long, is said before a photo is sent.
    assert full["keep_seconds"] == 7 * 24 * 3600
    # An organiser's links only where a host other than X's own photo host is allowed.
    organisers = available_sources(Settings.load({"url_hosts": ALLOWED}, env={}))
    assert [s["source"] for s in organisers["sources"]] == ["mastodon", "urls"]
    kept = Settings.load({"job_ttl_seconds": "86400"}, env={})
    assert available_sources(kept)["keep_seconds"] == 86400
    # An organiser's event: how long it may stay live and keep its faces, before it is made.
    assert full["events"] == {"max_live_hours": 72, "retention_days": 30, "min_retention_days": 1}
    short = Settings.load(
        {"event_max_live_seconds": "7200", "event_retention_seconds": str(5 * 86400)}, env={}
    )
    assert available_sources(short)["events"]["max_live_hours"] == 2
    assert available_sources(short)["events"]["retention_days"] == 5


def test_the_cli_sends_the_list_of_a_text_file(tmp_path: Path) -> None:
    listing = tmp_path / "photos.txt"
    listing.write_text(f"# the organiser's photos\n{BASE}/a.jpg\n\n  {BASE}/b.jpg\n")
    reference = tmp_path / "me.jpg"
    reference.write_bytes((pv.PHOTOS / "obama.jpg").read_bytes())
    args = build_parser().parse_args(
        ["search", "--urls", str(listing), "--reference", str(reference)]
    )
    params = search_params(args)
    assert params["source"] == "urls" and params["urls"] == [f"{BASE}/a.jpg", f"{BASE}/b.jpg"]
    listing.write_text("\n".join(f"{BASE}/{'x' * 100}/{n}.jpg" for n in range(MAX_URLS)))
    with pytest.raises(UsageError, match="OpenWhisk takes at most 1 MB a request"):
        search_params(args)
    # A list that fits alone, with a reference photo in the same request, does not.
    listing.write_text("\n".join(f"{BASE}/{'x' * 40}/{n:05}.jpg" for n in range(MAX_URLS)))
    with pytest.raises(UsageError, match="give fewer URLs, or --handle instead of a photo"):
        search_params(args)
