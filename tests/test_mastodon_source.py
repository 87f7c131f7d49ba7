"""The Mastodon source against replayed Mastodon API responses (no network here)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import responses

from findme import event_reading, replay
from findme.errors import BadRequest
from findme.images import PhotoError
from findme.jobs import JobStore, new_job_id
from findme.settings import Settings
from findme.sources import SourceUnavailable, mastodon_server
from findme.sources.mastodon import MastodonSource, account_picture
from findme.stages.register import register_search
from tests import mastodon_api as m
from tests import x_api
from tests.listing import listed

SERVERS = [m.SERVER, m.SECOND, m.LOCKED]


@pytest.fixture()
def settings() -> Settings:
    return Settings.load({}, env={})


@pytest.fixture()
def replaying(tmp_path: Path) -> Iterator[callable]:
    mocks: list[responses.RequestsMock] = []

    def start(interactions: list[dict]) -> responses.RequestsMock:
        mastodon_server._instances.clear()
        mock = replay.install(x_api.write_cassette(tmp_path, interactions))
        mocks.append(mock)
        return mock

    yield start
    for mock in reversed(mocks):  # patches undone in the reverse order of their start
        mock.stop()
        mock.reset()
    replay._active = None


def test_hashtag_timelines_honour_peoples_choices(settings: Settings, replaying, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    mock = replaying(m.pycon_interactions())
    entries, warning = listed(MastodonSource(settings, SERVERS, ["pycon"]))
    summary = [(e["photo"], e["post_url"], e["author"], e.get("sensitive", False)) for e in entries]
    assert summary == [
        (m.media_url(m.MEDIA, "obama2"), f"https://{m.SERVER}/@alice/109", "alice", False),
        (
            m.media_url(m.MEDIA, "group", cache=True),
            "https://remote.example/@frank/104",
            "frank@remote.example",
            True,
        ),
        (m.FOREIGN, f"https://{m.SERVER}/@gina/103", "gina", False),
        (m.media_url(m.MEDIA, "biden2"), f"https://{m.SERVER}/@hal/102", "hal", False),
        # the remote post again on the second server (same origin URL): left out
    ]
    assert entries[1]["alt"] == "Two speakers on stage"
    assert entries[1]["origin"] == m.GROUP_ORIGIN  # compared by it, never downloaded
    assert warning == (
        "the Mastodon search was cut short: locked.example: locked.example lets only logged-in "
        "users read its hashtag feeds (its settings say so): its operator's choice; a FindMe "
        "operator can set an access token for locked.example (mastodon_token)"
    )
    pages = [c.request.url for c in mock.calls if "/timelines/tag/" in c.request.url]
    assert pages[0] == f"https://{m.SERVER}/api/v1/timelines/tag/pycon?only_media=true&limit=40"
    assert "max_id=104" in pages[1]
    assert all("Authorization" not in c.request.headers for c in mock.calls)
    assert not [p for p in pages if m.LOCKED in p]  # its settings said no: not asked
    assert "tracker.example" not in " ".join(c.request.url for c in mock.calls)


def test_an_operator_may_include_discoverable_authors(replaying) -> None:
    replaying(m.pycon_interactions())
    settings = Settings.load({"mastodon_include_discoverable": "1"}, env={})
    entries, _ = listed(MastodonSource(settings, [m.SERVER], ["pycon"]))
    authors = [e["author"] for e in entries]
    assert "dave" in authors  # discoverable, not indexable: included by the operator's choice
    assert "erin" not in authors  # noindex: never


def test_extra_tags_go_in_any(settings: Settings, replaying) -> None:
    page = m.tag_page(m.SERVER, [])
    page["url"] = page["url"] + "&any[]=pyconus&any[]=pycon2026"
    mock = replaying([m.instance(m.SERVER, m.MEDIA), page])
    entries, warning = listed(
        MastodonSource(settings, [m.SERVER], ["pycon", "pyconus", "pycon2026"])
    )
    assert entries == [] and warning is None
    assert len([c for c in mock.calls if "/timelines/tag/" in c.request.url]) == 1


def test_a_token_goes_only_to_its_server(replaying, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    mock = replaying(m.pycon_interactions(locked_status=200))
    settings = Settings.load({"mastodon_token": f"{m.LOCKED}={m.TOKEN}"}, env={})
    entries, warning = listed(MastodonSource(settings, SERVERS, ["pycon"]))
    assert warning is None and len(entries) == 4
    for call in mock.calls:
        sent = call.request.headers.get("Authorization")
        assert sent == (f"Bearer {m.TOKEN}" if m.LOCKED in call.request.url else None)
    assert m.TOKEN not in caplog.text and m.TOKEN not in repr(settings)


def test_a_feed_that_answers_401_is_said_so(settings: Settings, replaying) -> None:
    """A server whose settings do not say (before Mastodon 4.5) but answers 401."""
    interactions = m.pycon_interactions()
    replaying([m.instance(m.LOCKED, "media.locked.example"), interactions[6]])
    with pytest.raises(SourceUnavailable, match=r"only logged-in users .* \(HTTP 401\)"):
        list(MastodonSource(settings, [m.LOCKED], ["pycon"]).pages(None))


def test_a_refused_token_is_said_so(replaying) -> None:
    replaying(m.pycon_interactions())
    settings = Settings.load({"mastodon_token": f"{m.LOCKED}={m.TOKEN}"}, env={})
    with pytest.raises(
        SourceUnavailable, match=r"locked\.example refused FindMe's access token"
    ) as e:
        list(MastodonSource(settings, [m.LOCKED], ["pycon"]).pages(None))
    assert m.TOKEN not in str(e.value)


def test_pacing_by_the_rate_limit_headers(settings: Settings, replaying) -> None:
    """Remaining 0 with a reset that has passed: one short wait, then the next page."""
    interactions = m.pycon_interactions()
    interactions[1]["headers"].update(
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-01-01T00:00:00.000Z"}
    )
    replaying(interactions[:3])
    entries, warning = listed(MastodonSource(settings, [m.SERVER], ["pycon"]))
    assert warning is None and len(entries) == 4


def test_a_rate_limit_too_far_away_cuts_the_search_short(settings: Settings, replaying) -> None:
    interactions = m.pycon_interactions()
    interactions[1]["headers"].update(
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2099-01-01T00:00:00.000Z"}
    )
    replaying(interactions[:3])
    entries, warning = listed(MastodonSource(settings, [m.SERVER], ["pycon"]))
    assert len(entries) == 2  # the first page's photos stand
    assert warning == (
        "the Mastodon search was cut short: mastodon.example after 6 posts: mastodon.example's "
        "rate limit (300 requests per 5 minutes) was reached; it resets at 00:00:00 UTC"
    )


def test_a_429_is_waited_out_then_cut_short(settings: Settings, replaying) -> None:
    interactions = m.pycon_interactions()
    limited = m.error(
        interactions[2]["url"],
        429,
        "Too many requests",
        **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2099-01-01T00:00:00.000Z"},
    )
    replaying([*interactions[:2], limited])
    entries, warning = listed(MastodonSource(settings, [m.SERVER], ["pycon"]))
    assert len(entries) == 2 and "rate limit" in (warning or "")


def test_a_search_where_no_server_answers_fails_with_the_reasons(
    settings: Settings, replaying
) -> None:
    replaying(m.pycon_interactions())
    with pytest.raises(SourceUnavailable, match="no Mastodon server could be searched: locked"):
        list(MastodonSource(settings, [m.LOCKED], ["pycon"]).pages(None))


def test_the_cursor_resumes_on_the_next_page(settings: Settings, replaying) -> None:
    mock = replaying(m.pycon_interactions())
    source = MastodonSource(settings, [m.SERVER], ["pycon"])
    _, cursor = next(source.pages(None))
    assert json.loads(cursor)["next"].endswith("max_id=104&only_media=true")
    resumed = [e for page, _ in source.pages(cursor) for e in page]
    assert [e["author"] for e in resumed] == ["gina", "hal"]
    assert len([c for c in mock.calls if "/timelines/tag/" in c.request.url]) == 2


def test_downloads_only_from_the_server_and_its_media_host(settings: Settings, replaying) -> None:
    mock = replaying(m.pycon_interactions())
    entries, _ = listed(MastodonSource(settings, [m.SERVER], ["pycon"]))
    source = MastodonSource(settings, [m.SERVER], ["pycon"])
    assert source.read(entries[0])[:2] == b"\xff\xd8"
    with pytest.raises(PhotoError, match=r"tracker\.example/pixel\.jpg is not on an allowed media"):
        source.read(entries[2])
    assert not [c for c in mock.calls if "tracker.example" in c.request.url]


def test_the_avatar_of_an_address(settings: Settings, replaying) -> None:
    replaying(m.pycon_interactions())
    url, hosts = account_picture(settings, "@speaker@mastodon.example")
    assert url == m.AVATAR and hosts == {m.SERVER, m.MEDIA}


def test_an_unknown_account(settings: Settings, replaying) -> None:
    lookup = m.error(f"https://{m.SERVER}/api/v1/accounts/lookup?acct=nobody", 404, "Not found")
    replaying([m.instance(m.SERVER, m.MEDIA), lookup])
    with pytest.raises(SourceUnavailable, match=r"@nobody@mastodon\.example does not exist"):
        account_picture(settings, "@nobody@mastodon.example")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"servers": ["not a server"]}, "servers: 'not a server' is not a Mastodon server's host"),
        ({"servers": ["127.0.0.1"]}, "servers: '127.0.0.1' is not a Mastodon server's host"),
        ({"servers": ["localhost"]}, "servers: 'localhost' is not a Mastodon server's host"),
        ({"servers": ["a.example:8080"]}, "is not a Mastodon server's host"),
        ({"servers": []}, "servers is required for Mastodon"),
        ({"servers": ["mastodon.example"], "query": "#py-con"}, "'#py-con' is not a hashtag"),
        ({"servers": ["mastodon.example"], "query": "#2026"}, "'#2026' is not a hashtag"),
        ({"servers": ["mastodon.example"], "query": "#a #b #c #d #e #f"}, "at most 5 hashtags"),
        ({"servers": ["mastodon.example"], "query": ""}, "query is required for Mastodon"),
        ({"servers": ["mastodon.example"], "handle": "@x@localhost"}, "handle must be an X"),
    ],
)
def test_bad_servers_tags_and_handles_are_a_clear_400(params: dict, message: str) -> None:
    args = {"source": "mastodon", "query": "#pycon", "handle": "ada", **params}
    with pytest.raises(BadRequest, match=message.replace("(", r"\(").replace(")", r"\)")):
        register_search(args)


def test_an_operator_may_limit_the_servers() -> None:
    args = {"source": "mastodon", "servers": ["other.example"], "query": "#pycon", "handle": "a"}
    with pytest.raises(BadRequest, match=r"only these Mastodon servers: mastodon\.example"):
        register_search({**args, "mastodon_servers": "mastodon.example"})


def test_end_to_end_matches_carry_post_links_and_the_avatar_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_client: object
) -> None:
    from findme.client import OpenWhiskClient
    from findme.local.runner import LocalFindMe
    from tests.conftest import wait_for_job

    monkeypatch.setenv("FINDME_REPLAY", str(x_api.write_cassette(tmp_path, m.pycon_interactions())))
    monkeypatch.setenv("FINDME_MASTODON_TOKEN", f"elsewhere.example={m.TOKEN}")
    with LocalFindMe(photo_root=None, compare_workers=1) as local:
        client = OpenWhiskClient(local.api_host, local.auth)
        _, started = client.invoke(
            "register_search",
            {
                "source": "mastodon",
                "servers": ["mastodon.example", "https://fosstodon.example/", "locked.example"],
                "query": "#pycon",
                "handle": "@speaker@mastodon.example",
            },
        )
        status = wait_for_job(client, started["job_id"])
        records = [a.record() for a in local.engine.activations.recent(1000)]
        refused = requests.post(
            f"{local.api_host}/api/v1/web/guest/findme/register_search.http",
            json={"source": "mastodon", "servers": ["mastodon.example/@x"], "query": "#pycon"},
            timeout=30,
        )
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "servers: 'mastodon.example/@x' is not a Mastodon server's host name"
    }
    assert status["state"] == "done", status
    assert sorted((x["post_url"], x["author"]) for x in status["matches"]) == [
        ("https://mastodon.example/@alice/109", "alice"),
        ("https://remote.example/@frank/104", "frank@remote.example"),
    ]
    frank = next(x for x in status["matches"] if x["author"] == "frank@remote.example")
    assert frank["sensitive"] is True and frank["alt"] == "Two speakers on stage"
    assert status["photos_total"] == 4  # the remote photo read on two servers, compared once
    assert status["failed"] == [
        {"photo": m.FOREIGN, "reason": "tracker.example/pixel.jpg is not on an allowed media host"}
    ]
    assert status["reference_pictures"] == [
        {"handle": "@speaker@mastodon.example", "network": "mastodon", "picture": m.AVATAR}
    ]
    assert "locked.example lets only logged-in users" in status["warning"]
    assert m.TOKEN not in json.dumps(records) + json.dumps(status)


def test_the_cli_searches_servers_for_a_hashtag(tmp_path: Path) -> None:
    cassette = x_api.write_cassette(tmp_path, m.pycon_interactions())
    env = {**os.environ, "FINDME_REPLAY": str(cassette)}
    command = [sys.executable, "-m", "findme", "search", "--query", "#pycon", "--json"]
    command += ["--server", m.SERVER, "--server", m.SECOND]
    command += ["--handle", "@speaker@mastodon.example"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert sorted((x["post_url"], x["author"]) for x in result["matches"]) == [
        ("https://mastodon.example/@alice/109", "alice"),
        ("https://remote.example/@frank/104", "frank@remote.example"),
    ]
    assert result["reference_pictures"][0]["picture"] == m.AVATAR


def test_without_instance_details_downloads_stay_on_the_server(
    settings: Settings, replaying
) -> None:
    interactions = m.pycon_interactions()
    v2, v1 = (m.error(f"https://{m.SERVER}/api/{v}/instance", 404, "Gone") for v in ("v2", "v1"))
    replaying([v2, v1, *interactions[1:3]])
    entries, warning = listed(MastodonSource(settings, [m.SERVER], ["pycon"]))
    assert warning is None and entries[0]["hosts"] == [m.SERVER]
    with pytest.raises(PhotoError, match=r"files\.mastodon\.example/.* is not on an allowed"):
        MastodonSource(settings, [m.SERVER], ["pycon"]).read(entries[0])


def test_the_media_host_from_the_instance_icons(settings: Settings, replaying) -> None:
    interactions = m.pycon_interactions()
    described = m.instance(m.SERVER, m.MEDIA)
    del described["json"]["thumbnail"]
    described["json"]["icon"] = [
        {"src": f"https://{m.MEDIA}/site_uploads/files/000/000/002/36x36/i.png", "size": "36x36"}
    ]
    replaying([described, *interactions[1:3], *interactions[8:]])
    entries, _ = listed(MastodonSource(settings, [m.SERVER], ["pycon"]))
    assert entries[0]["hosts"] == [m.MEDIA, m.SERVER]
    assert MastodonSource(settings, [m.SERVER], ["pycon"]).read(entries[0])[:2] == b"\xff\xd8"


def test_a_live_reading_of_new_posts_stops_at_the_newest_post_read_before(
    replaying, redis_client
) -> None:
    """A live event's reading keeps each server's newest post id; its next reading of
    new posts lists only newer posts and asks for no page past them."""
    settings = Settings.load({"redis_url": os.environ["REDIS_URL"]}, env={})
    store = JobStore(redis_client, 3600)
    job_id = new_job_id()
    job = {"job_id": job_id, "source": "mastodon", "servers": json.dumps([m.SERVER])}
    store.create(job_id, {**job, "tags": json.dumps(["pycon"])})
    alice = m.status("301", m.ALICE, [m.image(m.media_url(m.MEDIA, "obama2"))])
    bob = m.status("302", m.BOB, [m.image(m.media_url(m.MEDIA, "biden"))])
    carol = m.status("303", m.CAROL, [m.image(m.media_url(m.MEDIA, "group"))])

    def reading(mode: str, posts: list[dict], since: str = "") -> tuple[list[str], int]:
        store.update(job_id, listing_mode=mode)
        page = m.tag_page(m.SERVER, posts, next_max_id=posts[-1]["id"])
        # Asked since the newest post read before; answered as by a server ignoring it.
        page["url"] += f"&since_id={since}" if since else ""
        older = m.tag_page(m.SERVER, [], max_id=posts[-1]["id"])
        mock = replaying([m.instance(m.SERVER, m.MEDIA), page, older])
        entries, _ = listed(MastodonSource.for_job(store.fields(job_id), settings))
        event_reading.finished(job_id, store, settings, complete=False)
        pages = [c for c in mock.calls if "/timelines/tag/" in c.request.url]
        return [e["photo"] for e in entries], len(pages)

    assert reading("full", [bob, alice]) == (
        [m.media_url(m.MEDIA, n) for n in ("biden", "obama2")],
        2,
    )
    assert json.loads(store.fields(job_id)["listing_since"]) == {m.SERVER: "302"}
    assert reading("new", [carol, bob, alice], since="302") == ([m.media_url(m.MEDIA, "group")], 1)
    assert json.loads(store.fields(job_id)["listing_since"]) == {m.SERVER: "303"}
