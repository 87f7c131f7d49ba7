"""Errors an action turns into an OpenWhisk-style error result."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

log = logging.getLogger("findme")


JSON_HEADERS = {"Content-Type": "application/json"}


class ActionError(Exception):
    status_code = 500

    def result(self, web: bool = False) -> dict[str, Any]:
        if web:
            return {"error": web_response({"error": str(self)}, self.status_code)}
        return {"error": str(self), "statusCode": self.status_code}


def web_response(body: dict[str, Any], status_code: int = 200) -> dict[str, Any]:
    """A result as OpenWhisk's .http extension serves it: status, headers, JSON body."""
    return {"statusCode": status_code, "headers": dict(JSON_HEADERS), "body": body}


def is_web_request(args: dict[str, Any]) -> bool:
    """Web action requests carry __ow_method; direct invocations and events do not."""
    return "__ow_method" in args


class BadRequest(ActionError):
    status_code = 400


class Forbidden(ActionError):
    status_code = 403


class NotFound(ActionError):
    status_code = 404


class MethodNotAllowed(ActionError):
    status_code = 405


class Unavailable(ActionError):
    status_code = 503


def run_action(handler: Callable[[dict[str, Any]], dict[str, Any]], args: dict[str, Any]) -> dict:
    """Runs a stage; expected failures become {"error", "statusCode"} results.

    Called as a web action (through /api/v1/web/.../NAME.http), the result takes
    the shape OpenWhisk's .http extension serves, errors included: OpenWhisk
    serves an error result's "error" field, and only an object there keeps
    its status code and text."""
    web = is_web_request(args)
    try:
        result = handler(args)
    except ActionError as error:
        return error.result(web)
    except Exception as error:
        # The traceback goes to the activation log; the result says only what
        # kind of failure it was, so no parameter value leaks through it.
        traceback.print_exc()
        return InternalError(f"internal error ({type(error).__name__})").result(web)
    if isinstance(result, HttpAnswer):
        return dict(result)  # already what the .http extension serves
    return web_response(result) if web else result


class HttpAnswer(dict):
    """A stage's answer that is not JSON (a feed): {statusCode, headers, body}, served
    as it is by OpenWhisk's .http extension."""


class InternalError(ActionError):
    status_code = 500
