"""`findme jobs`: the searches of this data directory, told apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from findme.jobs import new_job_id
from tests import photo_variants as pv
from tests.cli_helpers import event_folder, findme, jobs


@pytest.fixture(scope="module")
def event(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bool]]:
    return event_folder(tmp_path_factory.mktemp("jobs") / "photos")


def test_the_job_id_is_printed_and_findme_jobs_lists_the_searches(
    event: tuple[Path, dict[str, bool]],
) -> None:
    folder, _ = event
    run = findme(
        "search", "--reference", str(pv.PHOTOS / "obama.jpg"), "--folder", str(folder / "talk")
    )
    assert run.returncode == 0, run.stderr
    job_id = run.stderr.split("findme: search ", 1)[1].split()[0]
    assert len(job_id) == 32
    listed = findme("jobs")
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if line.startswith(job_id))
    assert " done " in line and "3/3" in line
    assert line.split("3/3", 1)[1].split() == [
        *("3", "0.60", "obama.jpg"),  # matches, threshold, who
        *("the", "folder", str((folder / "talk").resolve())),  # where
    ]
    (row,) = [j for j in json.loads(findme("jobs", "--json").stdout) if j["job_id"] == job_id]
    assert row["references"] == ["obama.jpg"] and row["threshold"] == "0.60"


RECORDS = {
    "twitter": ({"source": "twitter", "query": "#pycon"}, "the X posts matching #pycon"),
    "mastodon": (
        {
            "source": "mastodon",
            "query": "#pycon",
            "servers": '["mastodon.social", "fosstodon.org"]',
        },
        "the Mastodon posts tagged #pycon on mastodon.social, fosstodon.org",
    ),
    "bluesky": (
        {"source": "bluesky", "query": "#rustconf"},
        "the Bluesky posts matching #rustconf",
    ),
    "urls": ({"source": "urls", "query": "", "urls_total": "12"}, "a list of 12 photo URLs"),
}
REFERENCES = {
    "twitter": ([{"kind": "handle", "value": "ada_l"}], "@ada_l"),
    "mastodon": ([{"kind": "handle", "value": "ada@mastodon.social"}], "@ada@mastodon.social"),
    "bluesky": ([{"kind": "handle", "value": "ada.bsky.social"}], "ada.bsky.social"),
    "urls": ([{"kind": "image", "value": ""}] * 3, "an uploaded photo +2"),
}


def test_jobs_tell_every_kind_of_search_apart() -> None:
    """Searches as register_search records them, from the page or the API."""
    store = jobs()
    made = {}
    for kind, (fields, _) in RECORDS.items():
        job_id = new_job_id()
        references, _ = REFERENCES[kind]
        store.create(
            job_id,
            {**fields, "job_id": job_id, "threshold": "0.5", "references": json.dumps(references)},
        )
        made[kind] = job_id
    listed = findme("jobs")
    assert listed.returncode == 0, listed.stderr
    lines = {line[:32]: line for line in listed.stdout.splitlines()}
    for kind, job_id in made.items():
        line = lines[job_id]
        assert " queued " in line and "0/0" in line and " 0.50 " in line
        assert line.rstrip().endswith(RECORDS[kind][1]), line
        assert f" {REFERENCES[kind][1]} " in line, line


def test_a_query_cannot_drive_the_terminal() -> None:
    """A caller's query with escape sequences (a window title, the clipboard) is
    shown, not obeyed."""
    job_id = new_job_id()
    query = "#pycon\x1b]0;pwned\x07\x1b]52;c;ZWNobyBoaQ==\x07"
    jobs().create(
        job_id, {"job_id": job_id, "source": "twitter", "query": query, "references": "[]"}
    )
    listed = findme("jobs")
    (line,) = [line for line in listed.stdout.splitlines() if line.startswith(job_id)]
    assert "\x1b" not in line and "\x07" not in line
    assert line.endswith(
        "the X posts matching #pycon\\x1b]0;pwned\\x07\\x1b]52;c;ZWNobyBoaQ==\\x07"
    )
