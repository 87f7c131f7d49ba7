"""`make demo` as the README shows it: it says who it looks for, and its output is
today's (the README's sample is the demo's, line for line where runs agree)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_sample() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Try it (one command)", 1)[1].split("```\n", 3)[2]
    return block.splitlines()


def _recipe() -> list[str]:
    """The demo's commands, as make would run them (make -n runs nothing)."""
    run = subprocess.run(
        ["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return run.stdout.splitlines()


def _comparable(lines: list[str]) -> list[str]:
    """Lines with what changes from run to run (the job id, the order matches are
    found in, distances past two decimals) made equal."""
    kept = []
    for line in lines:
        line = re.sub(r"\b[0-9a-f]{32}\b", "JOB", line)
        line = re.sub(r"distance (\d\.\d\d)\d", r"distance \1", line)
        kept.append(line)
    matches = sorted(line for line in kept if line.startswith("match "))
    return [line for line in kept if not line.startswith("match ")] + matches


def test_the_demo_says_who_it_looks_for_and_the_readme_shows_its_output(tmp_path: Path) -> None:
    recipe = _recipe()
    said = [shlex.split(line)[1] for line in recipe if line.startswith("echo ")]
    assert said[0].startswith("demo: looking for Barack Obama (the reference photo: ")
    sample = _readme_sample()
    assert [line for line in sample if line.startswith("demo: ")] == said
    (command,) = [line for line in recipe if "findme search" in line]
    args = shlex.split(command.split(".venv/bin/findme", 1)[1])
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # as `env -u` does
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    demo = subprocess.run(
        [sys.executable, "-m", "findme", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert demo.returncode == 0, demo.stderr
    # stderr and stdout in the order a terminal shows them: the job's lines last.
    shown = [line for line in demo.stderr.splitlines() if not line.startswith("job ")]
    shown += demo.stdout.splitlines() + [
        line for line in demo.stderr.splitlines() if line.startswith("job ")
    ]
    from_findme = [line for line in sample if not line.startswith(("setup: ", "demo: "))]
    assert _comparable(shown) == _comparable(from_findme)
    setup = [line for line in sample if line.startswith("setup: ")]
    assert setup and "a minute or two the first time" in setup[0]
