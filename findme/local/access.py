"""Who may talk to `findme serve` from a browser: host names and origins.

A laptop running `findme serve` is visited by every web page its browser opens.
Two rules keep those pages out:

- Host check (against DNS rebinding): a request must name this server by a host
  the operator expects (the bound host, localhost, 127.0.0.1, [::1], or a name
  given with --allow-host; bound to 0.0.0.0, the machine's other names and
  addresses need --allow-host); a page whose own name was re-pointed at
  127.0.0.1 still sends its own name and is refused.
- Origins: a browser request from another origin (its Origin header) is refused
  unless the operator named that origin (--cors-origin); a named origin gets CORS
  headers for itself only, never `*` unless the operator asked for `*`. A
  cross-site photo or folder request without an Origin header (an <img> on another
  site) is refused the same way when the operator named no origin.
- Framing: no other site may show the page in a frame (clickjacking: a hidden
  frame over a decoy, where a click deletes a search); every answer says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH",
    "Access-Control-Allow-Headers": (
        "Authorization, Origin, X-Requested-With, Content-Type, Accept, X-Require-Whisk-Auth"
    ),
}
# The page's own routes for photos: an <img> from another site sends no Origin.
LOCAL_ROUTES = "/findme/"
# Only the server's own pages may frame its answers (both headers: old browsers
# know only X-Frame-Options).
NO_FRAMING = [
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"x-frame-options", b"SAMEORIGIN"),
]


def host_name(value: str) -> str:
    """The name in a Host header or an origin's authority, without port, lower-case."""
    value = value.strip().lower().rstrip(".")
    if value.startswith("["):  # [::1]:3233
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0].rstrip(".")
    return value


@dataclass(frozen=True)
class Access:
    bound_host: str = "127.0.0.1"
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    cors_origins: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, bound_host: str, hosts: Iterable[str], origins: Iterable[str]) -> Access:
        return cls(
            bound_host=host_name(bound_host),
            allowed_hosts=frozenset(host_name(h) for h in hosts if h.strip()),
            cors_origins=frozenset(o.strip().rstrip("/").lower() for o in origins if o.strip()),
        )

    def host_allowed(self, host: str | None) -> bool:
        if host is None:
            return True  # no browser sends a request without one
        # The bound host, even 0.0.0.0: the workers call back through it, and a
        # rebinding page sends its own name, never an address.
        name = host_name(host)
        return name in LOCAL_HOSTS or name in self.allowed_hosts or name == self.bound_host

    def origin_allowed(self, origin: str, host: str | None, scheme: str) -> bool:
        if _same_origin(origin, host, scheme):
            return True
        return "*" in self.cors_origins or origin.strip().rstrip("/").lower() in self.cors_origins


def _refusal(status: int, message: str) -> tuple[Message, Message]:
    body = json.dumps({"error": message}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"vary", b"Origin")],
    }
    return start, {"type": "http.response.body", "body": body}


class AccessGuard:
    """ASGI middleware applying Access to every HTTP request."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app, self.access = app, access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host, origin = headers.get("host"), headers.get("origin")
        refusal = None
        if not self.access.host_allowed(host):
            refusal = _refusal(
                403,
                f"this server does not answer for the host name {host_name(host or '')!r}"
                " (findme serve --allow-host NAME adds one)",
            )
        elif origin is not None and not self.access.origin_allowed(
            origin, host, scope.get("scheme", "http")
        ):
            refusal = _refusal(
                403,
                "requests from other web sites are refused"
                " (findme serve --cors-origin ORIGIN allows one)",
            )
        elif (
            origin is None
            and headers.get("sec-fetch-site") == "cross-site"
            and scope["path"].startswith(LOCAL_ROUTES)
            and not self.access.cors_origins
        ):
            refusal = _refusal(403, "photos are not shown to other web sites")
        if refusal is not None:
            for message in refusal:
                await send(message)
            return
        # An allowed origin other than this server's own gets CORS headers naming it.
        cross_origin = origin is not None and not _same_origin(
            origin, host, scope.get("scheme", "http")
        )

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                named = {name.lower() for name, _ in headers}
                extra = [(k, v) for k, v in NO_FRAMING if k not in named]
                if cross_origin:
                    extra.append((b"access-control-allow-origin", origin.encode("latin-1")))
                    extra += [(k.lower().encode(), v.encode()) for k, v in CORS_HEADERS.items()]
                    extra.append((b"vary", b"Origin"))
                message = {**message, "headers": [*headers, *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _same_origin(origin: str, host: str | None, scheme: str) -> bool:
    parts = urlsplit(origin.strip().rstrip("/").lower())
    return host is not None and (parts.scheme, parts.netloc) == (scheme, host.strip().lower())
