"""What `findme search` and `findme serve` share about the local engine: its
OpenWhisk limits, as flags, and starting it out of Ctrl-C's reach."""

from __future__ import annotations

import argparse
import contextlib
import signal
from collections.abc import Iterator

from findme.local.limits import Limits


def add_limit_flags(parser: argparse.ArgumentParser) -> None:
    defaults = Limits()
    group = parser.add_argument_group(
        "OpenWhisk limits", "the engine enforces a default OpenWhisk's namespace limits"
    )
    group.add_argument(
        "--fires-per-minute", type=int, default=defaults.fires_per_minute, metavar="N"
    )
    group.add_argument(
        "--invocations-per-minute", type=int, default=defaults.invocations_per_minute, metavar="N"
    )
    group.add_argument(
        "--concurrent-invocations", type=int, default=defaults.concurrent_invocations, metavar="N"
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
    )


@contextlib.contextmanager
def no_interrupts_for_children() -> Iterator[None]:
    """Processes started in here (Redis, the fork server and every worker it forks)
    ignore Ctrl-C: the command handles it once, cleanly, instead of ninety tracebacks."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
