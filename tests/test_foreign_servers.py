"""The attacks of issue 23 that come from foreign servers and the links people give:
media hosts, Mastodon servers, lists of photo URLs. Each is repeated from outside:
through register_search, the listing and the downloads, against replayed answers
or a real (TLS) server on 127.0.0.1.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import responses

from findme import download, event_admin, replay
from findme.cli import build_parser
from findme.download import fetch
from findme.errors import BadRequest
from findme.images import PhotoError
from findme.jobs import JobStore, new_job_id
from findme.settings import Settings
from findme.sources import SourceUnavailable, mastodon_server
from findme.sources.mastodon import MastodonSource
from findme.sources.mastodon_server import MastodonServer
from findme.sources.urls import UrlListSource
from findme.stages.register import register_search
from findme.stages.search import search
from findme.state import keys
from tests import fake_https, x_api
from tests import mastodon_api as m
from tests import photo_variants as pv
from tests.fake_https import serve_bytes, trickle
from tests.listing import listed

BUCKET = "bucket.example.org"


# -- 12: an allowed path prefix is not left by .. in any spelling ----------------------------


@pytest.mark.parametrize(
    "path",
    [
        "alice/../bob/a.jpg",
        "alice/%2e%2e/bob/a.jpg",
        "alice/%2E%2e/bob/a.jpg",
        "alice%2f..%2fbob/a.jpg",
        "alice/%252e%252e/bob/a.jpg",
        "alice/..;/bob/a.jpg",
        "alice/..%5cbob/a.jpg",
        "alice/./../bob/a.jpg",
    ],
)
def test_an_allowed_path_prefix_cannot_be_climbed_out_of(path: str) -> None:
    url = f"https://{BUCKET}/{path}"
    allowed = {"url_hosts": f"{BUCKET}/alice/"}
    with pytest.raises(BadRequest, match=r"item 1 .*path climbs out of its folder"):
        register_search({"source": "urls", "urls": [url], "handle": "ada", **allowed})
    # A link queued anyway (an event's payload) is refused before any connection.
    source = UrlListSource(Settings.load(allowed, env={}), None, "")  # type: ignore[arg-type]
    with pytest.raises(PhotoError, match="climbs out of its folder"):
        source.read({"photo": url})


def test_photos_under_the_prefix_are_still_allowed() -> None:
    allowed = {"url_hosts": f"{BUCKET}/alice/"}
    urls = [f"https://{BUCKET}/alice/2026/a.jpg", f"https://{BUCKET}/alice/my%20photo.jpg"]
    with pytest.raises(BadRequest, match="a reference is required"):
        register_search({"source": "urls", "urls": urls, **allowed})  # the list itself passed


# -- 15: IPv6 forms of a private IPv4 address are private too -----------------------------


@pytest.fixture()
def replaying(tmp_path: Path) -> Iterator[Callable[..., None]]:
    """Answers the process's HTTP calls and DNS look-ups from a cassette."""

    def start(
        interactions: list[dict], dns: dict[str, list[str]] | None = None
    ) -> responses.RequestsMock:
        mastodon_server._instances.clear()
        path = x_api.write_cassette(tmp_path, interactions)
        if dns is not None:
            path.write_text(json.dumps({**json.loads(path.read_text()), "dns": dns}))
        mocks.append(replay.install(path))
        return mocks[-1]

    mocks: list[responses.RequestsMock] = []
    yield start
    for mock in reversed(mocks):  # patches undone in the reverse order of their start
        mock.stop()
        mock.reset()
    replay._active = None


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",  # IPv4-compatible
        "::8.8.8.8",  # IPv4-compatible, deprecated whatever it holds
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata service
        "64:ff9b:1::a00:1",  # NAT64's local-use prefix
        "2002:a9fe:a9fe::1",  # 6to4 of the metadata service
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    ],
)
def test_ipv6_forms_of_private_addresses_are_refused(replaying, address: str) -> None:
    replaying([], dns={"photos.example.org": [address]})
    with pytest.raises(PhotoError, match="resolves to a private or reserved address"):
        fetch("https://photos.example.org/a.jpg", frozenset({"photos.example.org"}))


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111"])
def test_public_ipv6_addresses_still_pass(replaying, address: str) -> None:
    url = "https://photos.example.org/a.jpg"
    replaying([m.photo(url, "obama2.jpg")], dns={"photos.example.org": [address]})
    assert fetch(url, frozenset({"photos.example.org"}))[:2] == b"\xff\xd8"  # a JPEG


