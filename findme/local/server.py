"""The OpenWhisk REST API of the local engine, on a real HTTP server (uvicorn)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
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
from findme.local.engine import BLOCKING_WAIT_SECONDS, Engine, UnknownEntity
from findme.local.photo_routes import photo_routes

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"  # the search page
NOT_FOUND = {"error": "The requested resource does not exist.", "code": 0}
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


async def _json_body(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


# No Access-Control-Allow-Origin here: AccessGuard names an origin the operator
# allowed, and only that one (OpenWhisk's `*` would let any web page search the photos).
CORS = CORS_HEADERS
MAX_FORM_FIELDS = 100


async def _web_params(request: Request) -> dict[str, Any] | None:
    """Query and JSON (or form) body merged, plus OpenWhisk's __ow_* fields."""
    params: dict[str, Any] = dict(request.query_params)
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind == "application/x-www-form-urlencoded":
        form = _form_body(await request.body())
        if form is None:
            return None
        params.update(form)
    elif request.method not in ("GET", "HEAD"):
        body = await _json_body(request)
        if body is None:
            return None
        params.update(body)
    params["__ow_method"] = request.method.lower()
    params["__ow_headers"] = {k.lower(): v for k, v in request.headers.items()}
    params["__ow_path"] = ""
    return params


def _form_body(raw: bytes) -> dict[str, str] | None:
    """A urlencoded form body (the standard library parses it: no multipart package)."""
    try:
        return dict(parse_qsl(raw.decode(), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
    except (UnicodeDecodeError, ValueError):
        return None


def _http_projection(result: dict[str, Any]) -> Response:
    """A .http web action's result: {statusCode, headers, body}."""
    headers = {**CORS, **{str(k): str(v) for k, v in (result.get("headers") or {}).items()}}
    status = int(result.get("statusCode", 200))
    body = result.get("body", "")
    if isinstance(body, (dict, list)):
        return JSONResponse(body, status_code=status, headers=headers)
    return Response(str(body), status_code=status, headers=headers)


def build_app(engine: Engine, access: Access | None = None) -> Starlette:
    photo_root = Path(engine.config.photo_root) if engine.config.photo_root else None
    namespace = engine.config.namespace

    def guard(request: Request) -> Response | None:
        if not _authorized(request, engine.config.auth):
            return JSONResponse(UNAUTHORIZED, status_code=401)
        if request.path_params.get("ns") not in ("_", namespace):
            return JSONResponse(NOT_FOUND, status_code=404)
        return None

    async def fire_trigger(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        body = await _json_body(request)
        if body is None:
            return JSONResponse({"error": "The request content was malformed."}, 400)
        try:
            activation_id = await run_in_threadpool(engine.fire, request.path_params["name"], body)
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
        body = await _json_body(request)
        if body is None:
            return JSONResponse({"error": "The request content was malformed."}, 400)
        activation = engine.invoke(action, body)
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
        params = await _web_params(request)
        if params is None:
            return JSONResponse({"error": "The request content was malformed."}, 400, headers=CORS)
        activation = engine.invoke(action, params)
        await asyncio.to_thread(activation.finished.wait, action.timeout_ms / 1000 + 5)
        result = activation.result or {}
        if not activation.success:
            status = result.get("statusCode") if extension == "http" else None
            body = {
                "error": result.get("error", "The action failed."),
                "code": activation.activation_id,
            }
            return JSONResponse(body, status_code=int(status or 400), headers=CORS)
        if extension == "json":
            return JSONResponse(result, headers=CORS)
        return _http_projection(result)

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
    routes += photo_routes(photo_root, engine.config.web_secret)
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

    def start(self) -> None:
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            self.thread.join(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
