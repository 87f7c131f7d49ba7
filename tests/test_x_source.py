"""The X source against replayed X API v2 responses (no network here)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import responses

from findme import event_reading, replay
from findme.jobs import JobStore, new_job_id
from findme.settings import Settings
from findme.sources.twitter import (
    SearchCutShort,
    XSource,
    XUnavailable,
    photo_variant,
    profile_picture_url,
)
from tests import x_api

MEDIA = "https://pbs.twimg.com/media/{}?format=jpg&name=medium"


@pytest.fixture()
def settings() -> Settings:
    return Settings.load({"x_bearer_token": x_api.TOKEN}, env={})


@pytest.fixture()
def replaying(tmp_path: Path) -> Iterator[callable]:
    mocks: list[responses.RequestsMock] = []

    def start(interactions: list[dict]) -> responses.RequestsMock:
        mock = replay.install(x_api.write_cassette(tmp_path, interactions))
        mocks.append(mock)
        return mock

    yield start
    for mock in reversed(mocks):  # patches undone in the reverse order of their start
        mock.stop()
        mock.reset()
    replay._active = None


def _listed(source: XSource) -> list[dict]:
    """Every photo entry of a source's pages, as the search stage reads them."""
    return [entry for page, _ in source.pages(None) for entry in page]


def test_pages_photos_only_post_urls_and_authors(settings: Settings, replaying, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    mock = replaying(x_api.pycon_interactions())
    photos = list(_listed(XSource(settings, "#pycon")))
    assert photos == [
        {
            "photo": MEDIA.format("OBAMA2"),
            "post_url": "https://x.com/alice/status/101",
            "author": "alice",
        },
        {
            "photo": MEDIA.format("BIDEN"),
            "post_url": "https://x.com/alice/status/101",
            "author": "alice",
        },
        {
            "photo": MEDIA.format("GROUP"),
            "post_url": "https://x.com/carol/status/103",
            "author": "carol",
        },
        {
            "photo": MEDIA.format("BIDEN2"),
            "post_url": "https://x.com/dave/status/104",
            "author": "dave",
        },
        # the same photo posted again: the job's photo set compares it once
        {
            "photo": MEDIA.format("OBAMA2"),
            "post_url": "https://x.com/bob/status/105",
            "author": "bob",
        },
    ]
    searches = [c.request for c in mock.calls if "search/recent" in c.request.url]
    assert len(searches) == 4  # page 1, the 429, page 2 again, page 3
    first = searches[0]
    assert "query=%23pycon+-is%3Aretweet" in first.url
    assert "expansions=attachments.media_keys%2Cauthor_id" in first.url
    assert "media.fields=url%2Ctype%2Cwidth%2Cheight" in first.url
    assert "next_token=b26v89c19zqg8o3fpzbkk" in searches[2].url
    assert first.headers["Authorization"] == f"Bearer {x_api.TOKEN}"
    assert x_api.TOKEN not in caplog.text


def test_max_posts_caps_the_search(settings: Settings, replaying) -> None:
    replaying(x_api.pycon_interactions())
    photos = list(_listed(XSource(settings, "#pycon", max_posts=2)))
    assert [p["post_url"] for p in photos] == ["https://x.com/alice/status/101"] * 2


def test_a_401_is_about_the_token(settings: Settings, replaying) -> None:
    replaying([x_api.error(x_api.SEARCH, 401)])
    with pytest.raises(XUnavailable, match="X refused the bearer token \\(HTTP 401\\)") as caught:
        list(_listed(XSource(settings, "#pycon")))
    assert x_api.TOKEN not in str(caught.value)


def test_rate_limit_hit_again_and_again_fails_with_a_message(settings: Settings, replaying) -> None:
    replaying([x_api.error(x_api.SEARCH, 429, **{"x-rate-limit-reset": "1700000000"})])
    with pytest.raises(XUnavailable, match="X rate limit reached 3 times"):
        list(_listed(XSource(settings, "#pycon")))


def test_server_errors_are_retried(settings: Settings, replaying) -> None:
    interactions = x_api.pycon_interactions()
    replaying([interactions[0], x_api.error(x_api.SEARCH, 503), *interactions[2:]])
    assert len(list(_listed(XSource(settings, "#pycon")))) == 5


def test_an_error_after_some_pages_keeps_what_was_found(settings: Settings, replaying) -> None:
    interactions = x_api.pycon_interactions()
    replaying([interactions[2], x_api.error(x_api.SEARCH, 403)])
    found = []
    with pytest.raises(SearchCutShort, match="cut short after 3 posts: X refused the bearer token"):
        for page, _ in XSource(settings, "#pycon").pages(None):
            found += page
    assert len(found) == 3


def test_profile_picture_of_a_handle(settings: Settings, replaying) -> None:
    replaying([x_api.user("obama_speaker", x_api.PICTURE)])
    url = profile_picture_url(settings, "@obama_speaker")
    assert url == "https://pbs.twimg.com/profile_images/1500/speaker.jpg"


def test_an_unknown_handle(settings: Settings, replaying) -> None:
    replaying([x_api.no_such_user("nobody_here")])
    with pytest.raises(XUnavailable, match="X user @nobody_here does not exist"):
        profile_picture_url(settings, "nobody_here")


def test_no_token_is_a_clear_error() -> None:
    with pytest.raises(XUnavailable, match="no X bearer token"):
        list(_listed(XSource(Settings.load({}, env={}), "#pycon")))


def test_photo_size_variant() -> None:
    assert photo_variant("https://pbs.twimg.com/media/Fx1.png", "medium") == (
        "https://pbs.twimg.com/media/Fx1?format=png&name=medium"
    )


def test_end_to_end_the_cli_finds_the_posts_showing_the_person(tmp_path: Path) -> None:
    cassette = x_api.write_cassette(tmp_path, x_api.pycon_interactions())
    env = {**os.environ, "FINDME_REPLAY": str(cassette), "X_BEARER_TOKEN": x_api.TOKEN}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "findme",
            "search",
            "--query",
            "#pycon",
            "--handle",
            "obama_speaker",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["state"] == "done"
    assert result["photos_total"] == 4  # OBAMA2 posted twice is compared once
    assert sorted((m["photo"], m["post_url"]) for m in result["matches"]) == [
        (MEDIA.format("GROUP"), "https://x.com/carol/status/103"),
        (MEDIA.format("OBAMA2"), "https://x.com/alice/status/101"),
    ]
    assert x_api.TOKEN not in run.stdout + run.stderr


def test_the_token_travels_in_no_payload_result_or_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis
) -> None:
    from findme.client import OpenWhiskClient
    from findme.local.runner import LocalFindMe
    from tests.conftest import wait_for_job
    from tests.places import forget_places

    monkeypatch.setenv(
        "FINDME_REPLAY", str(x_api.write_cassette(tmp_path, x_api.pycon_interactions()))
    )
    monkeypatch.setenv("X_BEARER_TOKEN", x_api.TOKEN)
    forget_places(redis_client)  # the token must travel: #pycon is read from X again
    with LocalFindMe(photo_root=None, compare_workers=1) as local:
        client = OpenWhiskClient(local.api_host, local.auth)
        _, started = client.invoke(
            "register_search", {"query": "#pycon", "handle": "obama_speaker"}
        )
        status = wait_for_job(client, started["job_id"])
        records = [a.record() for a in local.engine.activations.recent(1000)]
    assert status["state"] == "done" and len(status["matches"]) == 2
    assert any(r["name"] == "tweet_image" for r in records)
    assert x_api.TOKEN not in json.dumps(records) + json.dumps(status)