# -- 8: a slow server's download or API call ends at a total deadline ------------------------

MEDIA_HOST = "media.example.org"
OBAMA_JPEG = (pv.PHOTOS / "obama.jpg").read_bytes()


@pytest.fixture()
def fake_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable]:
    yield from fake_https.servers(tmp_path, monkeypatch)


def test_a_photo_from_a_real_tls_server(fake_server) -> None:
    fake_server([MEDIA_HOST], lambda h: serve_bytes(h, OBAMA_JPEG, "image/jpeg"))
    assert fetch(f"https://{MEDIA_HOST}/a.jpg", frozenset({MEDIA_HOST})) == OBAMA_JPEG


SLOW_BODY = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n\r\n"
SLOW_HEAD = b"HTTP/1.1 200 OK\r\nX-Slow: "  # the headers never end
TRICKLE_SECONDS = 25.0  # how long the attack goes on; the deadline ends it far sooner


@pytest.fixture()
def short_deadlines(monkeypatch: pytest.MonkeyPatch) -> float:
    """A download or API call may take 2 s in all (30 s and 20 s in production)."""
    monkeypatch.setattr(download, "DOWNLOAD_SECONDS", 2.0, raising=False)
    monkeypatch.setattr(download, "API_CALL_SECONDS", 2.0, raising=False)
    return 2.0


@pytest.mark.parametrize("head", [SLOW_BODY, SLOW_HEAD], ids=["body", "headers"])
def test_a_media_host_sending_a_byte_at_a_time_is_cut_off(
    fake_server, short_deadlines: float, head: bytes
) -> None:
    fake_server([MEDIA_HOST], lambda h: trickle(h, head, 0.3, TRICKLE_SECONDS))
    started = time.monotonic()
    with pytest.raises(PhotoError, match="download took longer than 2 s"):
        fetch(f"https://{MEDIA_HOST}/a.jpg", frozenset({MEDIA_HOST}))
    assert time.monotonic() - started < short_deadlines + 8  # 112 s of a worker before


def test_a_mastodon_server_answering_a_byte_at_a_time_fails_that_server(
    fake_server, short_deadlines: float
) -> None:
    slow = "slow.example"
    fake_server([slow], lambda h: trickle(h, SLOW_BODY, 0.3, TRICKLE_SECONDS))
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=f"{slow} .*took longer than 2 s"):
        MastodonServer(slow, Settings.load({}, env={})).get(f"https://{slow}/api/v2/instance")
    assert time.monotonic() - started < short_deadlines + 8


# -- 6: a caller-named Mastodon server cannot make a search unbounded ------------------------


def timeline(pages: int, per_page: int = 40, photos_per_post: int = 1) -> list[dict]:
    """#pycon on m.SERVER: `pages` pages of posts, each post with its own photos."""
    interactions = []
    for number in range(pages):
        ids = [str(10_000 - number * per_page - i) for i in range(per_page)]
        posts = [
            m.status(
                i,
                m.ALICE,
                [m.image(m.media_url(m.MEDIA, f"{i}x{k}")) for k in range(photos_per_post)],
            )
            for i in ids
        ]
        last = number == pages - 1
        interactions.append(
            m.tag_page(
                m.SERVER,
                posts,
                max_id=None if number == 0 else str(int(ids[0]) + 1),
                next_max_id=None if last else ids[-1],
            )
        )
    return interactions


def test_a_post_with_twenty_thousand_attachments_gives_sixteen_photos(replaying) -> None:
    replaying([m.instance(m.SERVER, m.MEDIA), *timeline(1, per_page=1, photos_per_post=20_000)])
    entries, warning = listed(MastodonSource(Settings.load({}, env={}), [m.SERVER], ["pycon"]))
    assert warning is None
    assert len(entries) == 16  # 20,000 before


def test_an_instance_naming_thousands_of_media_hosts_is_taken_at_its_first(replaying) -> None:
    described = m.instance(m.SERVER, m.MEDIA)
    described["json"]["icon"] = [
        {"src": f"https://icons{n}.example/i.png", "size": "36x36"} for n in range(20_000)
    ]
    replaying([described, *timeline(1)])
    info = MastodonServer(m.SERVER, Settings.load({}, env={})).info()
    assert info.hosts == {m.SERVER, m.MEDIA, "icons0.example"}
    entries, _ = listed(MastodonSource(Settings.load({}, env={}), [m.SERVER], ["pycon"]))
    # Each queued photo carries where it may be downloaded from: two hosts, not 20,001.
    assert {tuple(e["hosts"]) for e in entries} == {(m.MEDIA, m.SERVER)}
    assert max(len(json.dumps(e)) for e in entries) < 1000


