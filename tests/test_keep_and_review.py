"""What a person keeps and changes of a search, through the local engine's HTTP API:
cancel_search, undoing a "Not me", previews of any format, the zip of the originals,
and reports that stay safe whatever a photo's values hold."""

from __future__ import annotations

import base64
import csv
import io
import time
import zipfile
from pathlib import Path

import httpx
from PIL import Image

from findme import report
from findme.client import OpenWhiskClient
from findme.local.runner import LocalFindMe
from tests import photo_variants as pv
from tests.conftest import wait_for_job

OBAMA = base64.b64encode((pv.PHOTOS / "obama.jpg").read_bytes()).decode()


def start(client: OpenWhiskClient, **params: object) -> str:
    code, result = client.invoke("register_search", params)
    assert code == 200, result
    return result["job_id"]


def test_cancel_search_stops_a_job_and_keeps_what_it_found(
    client: OpenWhiskClient, local: LocalFindMe
) -> None:
    folder = local.photo_root / "cancel-many"
    folder.mkdir(exist_ok=True)
    obama = pv.photo("obama2.jpg")
    for i in range(20):
        (folder / f"c{i:02}.png").write_bytes(pv.encoded(pv.shrunk(obama, 1400 - 9 * i), "PNG"))
    job_id = start(client, folder="cancel-many", reference_image=OBAMA)
    web = f"{local.api_host}/api/v1/web/guest/findme"
    answer = httpx.post(
        f"{web}/cancel_search.http", json={"job_id": job_id, "owner_key": client.owner_keys[job_id]}
    )
    assert answer.status_code == 200 and answer.json()["state"] in ("cancelled", "done")
    _, status = client.invoke("search_status", {"job_id": job_id})
    assert status["state"] == answer.json()["state"]  # cancelled stays cancelled
    time.sleep(1)  # the listing and compare activations still running change nothing
    _, status = client.invoke("search_status", {"job_id": job_id})
    assert status["state"] == answer.json()["state"]
    assert "error" not in status  # a stopped search is not a failed one: its matches stay
    again = httpx.post(
        f"{web}/cancel_search.http", json={"job_id": job_id, "owner_key": client.owner_keys[job_id]}
    ).json()
    assert again["cancelled"] is False  # an ended search stays as it ended
    unknown = httpx.post(f"{web}/cancel_search.http", json={"job_id": "0" * 32})
    # .http keeps the status code of an error.
    assert unknown.status_code == 404 and "no job" in unknown.json()["error"]


def test_a_not_me_can_be_undone(client: OpenWhiskClient) -> None:
    job_id = start(client, folder="event/talk", reference_image=OBAMA)
    status = wait_for_job(client, job_id)
    photo = status["matches"][0]["photo"]
    code, _ = client.invoke("review_match", {"job_id": job_id, "photo": photo, "verdict": "reject"})
    assert code == 200
    _, status = client.invoke("search_status", {"job_id": job_id})
    assert photo not in {m["photo"] for m in status["matches"]}
    code, undone = client.invoke(
        "review_match", {"job_id": job_id, "photo": photo, "verdict": "unreject"}
    )
    assert code == 200 and undone["match"] is True
    _, status = client.invoke("search_status", {"job_id": job_id})
    assert photo in {m["photo"] for m in status["matches"]}
    code, twice = client.invoke(
        "review_match", {"job_id": job_id, "photo": photo, "verdict": "unreject"}
    )
    assert code == 502 and "was not rejected" in twice["error"]


def test_previews_show_every_format_and_stay_inside_the_root(local: LocalFindMe) -> None:
    folder = local.photo_root / "preview-formats"
    folder.mkdir(exist_ok=True)
    obama = pv.photo("obama2.jpg")
    (folder / "a.tiff").write_bytes(pv.encoded(pv.shrunk(obama, 1800), "TIFF"))
    (folder / "b.bmp").write_bytes(pv.encoded(pv.shrunk(obama, 600), "BMP"))
    base = f"{local.api_host}/findme/previews/preview-formats"
    for name, side in (("a.tiff", 400), ("a.tiff", 1600), ("b.bmp", 400)):
        answer = httpx.get(f"{base}/{name}", params={"side": side})
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
        width, height = Image.open(io.BytesIO(answer.content)).size
        assert max(width, height) <= side
    assert httpx.get(f"{base}/a.tiff", params={"side": 9000}).status_code == 400
    escape = httpx.get(f"{local.api_host}/findme/previews/..%2F..%2Fetc%2Fpasswd")
    assert escape.status_code == 404
    broken = httpx.get(f"{local.api_host}/findme/previews/event/broken/notes.jpg")
    assert broken.status_code == 422


def test_the_zip_holds_exactly_the_originals_asked_for(local: LocalFindMe) -> None:
    zipped = httpx.post(
        f"{local.api_host}/findme/zip",
        json={"folder": "event/talk", "photos": ["obama2.jpg", "stage-rotated.jpg"]},
    )
    assert zipped.status_code == 200
    assert int(zipped.headers["content-length"]) == len(zipped.content)  # known before sending
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    assert sorted(archive.namelist()) == ["obama2.jpg", "stage-rotated.jpg"]
    talk = local.photo_root / "event" / "talk"
    assert archive.read("obama2.jpg") == (talk / "obama2.jpg").read_bytes()
    for bad in (
        {"folder": "event", "photos": ["../../../etc/passwd"]},
        {"folder": "/etc", "photos": ["passwd"]},
        {"folder": "event", "photos": []},
        {"folder": "event", "photos": "talk/obama2.jpg"},
        ["not", "an", "object"],
    ):
        assert httpx.post(f"{local.api_host}/findme/zip", json=bad).status_code == 400


HOSTILE = {
    "photo": '=HYPERLINK("http://x")"><img src=x onerror=alert(1)>.jpg',
    "post_url": "javascript:alert(1)",
    "author": "@evil",
    "distance": 0.31,
    "confidence": "strong",
    "box": [1, 2, 3, 0],
    "width": 10,
    "height": 10,
}


def test_reports_escape_every_value_link_only_https_and_neutralise_formulas() -> None:
    status = {
        "job_id": "f" * 32,
        "query": "<script>x</script>",
        "source": "twitter",
        "created": 1_700_000_000,
        "threshold": 0.6,
        "photos_total": 1,
        "matches": [HOSTILE, {**HOSTILE, "photo": "https://pbs.twimg.com/a.jpg", "post_url": None}],
    }
    page = report.to_html(status, lambda match: None)
    assert "<script>x" not in page and "<img src=x" not in page
    assert "javascript:" not in page
    assert 'href="https://pbs.twimg.com/a.jpg"' in page
    cells = list(csv.reader(io.StringIO(report.to_csv(status))))
    assert cells[1][0].startswith("'=HYPERLINK") and cells[1][1] == "" and cells[1][2] == "'@evil"
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert report.neutral(f"{start}1") == f"'{start}1"
    assert report.neutral("plain.jpg") == "plain.jpg"


def test_a_folder_report_has_no_empty_post_columns(client: OpenWhiskClient, tmp_path: Path) -> None:
    job_id = start(client, folder="event/talk", reference_image=OBAMA)
    status = wait_for_job(client, job_id)
    header = report.to_csv(status).splitlines()[0]
    assert header == "photo,distance,confidence,top,right,bottom,left"
