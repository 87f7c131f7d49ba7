"""Reading action parameters: every wrong one is a BadRequest naming it."""

from __future__ import annotations

import re
from typing import Any

from findme.errors import BadRequest, MethodNotAllowed

JOB_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")


def optional_str(args: dict[str, Any], name: str, max_length: int = 1024) -> str | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    if len(value) > max_length:
        raise BadRequest(f"{name} is too long (at most {max_length} characters)")
    if "\x00" in value:
        raise BadRequest(f"{name} must not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate from JSON's \ud800: no file or key takes it
        raise BadRequest(f"{name} is not valid text (a lone surrogate character)") from None
    return value


def required_str(args: dict[str, Any], name: str, max_length: int = 1024) -> str:
    value = optional_str(args, name, max_length)
    if value is None:
        raise BadRequest(f"{name} is required")
    return value


def number_in_range(
    args: dict[str, Any], name: str, default: float, low: float, high: float
) -> float:
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise BadRequest(f"{name} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be a number") from None
    if not low <= number <= high:  # also refuses NaN
        raise BadRequest(f"{name} must be between {low} and {high}")
    return number


def require_post(args: dict[str, Any], action: str) -> None:
    """Actions that change data answer only POST when called as web actions, so a link,
    an image tag or a prefetch (GET, HEAD) cannot start, change or delete a search.
    A direct invocation (the REST API, a trigger) has no __ow_method."""
    method = args.get("__ow_method")
    if method is not None and str(method).lower() != "post":
        raise MethodNotAllowed(
            f"{action} changes data: send it as a POST request, not {str(method).upper()}"
        )


def job_id(args: dict[str, Any]) -> str:
    value = required_str(args, "job_id", 64)
    if not JOB_ID_PATTERN.match(value):
        raise BadRequest("job_id is not a FindMe job id")
    return value


def event_id(args: dict[str, Any]) -> str:
    value = required_str(args, "event_id", 64)
    if not JOB_ID_PATTERN.match(value):
        raise BadRequest("event_id is not a FindMe event id")
    return value