def test_a_worker_remembers_a_bounded_number_of_servers(replaying) -> None:
    servers = [f"server{n}.example" for n in range(100)]
    replaying([m.instance(s, f"files.{s}") for s in servers])
    for server in servers:
        MastodonServer(server, Settings.load({}, env={})).info()
    assert len(mastodon_server._instances) <= 64
    assert "server99.example" in mastodon_server._instances  # the newest are kept


def new_event(redis_client: redis.Redis, **fields: str) -> str:
    """A Mastodon event's record, as create_event writes it (no listing started)."""
    event_id = new_job_id()
    JobStore(redis_client, 3600).create(
        event_id,
        {
            "job_id": event_id,
            "role": "event",
            "source": "mastodon",
            "servers": json.dumps([m.SERVER]),
            "tags": json.dumps(["pycon"]),
            "max_posts": "1000",
            **fields,
        },
    )
    return event_id


def test_the_photos_a_listing_registers_are_bounded(replaying, redis_client: redis.Redis) -> None:
    replaying([m.instance(m.SERVER, m.MEDIA), *timeline(3)])  # 120 photos
    event_id = new_event(redis_client)
    assert search({"job_id": event_id, "max_photos": "50"})["state"] == "comparing"
    store = JobStore(redis_client, 3600)
    assert store.progress(event_id)["photos_total"] == 50  # 120 before: no bound at all
    assert store.queued(event_id) == 50
    assert store.fields(event_id)["warning"] == (
        "the listing stopped at 50 photos, the most one search or event reads (max_photos): "
        "the photos listed so far are compared"
    )


# -- 14: a server's malformed answer fails that server, never the search --------------------


def good_second_server() -> list[dict]:
    """fosstodon.example, answering as Mastodon does: two photos."""
    posts = [
        m.status("2002", m.BOB, [m.image(m.media_url(m.SECOND_MEDIA, "b1"))], server=m.SECOND),
        m.status("2001", m.CAROL, [m.image(m.media_url(m.SECOND_MEDIA, "c1"))], server=m.SECOND),
    ]
    return [m.instance(m.SECOND, m.SECOND_MEDIA), m.tag_page(m.SECOND, posts)]


def first_server(**page_changes: object) -> tuple[dict, dict]:
    """mastodon.example's description and first page (one post of alice's, with a next
    page), for a test to spoil."""
    alice = m.status("1001", m.ALICE, [m.image(m.media_url(m.MEDIA, "a1"))])
    page = m.tag_page(m.SERVER, [alice], next_max_id="1001")
    page.update(page_changes)
    return m.instance(m.SERVER, m.MEDIA), page


def account_a_list() -> list[dict]:
    instance, page = first_server()
    page["json"].append(m.status("1000", m.BOB, [m.image(m.media_url(m.MEDIA, "b"))]))
    page["json"][-1]["account"] = ["not", "an", "object"]
    return [instance, page, m.tag_page(m.SERVER, [], max_id="1001")]


def configuration_a_list() -> list[dict]:
    instance, page = first_server()
    instance["json"]["configuration"] = ["timelines_access"]
    return [instance, page, m.tag_page(m.SERVER, [], max_id="1001")]


def remote_url_an_object() -> list[dict]:
    instance, page = first_server()
    page["json"][0]["media_attachments"][0]["remote_url"] = {"href": "https://x.example/a"}
    return [instance, page, m.tag_page(m.SERVER, [], max_id="1001")]


def attachments_a_number() -> list[dict]:
    instance, page = first_server()
    page["json"].append(m.status("1000", m.BOB, []))
    page["json"][-1]["media_attachments"] = 7
    return [instance, page, m.tag_page(m.SERVER, [], max_id="1001")]


def bad_next_link() -> list[dict]:
    instance, page = first_server()
    page["headers"]["Link"] = f'<https://[{m.SERVER}/api/v1/timelines/tag/pycon>; rel="next"'
    return [instance, page]


def reset(value: str, status: int = 200) -> Callable[[], list[dict]]:
    def spoiled() -> list[dict]:
        instance, page = first_server()
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": value}
        if status == 429:
            limited = m.error(page["url"], 429, "Too many requests", **headers)
            return [instance, limited, limited, limited]
        page["headers"].update(headers)
        return [instance, page]

    return spoiled


LIMITED = "mastodon.example's rate limit (300 requests per 5 minutes) was reached"