def test_a_live_reading_of_new_posts_asks_x_since_the_newest_post(
    replaying, redis_client: redis.Redis
) -> None:
    """A live event's reading keeps the newest post id; its next reading of new posts
    asks X for posts after it (since_id), and a full reading asks for everything."""
    settings = Settings.load(
        {"x_bearer_token": x_api.TOKEN, "redis_url": os.environ["REDIS_URL"]}, env={}
    )
    store = JobStore(redis_client, 3600)
    job_id = new_job_id()
    store.create(job_id, {"job_id": job_id, "source": "twitter", "query": "#pycon"})

    def reading(mode: str, *posts: str) -> tuple[list[str], str]:
        """One reading of posts (ids, newest first, each with one photo named after it)."""
        store.update(job_id, listing_mode=mode)
        tweets = [x_api.tweet(post, "11", [f"3_{post}"]) for post in posts]
        media = [x_api.media(f"3_{post}", "photo", f"P{post}") for post in posts]
        mock = replaying([x_api.page(tweets, media, x_api.USERS)])
        entries = _listed(XSource.for_job(store.fields(job_id), settings))
        event_reading.finished(job_id, store, settings, complete=False)
        asked = next(c.request.url for c in mock.calls if "search/recent" in c.request.url)
        return [e["photo"] for e in entries], asked

    photos, asked = reading("full", "205", "204")
    assert len(photos) == 2 and "since_id" not in asked
    assert json.loads(store.fields(job_id)["listing_since"]) == {"x": "205"}
    photos, asked = reading("new", "207")
    assert "since_id=205" in asked and photos == [MEDIA.format("P207")]
    assert json.loads(store.fields(job_id)["listing_since"]) == {"x": "207"}
    # A reading of new posts stops at what it read before, even where X did not honour
    # since_id (here, answered with the posts read before too).
    photos, asked = reading("new", "208", "207", "205")
    assert "since_id=207" in asked and photos == [MEDIA.format("P208")]
    _, asked = reading("full", "208", "207", "205", "204")
    assert "since_id" not in asked
