"""The Bluesky source against replayed XRPC responses (no network here)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import responses

from findme import event_reading, replay
from findme.errors import BadRequest
from findme.images import PhotoError
from findme.jobs import JobStore, new_job_id
from findme.settings import Settings
from findme.sources import SourceUnavailable
from findme.sources.bluesky import BlueskySource, profile_picture
from findme.stages.register import register_search
from tests import bluesky_api as b
from tests import x_api
from tests.listing import listed

CREATE = f"{b.SERVICE}/com.atproto.server.createSession"
REFRESH = f"{b.SERVICE}/com.atproto.server.refreshSession"


@pytest.fixture()
def settings(redis_client: redis.Redis) -> Settings:
    for key in redis_client.scan_iter("findme:bluesky:*"):
        redis_client.delete(key)
    return Settings.load(
        {
            "bluesky_handle": b.ACCOUNT,
            "bluesky_app_password": b.PASSWORD,
            "redis_url": os.environ["REDIS_URL"],
        },
        env={},
    )


@pytest.fixture()
def replaying(tmp_path: Path) -> Iterator[callable]:
    mocks: list[responses.RequestsMock] = []

    def start(interactions: list[dict]) -> responses.RequestsMock:
        if mocks:
            mocks[-1].stop()
            replay._active = None
        mock = replay.install(x_api.write_cassette(tmp_path, interactions))
        mocks.append(mock)
        return mock

    yield start
    mocks[-1].stop()
    replay._active = None


def logins(mock: responses.RequestsMock) -> int:
    return len([c for c in mock.calls if c.request.url == CREATE])


def test_search_photos_post_links_and_peoples_choices(settings, replaying, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    mock = replaying(b.pycon_interactions())
    entries, warning = listed(BlueskySource(settings, "#pycon"))
    assert warning is None
    assert [(e["photo"], e["post_url"], e["author"]) for e in entries] == [
        (
            b.fullsize(b.ANNA, "obama2"),
            "https://bsky.app/profile/anna.bsky.social/post/3kpost1",
            "anna.bsky.social",
        ),
        (
            b.fullsize(b.BEN, "biden"),
            "https://bsky.app/profile/ben.example.com/post/3kpost2",
            "ben.example.com",
        ),
        (
            b.fullsize(b.CARA, "group"),
            "https://bsky.app/profile/cara.bsky.social/post/3kpost7",
            "cara.bsky.social",
        ),
        (
            b.fullsize(b.CARA, "biden2"),
            "https://bsky.app/profile/cara.bsky.social/post/3kpost7",
            "cara.bsky.social",
        ),
        (b.FOREIGN, "https://bsky.app/profile/anna.bsky.social/post/3kpostb", "anna.bsky.social"),
    ]
    assert entries[0]["alt"] == "On stage"
    searches = [c.request for c in mock.calls if "searchPosts" in c.request.url]
    assert len(searches) == 2 and "cursor=6" in searches[1].url
    assert "q=%23pycon&sort=latest&limit=100" in searches[0].url
    assert all(s.headers["Authorization"] == f"Bearer {b.ACCESS}" for s in searches)
    assert logins(mock) == 1
    assert not any(secret in caplog.text for secret in b.SECRETS)


def test_one_session_serves_many_searches(settings, replaying) -> None:
    mock = replaying(b.pycon_interactions())
    listed(BlueskySource(settings, "#pycon"))
    mock = replaying(b.pycon_interactions())  # another activation, another process
    listed(BlueskySource(settings, "#pycon"))
    assert logins(mock) == 0  # the session kept in Redis is used again


def test_an_expired_session_is_refreshed_not_created_again(settings, replaying) -> None:
    interactions = b.pycon_interactions()
    replaying([interactions[0], interactions[1]])
    next(BlueskySource(settings, "#pycon").pages(None))
    expired = b.xrpc_error(interactions[1]["url"], 400, "ExpiredToken", "Token has expired")
    mock = replaying(
        [expired, b.session(b.ACCESS_TWO, b.REFRESH_TWO, refreshed=True), *interactions[1:]]
    )
    entries, warning = listed(BlueskySource(settings, "#pycon"))
    assert warning is None and len(entries) == 5
    assert logins(mock) == 0
    refresh = [c.request for c in mock.calls if c.request.url == REFRESH]
    assert len(refresh) == 1 and refresh[0].headers["Authorization"] == f"Bearer {b.REFRESH}"
    later = [c.request for c in mock.calls if "searchPosts" in c.request.url][1:]
    assert all(r.headers["Authorization"] == f"Bearer {b.ACCESS_TWO}" for r in later)


def test_a_spent_refresh_token_logs_in_again(settings, replaying) -> None:
    interactions = b.pycon_interactions()
    replaying([interactions[0], interactions[1]])
    next(BlueskySource(settings, "#pycon").pages(None))
    mock = replaying(
        [
            b.xrpc_error(interactions[1]["url"], 400, "ExpiredToken", "Token has expired"),
            b.xrpc_error(REFRESH, 400, "ExpiredToken", "Token has been revoked", method="POST"),
            b.session(b.ACCESS_TWO, b.REFRESH_TWO),
            *interactions[1:],
        ]
    )
    entries, _ = listed(BlueskySource(settings, "#pycon"))
    assert len(entries) == 5 and logins(mock) == 1


def test_a_wrong_app_password_is_said_so_without_it(settings, replaying) -> None:
    replaying([b.xrpc_error(CREATE, 401, "AuthenticationRequired", "Invalid password", "POST")])
    with pytest.raises(SourceUnavailable, match="Bluesky refused FindMe's login") as caught:
        listed(BlueskySource(settings, "#pycon"))
    assert b.PASSWORD not in str(caught.value)


def test_a_rate_limit_after_a_page_keeps_its_photos(settings, replaying) -> None:
    interactions = b.pycon_interactions()
    limited = b.xrpc_error(
        interactions[2]["url"],
        429,
        "RateLimitExceeded",
        "Rate Limit Exceeded",
        **{"RateLimit-Remaining": "0", "RateLimit-Reset": "4102444800"},
    )
    replaying([*interactions[:2], limited])
    entries, warning = listed(BlueskySource(settings, "#pycon"))
    assert len(entries) == 2
    assert warning == (
        "the Bluesky search was cut short after 6 posts: Bluesky's rate limit was reached"
    )


def test_a_rate_limit_before_any_page_fails(settings, replaying) -> None:
    interactions = b.pycon_interactions()
    limited = b.xrpc_error(
        interactions[1]["url"],
        429,
        "RateLimitExceeded",
        "Rate Limit Exceeded",
        **{"RateLimit-Reset": "4102444800"},
    )
    replaying([interactions[0], limited])
    with pytest.raises(SourceUnavailable, match="Bluesky's rate limit was reached"):
        listed(BlueskySource(settings, "#pycon"))


def test_downloads_only_from_the_cdn_image_paths(settings, replaying) -> None:
    mock = replaying(b.pycon_interactions())
    entries, _ = listed(BlueskySource(settings, "#pycon"))
    source = BlueskySource(settings, "#pycon")
    assert source.read(entries[0])[:2] == b"\xff\xd8"
    with pytest.raises(PhotoError, match="not on an allowed media host"):
        source.read(entries[-1])
    assert not [c for c in mock.calls if "elsewhere.example" in c.request.url]


def test_the_avatar_of_a_handle(settings, replaying) -> None:
    replaying(b.pycon_interactions())
    url, hosts = profile_picture(settings, "speaker.bsky.social")
    assert url == b.AVATAR and hosts == {"cdn.bsky.app/img/"}


def test_no_account_set_up_is_a_clear_400() -> None:
    with pytest.raises(BadRequest, match="this FindMe has no Bluesky account set up"):
        register_search({"source": "bluesky", "query": "#pycon", "handle": "ada"})


def test_end_to_end_matches_and_no_secret_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis
) -> None:
    from findme.client import OpenWhiskClient
    from findme.local.runner import LocalFindMe
    from tests.conftest import wait_for_job

    for key in redis_client.scan_iter("findme:bluesky:*"):
        redis_client.delete(key)
    monkeypatch.setenv("FINDME_REPLAY", str(x_api.write_cassette(tmp_path, b.pycon_interactions())))
    monkeypatch.setenv("FINDME_BLUESKY_HANDLE", b.ACCOUNT)
    monkeypatch.setenv("FINDME_BLUESKY_APP_PASSWORD", b.PASSWORD)
    with LocalFindMe(photo_root=None, compare_workers=1) as local:
        client = OpenWhiskClient(local.api_host, local.auth)
        _, started = client.invoke(
            "register_search",
            {"source": "bluesky", "query": "#pycon", "handle": "speaker.bsky.social"},
        )
        status = wait_for_job(client, started["job_id"])
        records = [a.record() for a in local.engine.activations.recent(1000)]
    assert status["state"] == "done", status
    assert sorted(x["post_url"] for x in status["matches"]) == [
        "https://bsky.app/profile/anna.bsky.social/post/3kpost1",
        "https://bsky.app/profile/cara.bsky.social/post/3kpost7",
    ]
    assert status["photos_total"] == 5
    assert status["reference_pictures"] == [
        {"handle": "speaker.bsky.social", "network": "bluesky", "picture": b.AVATAR}
    ]
    seen = json.dumps(records) + json.dumps(status)
    assert not any(secret in seen for secret in b.SECRETS)


def _posted(rkey: str, who: dict, name: str, at: str) -> dict:
    return {**b.post(rkey, who, b.images(b.image_view(who, name))), "indexedAt": at}


def test_a_live_reading_of_new_posts_asks_since_the_newest_post_read_before(
    settings, replaying, redis_client: redis.Redis
) -> None:
    """A live event's reading keeps the newest post's time; its next reading of new
    posts asks Bluesky for posts since then and stops at the posts read before."""
    store = JobStore(redis_client, 3600)
    job_id = new_job_id()
    store.create(job_id, {"job_id": job_id, "source": "bluesky", "query": "#pycon"})
    older = _posted("3kold", b.ANNA, "obama2", "2026-11-29T18:00:00.000Z")
    newer = _posted("3knew", b.BEN, "biden", "2026-11-29T19:30:00+00:00")
    mock = replaying([b.session(), b.search_page([newer, older])])
    entries, _ = listed(BlueskySource.for_job(store.fields(job_id), settings))
    assert len(entries) == 2 and "since=" not in mock.calls[-1].request.url
    event_reading.finished(job_id, store, settings, complete=False)
    since = "2026-11-29T19:30:00.000000Z"
    assert json.loads(store.fields(job_id)["listing_since"]) == {"bluesky": since}

    store.update(job_id, listing_mode="new")
    latest = _posted("3klate", b.CARA, "group", "2026-11-29T21:00:00.000Z")
    offered = b.search_page([latest, newer, older], since=since, next_cursor="7")
    mock = replaying([b.session(), offered])
    entries, warning = listed(BlueskySource.for_job(store.fields(job_id), settings))
    # `since` is inclusive: the newest post read before comes again (and is known).
    assert [e["photo"] for e in entries] == [
        b.fullsize(b.CARA, "group"),
        b.fullsize(b.BEN, "biden"),
    ]
    searches = [c.request.url for c in mock.calls if "searchPosts" in c.request.url]
    assert warning is None and len(searches) == 1  # no next page: it reached what it read
    event_reading.finished(job_id, store, settings, complete=False)
    assert json.loads(store.fields(job_id)["listing_since"]) == {
        "bluesky": "2026-11-29T21:00:00.000000Z"
    }
