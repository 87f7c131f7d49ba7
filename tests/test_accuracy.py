"""Accuracy in a crowd: several references, one match per photo, confidence bands,
review (reject, confirm and re-rank from the face cache), and `findme eval`."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from findme.client import OpenWhiskClient
from findme.local.runner import LocalFindMe
from tests import photo_variants as pv
from tests.conftest import wait_for_job

ROOT = Path(__file__).resolve().parents[1]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def crowd(local: LocalFindMe) -> str:
    folder = local.photo_root / "crowd"
    folder.mkdir(exist_ok=True)
    for name in ("obama.jpg", "obama3.jpg", "obama_partial_face.jpg", "biden.jpg"):
        (folder / name).write_bytes((pv.PHOTOS / name).read_bytes())
    twins = pv.group(pv.photo("obama2.jpg"), pv.photo("obama3.jpg"), pv.photo("biden.jpg"))
    (folder / "twins.jpg").write_bytes(pv.encoded(twins))
    (local.photo_root / "refs" / "obama2.jpg").write_bytes((pv.PHOTOS / "obama2.jpg").read_bytes())
    return "crowd"


def test_several_references_and_one_without_a_face(client: OpenWhiskClient, crowd: str) -> None:
    suit = pv.encoded(pv.no_face(pv.photo("obama.jpg")))
    _, started = client.invoke(
        "register_search",
        {"folder": crowd, "reference_image": [b64(suit)], "reference_path": ["refs/obama2.jpg"]},
    )
    status = wait_for_job(client, started["job_id"])
    assert status["state"] == "done"
    assert status["reference_notes"] == [
        "reference 1 of 2 (upload): no face found"
        " (use a larger, frontal, well-lit photo of your face)"
    ]
    (used,) = status["reference_faces"]  # the second reference's face, and where it is
    assert used["reference"] == 1 and len(used["box"]) == 4
    assert {m["photo"] for m in status["matches"]} == {
        "obama.jpg",
        "obama3.jpg",
        "obama_partial_face.jpg",
        "twins.jpg",
    }


def test_one_match_per_photo_with_its_face_count_and_confidence(
    client: OpenWhiskClient, crowd: str
) -> None:
    _, started = client.invoke(
        "register_search", {"folder": crowd, "reference_path": "refs/obama.jpg"}
    )
    status = wait_for_job(client, started["job_id"])
    twins = [m for m in status["matches"] if m["photo"] == "twins.jpg"]
    assert len(twins) == 1  # two faces of the person, one match: the closest
    assert twins[0]["faces"] == 3
    assert all(m["confidence"] in ("strong", "possible") for m in status["matches"])
    by_photo = {m["photo"]: m for m in status["matches"]}
    assert by_photo["obama.jpg"]["confidence"] == "strong"  # the same photo: distance ~0


def test_rejecting_and_confirming_re_ranks_without_detecting(
    client: OpenWhiskClient, local: LocalFindMe, crowd: str
) -> None:
    # A strict threshold: from obama2 alone, only obama.jpg and the twins are close enough.
    _, started = client.invoke(
        "register_search",
        {"folder": crowd, "reference_path": "refs/obama2.jpg", "threshold": 0.38},
    )
    job_id = started["job_id"]
    before = wait_for_job(client, job_id)
    matched = {m["photo"] for m in before["matches"]}
    assert "obama.jpg" in matched and "obama3.jpg" not in matched
    assert "obama_partial_face.jpg" not in matched

    code, rejected = client.invoke(
        "review_match", {"job_id": job_id, "photo": "twins.jpg", "verdict": "reject"}
    )
    assert code == 200 and rejected["verdict"] == "reject"
    compares = sum(a.name == "compare_images" for a in local.engine.activations.recent(10_000))

    code, confirmed = client.invoke(
        "review_match",
        {"job_id": job_id, "photo": "obama.jpg", "verdict": "confirm", "add_reference": True},
    )
    assert code == 200, confirmed
    assert confirmed["detected"] == 0 and confirmed["reranked"] == 4  # all but the rejected
    _, after = client.invoke("search_status", {"job_id": job_id})
    by_photo = {m["photo"]: m for m in after["matches"]}
    assert by_photo["obama.jpg"]["review"] == "confirmed"
    assert {"obama3.jpg", "obama_partial_face.jpg"} <= set(by_photo)  # found through the new face
    assert "twins.jpg" not in by_photo  # rejected stays out
    assert "biden.jpg" not in by_photo
    assert (
        sum(a.name == "compare_images" for a in local.engine.activations.recent(10_000)) == compares
    )


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"photo": "obama.jpg", "verdict": "maybe"}, 400, "verdict must be one of"),
        ({"photo": "not-a-match.jpg", "verdict": "reject"}, 404, "is not a match"),
        ({"verdict": "reject"}, 400, "photo is required"),
    ],
)
def test_review_refuses(
    client: OpenWhiskClient, crowd: str, params: dict, status: int, message: str
) -> None:
    _, started = client.invoke(
        "register_search", {"folder": crowd, "reference_path": "refs/obama.jpg"}
    )
    wait_for_job(client, started["job_id"])
    code, result = client.invoke("review_match", {"job_id": started["job_id"], **params})
    assert (code, result["statusCode"]) == (502, status)
    assert message in result["error"]


def test_eval_reports_precision_recall_and_thresholds(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "labelled_set.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "findme",
            "eval",
            str(tmp_path),
            "--references",
            "1,3",
            "--jitters",
            "0,2",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    rows = {(r["references"], r["jitters"]): r for r in json.loads(run.stdout)}
    assert set(rows) == {(1, 0), (1, 2), (3, 0), (3, 2)}
    for row in rows.values():
        assert row["precision"] == 1.0 and row["recall"] >= 0.9
        assert row["margin"] > 0.2  # every true match is nearer than every false one
        assert row["threshold_99_precision"] is not None
        histogram = sum(row["same_person"]) + sum(row["different_people"])
        assert histogram + row["no_face"] == row["pairs"]
    assert rows[(3, 0)]["margin"] > rows[(1, 0)]["margin"]  # several references separate better
    assert rows[(3, 0)]["recall"] >= rows[(1, 0)]["recall"]
    table = subprocess.run(
        [sys.executable, "-m", "findme", "eval", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
    )
    assert table.returncode == 2 and "has no people/ folder" in table.stderr