@pytest.mark.parametrize(
    ("spoiled", "first_photos", "warning"),
    [
        (account_a_list, ["a1"], None),  # the post without an author is left out
        (configuration_a_list, ["a1"], None),  # no word on access: public
        (remote_url_an_object, ["a1"], None),  # its own URL is its origin
        (attachments_a_number, ["a1"], None),
        (bad_next_link, ["a1"], None),  # no next page
        (reset("1e308"), ["a1"], f"mastodon.example after 1 posts: {LIMITED}"),
        (reset("NaN", 429), [], f"mastodon.example: {LIMITED}"),
        (reset("inf", 429), [], f"mastodon.example: {LIMITED}"),
        (reset("9" * 5000), ["a1"], f"mastodon.example after 1 posts: {LIMITED}"),
    ],
    ids=[
        "account-a-list",
        "configuration-a-list",
        "remote_url-an-object",
        "attachments-a-number",
        "a-broken-next-link",
        "reset-1e308",
        "reset-NaN",
        "reset-inf",
        "reset-of-5000-digits",
    ],
)
def test_a_malformed_answer_fails_its_server_not_the_search(
    replaying, spoiled: Callable[[], list[dict]], first_photos: list[str], warning: str | None
) -> None:
    replaying([*spoiled(), *good_second_server()])
    source = MastodonSource(Settings.load({}, env={}), [m.SERVER, m.SECOND], ["pycon"])
    entries, cut = listed(source)
    names = [e["photo"].rsplit("/", 1)[1].removesuffix(".jpg") for e in entries]
    assert names == [*first_photos, "b1", "c1"]  # the other server's photos are kept
    if warning is None:
        assert cut is None
    else:
        assert cut.startswith(f"the Mastodon search was cut short: {warning}; it resets at ")


def test_the_job_warning_names_the_server_that_failed(replaying, redis_client: redis.Redis) -> None:
    replaying([*reset("NaN", 429)(), *good_second_server()])
    event_id = new_event(redis_client, servers=json.dumps([m.SERVER, m.SECOND]))
    search({"job_id": event_id})
    store = JobStore(redis_client, 3600)
    assert store.progress(event_id)["photos_total"] == 2  # before: failed, "ValueError"
    job = store.fields(event_id)
    assert job["state"] != "failed"
    assert job["warning"].startswith(
        f"the Mastodon search was cut short: mastodon.example: {LIMITED}"
    )


# -- 7: a listing stops at its next page once its job is cancelled or deleted ---------------


def listing_with_a_second_page_that(
    replaying, does: Callable[[], None]
) -> tuple[responses.RequestsMock, list[str]]:
    """Three pages of 40 photos on mastodon.example; asking for the second one does
    something first (a person cancels or deletes while the listing runs)."""
    pages = timeline(3)
    mock = replaying([m.instance(m.SERVER, m.MEDIA), pages[0], pages[2]])

    def second_page(request: object) -> tuple[int, dict, str]:
        does()
        return 200, pages[1]["headers"], json.dumps(pages[1]["json"])

    mock.add_callback("GET", pages[1]["url"], callback=second_page)
    return mock, [page["url"] for page in pages]


def asked(mock: responses.RequestsMock) -> list[str]:
    return [c.request.url for c in mock.calls if "/timelines/tag/" in c.request.url]


def keys_of(redis_client: redis.Redis, job_id: str) -> list[bytes]:
    return sorted(redis_client.scan_iter(match=f"{keys.job_key(job_id)}*"))


def test_a_deleted_event_stops_listing_and_no_key_of_it_comes_back(
    replaying, redis_client: redis.Redis
) -> None:
    event_id = new_event(redis_client)
    store = JobStore(redis_client, 3600)
    settings = Settings.load({}, env={})
    mock, urls = listing_with_a_second_page_that(
        replaying, lambda: event_admin.delete(event_id, store, settings)
    )
    stopped = search({"job_id": event_id})
    assert keys_of(redis_client, event_id) == []  # :origins, :listed came back before
    assert asked(mock) == urls[:2]  # the third page is never asked for
    assert stopped == {"job_id": event_id, "state": "deleted", "stopped": True}


