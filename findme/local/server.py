"""The OpenWhisk REST API of the local engine, on a real HTTP server (uvicorn)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import secrets
import socket
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from findme.local.access import CORS_HEADERS, Access, AccessGuard
from findme.local.activations import APPLICATION_ERROR
from findme.local.engine import BLOCKING_WAIT_SECONDS, Engine, UnknownEntity
from findme.local.limits import Throttled, entity_too_big
from findme.local.photo_routes import PREVIEW_DECODES_AT_ONCE, photo_routes

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"  # the search page
NOT_FOUND = {"error": "The requested resource does not exist.", "code": 0}
MALFORMED = "The request content was malformed."
PARAMETERS_NOT_ALLOWED = (
    "Request defines parameters that are not allowed (e.g., reserved properties)."
)
RESERVED = {"__ow_method", "__ow_headers", "__ow_path", "__ow_user", "__ow_body", "__ow_query"}
WEB_UNAUTHORIZED = {"error": "Authentication is possible but has failed or not yet been provided."}
UNAUTHORIZED = {"error": "The supplied authentication is invalid", "code": 0}


def _authorized(request: Request, auth: str) -> bool:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return False
    try:
        given = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(given.encode(), auth.encode())


def _truthy(value: str | None) -> bool:
    return (value or "").lower() == "true"


MAX_JSON_DEPTH = 64  # FindMe's parameters nest three deep; deeper is an attack


class RequestRefused(Exception):
    """A request OpenWhisk's controller would refuse before any action runs."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _code() -> str:
    """OpenWhisk answers errors with the request's transaction id as "code"."""
    return secrets.token_hex(16)


def refusal(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "code": _code()}, status_code=status, headers=headers)


def _depth(value: Any) -> int:
    """How deep a parsed JSON value nests, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


async def _raw_body(request: Request, limit: int | None) -> bytes:
    """The request body, refused (413, as OpenWhisk) past the payload limit."""
    declared = request.headers.get("content-length", "")
    if limit is not None and declared.isdigit() and int(declared) > limit:
        raise RequestRefused(413, entity_too_big(int(declared), limit))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if limit is not None and size > limit:
            raise RequestRefused(413, entity_too_big(size, limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_json(raw: bytes) -> Any:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise RequestRefused(400, MALFORMED) from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise RequestRefused(400, MALFORMED)
    return value


async def _json_body(request: Request, limit: int | None) -> dict[str, Any]:
    raw = await _raw_body(request, limit)
    if not raw.strip():
        return {}
    body = _parse_json(raw)
    if not isinstance(body, dict):
        raise RequestRefused(400, MALFORMED)
    return body


# No Access-Control-Allow-Origin here: AccessGuard names an origin the operator
# allowed, and only that one (OpenWhisk's `*` would let any web page search the photos).
CORS = CORS_HEADERS
MAX_FORM_FIELDS = 100


async def _web_params(request: Request, limit: int | None) -> dict[str, Any]:
    """The request's parameters as OpenWhisk gives them to a web action: query and
    JSON (or form) body merged. Raises RequestRefused as OpenWhisk would."""
    params: dict[str, Any] = dict(request.query_params)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await _raw_body(request, limit)
    if kind == "application/x-www-form-urlencoded":
        form = _form_body(raw)
        if form is None:
            raise RequestRefused(400, MALFORMED)
        params.update(form)
    elif raw.strip():
        body = _parse_json(raw)
        if not isinstance(body, dict):
            raise RequestRefused(400, MALFORMED)
        params.update(body)
    return params


def _web_context(request: Request) -> dict[str, Any]:
    return {
        "__ow_method": request.method.lower(),
        "__ow_headers": {k.lower(): v for k, v in request.headers.items()},
        "__ow_path": "",
    }


def _as_json(projection: Any) -> Response:
    """OpenWhisk's .json extension: an object or array, else 400."""
    if isinstance(projection, (dict, list)):
        return JSONResponse(projection, headers=CORS)
    return refusal(400, "Response is not valid 'application/json'.", CORS)


