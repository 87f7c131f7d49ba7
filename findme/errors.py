"""Errors an action turns into an OpenWhisk-style error result."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

log = logging.getLogger("findme")


class ActionError(Exception):
    status_code = 500

    def result(self) -> dict[str, Any]:
        return {"error": str(self), "statusCode": self.status_code}


class BadRequest(ActionError):
    status_code = 400


class NotFound(ActionError):
    status_code = 404


class MethodNotAllowed(ActionError):
    status_code = 405


class Unavailable(ActionError):
    status_code = 503


def run_action(handler: Callable[[dict[str, Any]], dict[str, Any]], args: dict[str, Any]) -> dict:
    """Runs a stage; expected failures become {"error", "statusCode"} results."""
    try:
        return handler(args)
    except ActionError as error:
        return error.result()
    except Exception as error:
        # The traceback goes to the activation log; the result says only what
        # kind of failure it was, so no parameter value leaks through it.
        traceback.print_exc()
        return {"error": f"internal error ({type(error).__name__})", "statusCode": 500}