def test_no_late_write_brings_a_deleted_event_back(redis_client: redis.Redis) -> None:
    """What an activation still running writes after its event was deleted (a listing
    between its page check and its writes, a search starting to follow, an organiser
    adding links) writes nothing: no key of the event comes back."""
    event_id = new_event(redis_client)
    store = JobStore(redis_client, 3600)
    store.save_urls(event_id, ["https://photos.example/a.jpg"])
    store.mark_listed(event_id, ["a.jpg"])
    assert keys_of(redis_client, event_id) != []
    assert store.delete_event(event_id)
    assert store.claim_origins(event_id, [("https://a.example/x.jpg", "x.jpg")]) is None
    store.mark_listed(event_id, ["x.jpg"])
    store.follow(event_id, new_job_id())
    assert store.add_urls(event_id, ["https://photos.example/b.jpg"]) == 0
    assert store.enqueue(event_id, [{"photo": "x.jpg"}]) == 0
    assert keys_of(redis_client, event_id) == []


def test_a_cancelled_search_queues_nothing_more(redis_client: redis.Redis) -> None:
    event_id = new_event(redis_client)
    store = JobStore(redis_client, 3600)
    assert store.enqueue(event_id, [{"photo": "a.jpg"}]) == 1
    store.cancel(event_id)
    assert store.enqueue(event_id, [{"photo": "b.jpg"}]) == 0
    assert store.progress(event_id)["photos_total"] == 1


def test_a_cancelled_event_stops_listing_at_its_next_page(
    replaying, redis_client: redis.Redis
) -> None:
    event_id = new_event(redis_client)
    store = JobStore(redis_client, 3600)
    mock, urls = listing_with_a_second_page_that(replaying, lambda: store.cancel(event_id))
    assert search({"job_id": event_id})["state"] == "cancelled"
    assert asked(mock) == urls[:2]
    assert store.progress(event_id)["photos_total"] == 40  # the first page's; 120 before
    assert store.queued(event_id) == 40


def test_a_deleted_search_of_an_event_never_comes_back_while_the_event_lists(
    replaying, redis_client: redis.Redis
) -> None:
    """The event a person's search created quietly goes on listing (the next person
    gets it for nothing); the deleted search's keys never come back."""
    event_id = new_event(redis_client, implicit="1")
    store = JobStore(redis_client, 3600)
    search_id = new_job_id()
    store.create(search_id, {"job_id": search_id, "event": event_id, "references": "[]"})
    store.follow(event_id, search_id)
    mock, urls = listing_with_a_second_page_that(replaying, lambda: store.delete(search_id))
    search({"job_id": event_id})
    assert asked(mock) == urls
    assert store.progress(event_id)["photos_total"] == 120
    assert keys_of(redis_client, search_id) == []


# -- 15: the CLI's zip reads every source's matches, named without .. ------------------------


def test_the_cli_zip_reads_mastodon_matches_and_names_them_safely(
    replaying, redis_client: redis.Redis, tmp_path: Path
) -> None:
    photo = m.media_url(m.MEDIA, "obama2")
    hostile = photo + "#/../../../../../tmp/evil.jpg"  # a server's URL, with a fragment
    replaying([m.instance(m.SERVER, m.MEDIA), m.photo(photo, "obama2.jpg")])
    store = JobStore(redis_client, 3600)
    job_id = new_job_id()
    store.create(
        job_id,
        {"job_id": job_id, "source": "mastodon", "servers": json.dumps([m.SERVER]), "query": "x"},
    )
    for url in (photo, hostile):
        match = {"photo": url, "distance": 0.4, "box": [1, 2, 3, 0], "confidence": "strong"}
        assert store.set_match(job_id, url, match)
    out = tmp_path / "matches.zip"
    args = build_parser().parse_args(["report", job_id, "--format", "zip", "--output", str(out)])
    assert args.run(args) == 0  # before: "2 could not be read" (X's media host only)
    names = zipfile.ZipFile(out).namelist()
    path = photo.removeprefix("https://")
    assert names == [path, path.replace(".jpg", "-2.jpg")]  # before: ".../../../tmp/evil.jpg"


def test_the_cli_zip_reads_an_organisers_photo_links(
    replaying, redis_client: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FINDME_URL_HOSTS", f"{BUCKET}/alice/")
    photo = f"https://{BUCKET}/alice/a.jpg"
    replaying([m.photo(photo, "obama2.jpg")])
    store = JobStore(redis_client, 3600)
    job_id = new_job_id()
    store.create(job_id, {"job_id": job_id, "source": "urls"})
    store.set_match(job_id, photo, {"photo": photo, "distance": 0.4, "box": [1, 2, 3, 0]})
    out = tmp_path / "matches.zip"
    args = build_parser().parse_args(["report", job_id, "--format", "zip", "--output", str(out)])
    assert args.run(args) == 0
    assert zipfile.ZipFile(out).namelist() == [f"{BUCKET}/alice/a.jpg"]