def _as_http(projection: Any) -> Response:
    """OpenWhisk's .http extension: {statusCode, headers, body}; no body is 204."""
    if not isinstance(projection, dict):
        return refusal(400, "Response is not valid 'message/http'.", CORS)
    try:
        status = int(projection.get("statusCode", 0)) or None
        headers = {str(k): str(v) for k, v in (projection.get("headers") or {}).items()}
    except (TypeError, ValueError, AttributeError):
        return refusal(400, "Response is not valid 'message/http'.", CORS)
    headers = {**CORS, **headers}
    body = projection.get("body")
    if body is None or body == "":
        headers.pop("Content-Type", None)
        return Response(status_code=status or 204, headers=headers)
    if isinstance(body, str):
        return Response(body, status_code=status or 200, headers=headers)
    return JSONResponse(body, status_code=status or 200, headers=headers)


def _form_body(raw: bytes) -> dict[str, str] | None:
    """A urlencoded form body (the standard library parses it: no multipart package)."""
    try:
        return dict(parse_qsl(raw.decode(), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
    except (UnicodeDecodeError, ValueError):
        return None


def build_app(
    engine: Engine,
    photo_root: Path | None = None,
    access: Access | None = None,
    preview_decodes: int = PREVIEW_DECODES_AT_ONCE,
) -> Starlette:
    namespace = engine.config.namespace
    limits = engine.config.limits
    payload_limit = limits.payload_bytes if limits.enforced else None

    def guard(request: Request) -> Response | None:
        if not _authorized(request, engine.config.auth):
            return JSONResponse(UNAUTHORIZED, status_code=401)
        if request.path_params.get("ns") not in ("_", namespace):
            return JSONResponse(NOT_FOUND, status_code=404)
        return None

    async def fire_trigger(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        try:
            body = await _json_body(request, payload_limit)
            activation_id = await run_in_threadpool(engine.fire, request.path_params["name"], body)
        except RequestRefused as error:
            return refusal(error.status, str(error))
        except Throttled as error:
            return refusal(429, str(error))
        except UnknownEntity:
            return JSONResponse(NOT_FOUND, status_code=404)
        if activation_id is None:
            return Response(status_code=204)
        return JSONResponse({"activationId": activation_id}, status_code=202)

    async def invoke_action(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        parts = request.path_params["path"].split("/")
        package, name = (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])
        try:
            action = engine.action(package, name)
        except UnknownEntity:
            return JSONResponse(NOT_FOUND, status_code=404)
        try:
            body = await _json_body(request, payload_limit)
            activation = engine.invoke(action, body)
        except RequestRefused as error:
            return refusal(error.status, str(error))
        except Throttled as error:
            return refusal(429, str(error))
        if not _truthy(request.query_params.get("blocking")):
            return JSONResponse({"activationId": activation.activation_id}, status_code=202)
        finished = await asyncio.to_thread(activation.finished.wait, BLOCKING_WAIT_SECONDS)
        if not finished:
            return JSONResponse({"activationId": activation.activation_id}, status_code=202)
        # OpenWhisk answers a failed blocking activation with 502 (500 for its own errors).
        status = 200 if activation.success else (500 if activation.status_code == 3 else 502)
        if _truthy(request.query_params.get("result")):
            return JSONResponse(activation.result, status_code=status)
        return JSONResponse(activation.record(), status_code=status)

    async def get_activation(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        activation = engine.activations.get(request.path_params["id"])
        if activation is None or not activation.finished.is_set():
            return JSONResponse(NOT_FOUND, status_code=404)
        return JSONResponse(activation.record())

    async def list_activations(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        try:
            limit = min(max(int(request.query_params.get("limit", 30)), 0), 200)
            skip = max(int(request.query_params.get("skip", 0)), 0)
        except ValueError:
            return JSONResponse({"error": "limit and skip must be integers"}, 400)
        items = engine.activations.recent(limit, skip, request.query_params.get("name"))
        return JSONResponse([a.record() for a in items if a.finished.is_set()])

    async def web_action(request: Request) -> Response:
        """OpenWhisk web actions: no key needed, params from query and body, .json or .http."""
        name, _, extension = request.path_params["action"].partition(".")
        extension = extension or "http"
        try:
            action = engine.action(request.path_params["pkg"], name)
        except UnknownEntity:
            action = None
        if action is None or not action.web or extension not in ("json", "http"):
            return JSONResponse(NOT_FOUND, status_code=404, headers=CORS)
        if request.path_params["ns"] not in ("_", namespace):
            return JSONResponse(NOT_FOUND, status_code=404, headers=CORS)
        if request.method == "OPTIONS":
            return Response(status_code=200, headers=CORS)
        secret = engine.config.web_secret
        given = request.headers.get("x-require-whisk-auth", "")
        if secret and not hmac.compare_digest(given.encode(), secret.encode()):
            # OpenWhisk's require-whisk-auth: the web action wants its secret header.
            return JSONResponse(WEB_UNAUTHORIZED, status_code=401, headers=CORS)
        try:
            params = await _web_params(request, payload_limit)
            if set(params) & (engine.immutable_parameters(action) | RESERVED):
                raise RequestRefused(400, PARAMETERS_NOT_ALLOWED)
            engine.callers.attempt(request.client.host if request.client else None)
            activation = engine.invoke(action, {**params, **_web_context(request)})
        except RequestRefused as error:
            return refusal(error.status, str(error), CORS)
        except Throttled as error:
            return refusal(429, str(error), CORS)
        finished = await asyncio.to_thread(activation.finished.wait, BLOCKING_WAIT_SECONDS)
        if not finished:
            return refusal(202, "Response not yet ready.", CORS)
        result = activation.result or {}
        if activation.status_code == APPLICATION_ERROR:
            # OpenWhisk serves the error field of a failed activation's result.
            if "error" not in result:
                return refusal(404, "The requested property does not exist.", CORS)
            projection: Any = result["error"]
        elif activation.success:
            projection = result
        else:
            return refusal(400, "There was an error processing your request.", CORS)
        return _as_json(projection) if extension == "json" else _as_http(projection)

    routes = [
        Route(
            "/api/v1/web/{ns}/{pkg}/{action}",
            web_action,
            methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
        ),
        Route("/api/v1/namespaces/{ns}/triggers/{name}", fire_trigger, methods=["POST"]),
        Route("/api/v1/namespaces/{ns}/actions/{path:path}", invoke_action, methods=["POST"]),
        Route("/api/v1/namespaces/{ns}/activations/{id}", get_activation, methods=["GET"]),
        Route("/api/v1/namespaces/{ns}/activations", list_activations, methods=["GET"]),
    ]
    routes += photo_routes(photo_root, engine.config.web_secret, preview_decodes)
    if STATIC_DIR.is_dir():
        routes.append(Mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="page"))
    access_guard = Middleware(AccessGuard, access=access or Access())
    return Starlette(routes=routes, middleware=[access_guard])


def bind(host: str, port: int) -> socket.socket:
    """Binds the listening socket first, so the port is known before workers start."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it. Without it, h11's separate writes of a
    # response's head and body wait out the client's delayed ACK: 40 ms on every
    # keep-alive request, such as each trigger fire of a search.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(256)
    return sock


class HttpServer:
    """uvicorn on an already bound socket, in a background thread."""

    def __init__(self, app: Starlette, sock: socket.socket) -> None:
        self.sock = sock
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="http", daemon=True
        )

    def start(self, wait: bool = True) -> None:
        self.thread.start()
        if wait:
            self.wait_started()

    def wait_started(self) -> None:
        while not self.server.started and self.thread.is_alive():
            self.thread.join(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
