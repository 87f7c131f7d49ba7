"""`findme search` as a person runs it: a new process, a folder, a reference photo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests import photo_variants as pv
from tests.cli_helpers import event_folder, faceless_photo, findme
from tests.conftest import BROKEN


@pytest.fixture(scope="module")
def event(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bool]]:
    return event_folder(tmp_path_factory.mktemp("cli") / "photos")


def test_json_lists_exactly_the_matching_photos(event: tuple[Path, dict[str, bool]]) -> None:
    folder, expected = event
    run = findme(
        "search", "--reference", str(pv.PHOTOS / "obama.jpg"), "--folder", str(folder), "--json"
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["state"] == "done"
    assert {m["photo"] for m in result["matches"]} == {p for p, has in expected.items() if has}
    assert result["photos_total"] == result["photos_done"] == len(expected) + len(BROKEN)
    assert {f["photo"] for f in result["failed"]} == set(BROKEN)
    assert all(len(m["box"]) == 4 for m in result["matches"])


def test_plain_output_prints_each_match_with_its_distance(
    event: tuple[Path, dict[str, bool]],
) -> None:
    folder, _ = event
    run = findme(
        "search", "--reference", str(pv.PHOTOS / "obama.jpg"), "--folder", str(folder / "talk")
    )
    assert run.returncode == 0, run.stderr
    assert "match  obama2.jpg  distance 0." in run.stdout
    assert "3 of 3 photos match (0 failed)" in run.stdout


def test_reference_without_a_face_is_one_clear_error(
    event: tuple[Path, dict[str, bool]], tmp_path: Path
) -> None:
    folder, _ = event
    suit = faceless_photo(tmp_path)
    run = findme("search", "--reference", str(suit), "--folder", str(folder / "talk"))
    assert run.returncode == 1
    assert (
        "findme: error: no face in reference photo:"
        " use a larger, frontal, well-lit photo of your face" in run.stderr
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--folder", "/no/such/folder"], "no such folder: /no/such/folder"),
        (["--threshold", "0.95"], "--threshold must be between 0.3 and 0.8"),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_line(
    event: tuple[Path, dict[str, bool]], args: list[str], message: str
) -> None:
    folder, _ = event
    base = ["search", "--reference", str(pv.PHOTOS / "obama.jpg"), "--folder", str(folder)]
    run = findme(*base, *args)
    assert run.returncode == 2
    assert run.stderr.strip() == f"findme: error: {message}"


def test_unreadable_reference(event: tuple[Path, dict[str, bool]], tmp_path: Path) -> None:
    folder, _ = event
    notes = tmp_path / "me.jpg"
    notes.write_text("not a photo")
    run = findme("search", "--reference", str(notes), "--folder", str(folder))
    assert run.returncode == 2
    assert run.stderr.strip() == f"findme: error: reference {notes} is unusable: not an image"
    run = findme("search", "--reference", str(tmp_path / "absent.jpg"), "--folder", str(folder))
    assert run.returncode == 2
    assert "cannot read reference" in run.stderr


def test_without_redis_url_an_embedded_redis_keeps_the_data_in_the_user_data_dir(
    event: tuple[Path, dict[str, bool]], tmp_path: Path
) -> None:
    import os

    folder, _ = event
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "findme",
            "search",
            "--json",
            "--reference",
            str(pv.PHOTOS / "obama.jpg"),
            "--folder",
            str(folder / "talk"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["matches"]) == 3
    assert (tmp_path / "data" / "findme" / "redis.aof").exists()


def test_a_folder_without_photos_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    run = findme("search", "--reference", str(pv.PHOTOS / "obama.jpg"), "--folder", str(empty))
    assert run.returncode == 2
    assert "no photos in" in run.stderr and "it is empty" in run.stderr
    (empty / "notes.txt").write_text("hello")
    (empty / "slides.pdf").write_bytes(b"%PDF-1.4")
    run = findme("search", "--reference", str(pv.PHOTOS / "obama.jpg"), "--folder", str(empty))
    assert run.returncode == 2
    assert "only 2 other files: .pdf, .txt" in run.stderr
    assert "0 of 0" not in run.stdout


def test_skipped_files_are_mentioned(event: tuple[Path, dict[str, bool]], tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "obama2.jpg").write_bytes((event[0] / "talk" / "obama2.jpg").read_bytes())
    (folder / "notes.txt").write_text("hello")
    run = findme("search", "--reference", str(pv.PHOTOS / "obama.jpg"), "--folder", str(folder))
    assert run.returncode == 0, run.stderr
    assert "skipping 1 file that is not a photo (.txt)" in run.stderr


def test_a_faceless_reference_fails_before_any_count(
    event: tuple[Path, dict[str, bool]], tmp_path: Path
) -> None:
    folder, _ = event
    suit = faceless_photo(tmp_path)
    run = findme("search", "--reference", str(suit), "--folder", str(folder / "talk"))
    assert run.returncode == 1
    assert "0 of 0" not in run.stdout
    both = findme(
        "search",
        "--reference",
        str(pv.PHOTOS / "obama.jpg"),
        "--reference",
        str(suit),
        "--folder",
        str(folder / "talk"),
    )
    assert both.returncode == 0, both.stderr
    assert "reference 2 of 2 (suit.jpg): no face" in both.stderr  # named by its file
    assert "was not used" in both.stderr


def test_serve_says_where_the_page_is_and_stops_its_redis_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    serve = subprocess.Popen(
        [sys.executable, "-m", "findme", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    first = serve.stdout.readline()
    assert "open the search page at http://127.0.0.1:" in first
    socket = tmp_path / "data" / "findme" / "redis.sock"
    redis_pids = subprocess.run(
        ["pgrep", "-f", str(socket)], capture_output=True, text=True
    ).stdout.split()
    assert redis_pids
    serve.send_signal(signal.SIGTERM)
    serve.communicate(timeout=30)
    assert serve.returncode == 0
    for pid in redis_pids:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )


def test_serve_on_a_port_in_use_is_one_line() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = findme("serve", "--port", str(port))
    assert run.returncode == 2
    assert run.stderr.strip() == (
        f"findme: error: port {port} on 127.0.0.1 is in use (another findme serve?): "
        "stop it, or choose another port with --port"
    )
    assert "port of the page and the API" in findme("serve", "--help").stdout


def test_eval_refuses_what_it_cannot_measure(tmp_path: Path) -> None:
    people = tmp_path / "labelled" / "people"
    for name, photo in (("obama", "obama.jpg"), ("biden", "biden.jpg")):
        (people / name).mkdir(parents=True)
        (people / name / "a.jpg").write_bytes((pv.PHOTOS / photo).read_bytes())
        (people / name / "b.jpg").write_bytes(pv.encoded(pv.shrunk(pv.photo(photo), 500)))
    alone = tmp_path / "alone" / "people" / "obama"
    alone.mkdir(parents=True)
    (alone / "a.jpg").write_bytes((pv.PHOTOS / "obama.jpg").read_bytes())
    nobody = findme("eval", str(tmp_path / "alone"))
    assert nobody.returncode == 2 and "no person can be found" in nobody.stderr
    bad = findme("eval", str(tmp_path / "labelled"), "--threshold", "2")
    assert bad.returncode == 2 and "--threshold must be between 0.3 and 0.8" in bad.stderr
    run = findme("eval", str(tmp_path / "labelled"), "--references", "1,5", "--jitters", "0")
    assert run.returncode == 0, run.stderr
    assert "--references 1,5 is read as 1" in run.stderr
    assert len([line for line in run.stdout.splitlines() if line.startswith("   1 ")]) == 1
    assert "margin      near false - far true" in run.stdout
    assert "suggested --threshold" in run.stdout
    # One portrait of a person is enough when a group photo shows them too.
    (people / "hopper").mkdir()
    (people / "hopper" / "a.jpg").write_bytes((pv.PHOTOS / "grace_hopper.jpg").read_bytes())
    lone = findme("eval", str(tmp_path / "labelled"), "--references", "1", "--jitters", "0")
    assert lone.returncode == 0, lone.stderr
    assert "hopper: one portrait each, used only as a reference" in lone.stderr
    groups = tmp_path / "labelled" / "groups"
    groups.mkdir()
    (groups / "hopper-small.jpg").write_bytes(pv.at_longest_side(pv.photo("grace_hopper.jpg"), 300))
    (groups / "labels.json").write_text(json.dumps({"hopper-small.jpg": ["hopper"]}))
    found = findme("eval", str(tmp_path / "labelled"), "--references", "1", "--jitters", "0")
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines()[1].split()[3:5] == ["1.000", "1.000"]  # P and R
