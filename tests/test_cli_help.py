"""What `findme` says before it searches: its help, its version, and a person's
mistakes told in their words."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from findme import __version__
from findme.cli import build_parser
from tests.cli_helpers import OBAMA, findme


def test_help_says_what_findme_does_with_examples() -> None:
    run = findme("--help")
    assert run.returncode == 0
    assert "Find every photo of a person among the photos of an event" in run.stdout
    assert "The `findme` command." not in run.stdout
    assert "examples:\n  findme search --reference me.jpg --folder" in run.stdout
    assert "findme report JOB_ID" in run.stdout
    for command in ("search", "serve", "report", "jobs", "eval", "cancel", "delete"):
        assert f"\n    {command} " in run.stdout
    assert findme("--version").stdout.strip() == f"findme {__version__}"
    search = findme("search", "--help").stdout
    assert "examples:\n  findme search --reference me.jpg --folder" in search
    assert "--fires-per-minute N  trigger fires a minute (default 60)" in search


def _actions(parser: argparse.ArgumentParser, path: str) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _actions(sub, f"{path} {name}")
        else:
            found.append((f"{path} {'/'.join(action.option_strings) or action.dest}", action))
    return found


def test_every_flag_and_argument_has_help() -> None:
    actions = _actions(build_parser(), "findme")
    assert {name.split()[1] for name, _ in actions if name.count(" ") > 1} >= {
        "search",
        "serve",
        "report",
        "jobs",
        "eval",
        "cancel",
        "delete",
        "event",
    }
    without = [name for name, action in actions if not action.help]
    assert without == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--folder", "."],
            "give a reference: --reference PHOTO (repeat for up to 10 photos of the person), "
            "or --handle with an X username, a Mastodon address (@name@server) or a Bluesky "
            "handle (name.bsky.social)",
        ),
        (
            ["--folder", ".", "--reference", OBAMA, "--handle", "ada_l"],
            "give --reference photos or --handle, not both",
        ),
        (
            ["--folder", ".", *["--reference", OBAMA] * 11],
            "give at most 10 references (--reference was given 11 times)",
        ),
        (
            ["--folder", OBAMA, "--reference", OBAMA],
            f"{OBAMA} is a file, not a folder: give the folder that holds the photos",
        ),
        (
            ["--source", "bluesky", "--query", "#pycon", "--reference", OBAMA],
            "searching Bluesky needs a Bluesky account: set FINDME_BLUESKY_HANDLE "
            "(name.bsky.social) and FINDME_BLUESKY_APP_PASSWORD (an app password, made in "
            "Bluesky's settings)",
        ),
    ],
)
def test_a_mistake_is_one_line_that_says_what_to_do(
    args: list[str], message: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINDME_BLUESKY")}
    run = findme("search", *args, env=env, cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr == f"findme: error: {message}\n"
