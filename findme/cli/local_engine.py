"""What `findme search` and `findme serve` share about the local engine: its
OpenWhisk limits, as flags, and Ctrl-C around starting and stopping it."""

from __future__ import annotations

import argparse
import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

from findme.local.limits import Limits


def add_limit_flags(parser: argparse.ArgumentParser) -> None:
    defaults = Limits()
    group = parser.add_argument_group(
        "OpenWhisk limits", "the engine enforces a default OpenWhisk's namespace limits"
    )
    group.add_argument(
        "--fires-per-minute",
        type=int,
        default=defaults.fires_per_minute,
        metavar="N",
        help=f"trigger fires a minute (default {defaults.fires_per_minute})",
    )
    group.add_argument(
        "--invocations-per-minute",
        type=int,
        default=defaults.invocations_per_minute,
        metavar="N",
        help=f"action invocations a minute, rule-started ones too "
        f"(default {defaults.invocations_per_minute})",
    )
    group.add_argument(
        "--concurrent-invocations",
        type=int,
        default=defaults.concurrent_invocations,
        metavar="N",
        help=f"activations running at once (default {defaults.concurrent_invocations})",
    )
    group.add_argument(
        "--caller-invocations-per-minute",
        type=int,
        metavar="N",
        help="one web caller's (address's) share of the invocations a minute, refused "
        "past it so no client locks the others out (default: half the namespace's)",
    )
    group.add_argument(
        "--no-limits", action="store_true", help="turn the limits off (benchmarks only)"
    )


def limits_of(args: argparse.Namespace) -> Limits:
    """OpenWhisk's namespace limits for the engine: the defaults, a cluster's own
    values, or none at all (benchmarks that say so)."""
    if args.no_limits:
        return Limits.off()
    return Limits(
        fires_per_minute=args.fires_per_minute,
        invocations_per_minute=args.invocations_per_minute,
        concurrent_invocations=args.concurrent_invocations,
        caller_invocations_per_minute=args.caller_invocations_per_minute,
    )


@contextlib.contextmanager
def interrupts_ignored() -> Iterator[None]:
    """Ctrl-C does nothing in here, and processes started in here (the fork server,
    and every worker it forks) ignore it for good: the command handles it once,
    cleanly, instead of ninety tracebacks; and stopping is never cut short."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class HeldInterrupt:
    """A Ctrl-C that waits for the end of a step; a second one does not wait."""

    def __init__(self) -> None:
        self.pressed = False

    def press(self, signum: int, frame: FrameType | None) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True

    def check(self) -> None:
        """Raises the held Ctrl-C now, before the next step begins."""
        if self.pressed:
            raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_held() -> Iterator[HeldInterrupt]:
    """Ctrl-C in here is raised when the block ends: a step that must not be cut in
    half (registering a search before its id is known, reopening one before it is
    driven again) ends first, so no search is left that nobody can name or resume.
    Only this process holds it: a program it starts gets the default handler."""
    held = HeldInterrupt()
    previous = signal.signal(signal.SIGINT, held.press)
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)
    held.check()
