"""Waiting out an API's rate limit within an activation's time.

Mastodon reports `X-RateLimit-Remaining` and `X-RateLimit-Reset` (an ISO 8601
time), Bluesky `RateLimit-Remaining` and `RateLimit-Reset` (seconds since the
epoch). A source waits for the reset when the activation has the time for it,
and otherwise stops, keeping what it found.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime

from findme.events import seconds_left
from findme.settings import Settings

# Never wait longer than this at once (Mastodon's window is 5 minutes).
MAX_WAIT_SECONDS = 120.0
# What a listing keeps for handing over after a wait.
RESERVE_SECONDS = 45.0


# A reset time past this (the year 2242) is not a time: a server's NaN, 1e308 or inf.
LATEST_RESET = 2.0**33


def reset_time(value: str | None) -> float | None:
    """The reset time of a rate-limit header, in seconds since the epoch; None when
    there is none, or when the server's value is no time at all."""
    if not value or len(value) > 64:
        return None
    text = value.strip()
    try:
        at = float(text)
    except ValueError:
        try:
            at = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
        except (ValueError, OverflowError):
            return None
    return at if 0 <= at < LATEST_RESET else None  # also refuses NaN


def remaining(headers: Mapping[str, str], name: str) -> int | None:
    value = (headers.get(name) or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def wait_until(reset_at: float | None, settings: Settings) -> bool:
    """Sleeps until reset_at (a second past it); False, without sleeping, when that
    is too long or would not leave the activation time to go on."""
    wait = max((reset_at or time.time() + 1) - time.time(), 0.0) + 1.0
    if wait > MAX_WAIT_SECONDS or wait > seconds_left(settings) - RESERVE_SECONDS:
        return False
    time.sleep(wait)
    return True
