"""`findme jobs`: the searches of this data directory, told apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import photo_variants as pv
from tests.cli_helpers import event_folder, findme


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
    assert any(j["job_id"] == job_id for j in json.loads(findme("jobs", "--json").stdout))
