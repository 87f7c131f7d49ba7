"""Fetching photos and reference pictures from the web, safely.

Only https, only to allowed media hosts and paths (X's pbs.twimg.com /media/
and /profile_images/ by default); the host's addresses are resolved and
checked (no loopback, private, link-local, metadata or other special
addresses) and the connection is pinned to the checked address, so a DNS
answer cannot change between check and use; redirects are refused; connect
and read timeouts, and a total deadline a server cannot stretch; the size is
capped while streaming; only image content types. Pillow's pixel limit
(findme.images) refuses decompression bombs.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
import urllib3.connection
from requests.adapters import HTTPAdapter

from findme import replay
from findme.images import MAX_PHOTO_BYTES, PhotoError

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15
# A server sending a byte every few seconds keeps each read under READ_TIMEOUT
# for ever: a whole download or API call ends this long after it started. A
# photo's 30 s is what compare_images keeps for one (STOP_BEFORE_DEADLINE_SECONDS);
# an API call's 20 s fits a listing's handover (findme.stages.search).
DOWNLOAD_SECONDS = 30.0
API_CALL_SECONDS = 20.0
HTTPS_PORT = 443  # the only port fetched (tests point it at their own TLS server)
CA_BUNDLE: str | bool = True  # certifi's authorities (tests add their own)
_CHUNK = 64 * 1024
MAX_API_BYTES = 8 * 1024 * 1024  # a page of 40 Mastodon posts is about 200 KB


def _allowed(host: str, path: str, allowed: frozenset[str]) -> bool:
    """Entries are `host` (any path) or `host/path-prefix/`; path is as its server reads it."""
    for entry in allowed:
        entry_host, _, prefix = entry.partition("/")
        if host == entry_host and (not prefix or path.startswith("/" + prefix)):
            return True
    return False


def _server_path(path: str) -> str | None:
    """The path as a server (or a proxy before it) reads it: percent-escapes decoded,
    up to three times; None when any reading of it holds a `.` or `..` segment (also
    `..;`, as Tomcat reads it) or a backslash (a `/` to some servers), which could
    climb out of an allowed path prefix (a shared bucket's `/alice/../bob/`)."""
    for _ in range(3):
        segments = path.split("/")
        if "\\" in path or any(s.split(";")[0] in (".", "..") for s in segments):
            return None
        decoded = unquote(path)
        if decoded == path:
            return path
        path = decoded
    return None  # still escaped after three readings: no photo's link is written so


def check_url(url: str, allowed_hosts: frozenset[str]) -> str | None:
    """Why a URL may not be fetched, or None when it may (before DNS)."""
    if not isinstance(url, str) or len(url) > 2048:
        return "not a URL"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a URL"
    if parts.scheme != "https":
        return "only https URLs are fetched"
    if parts.username or parts.password:
        return "URLs with credentials are refused"
    if port not in (None, 443):
        return "only the standard https port is allowed"
    host = (parts.hostname or "").lower()
    path = _server_path(parts.path)
    if path is None:
        return "URLs whose path climbs out of its folder (.. or an escaped form) are refused"
    if not _allowed(host, path, allowed_hosts):
        return f"{host or 'no host'}{parts.path} is not on an allowed media host"
    return None


# IPv6 forms that carry an IPv4 address (whose own checks then apply): NAT64's
# well-known prefix (RFC 6052; a DNS64 network answers it for every IPv4-only
# site), 6to4 (2002::/16) and IPv4-mapped. Refused outright: IPv4-compatible
# (::/96, deprecated), NAT64's local-use prefix (RFC 8215) and Teredo, which no
# public site needs and which Python's is_global lets through (some of them).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NEVER = (ipaddress.IPv6Network("::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def _forbidden(address: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.teredo or any(ip in network for network in _NEVER):
            return True
        nat64 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
        ip = ip.ipv4_mapped or ip.sixtofour or nat64 or ip
    return not ip.is_global or ip.is_multicast


def resolve_public(host: str) -> str:
    """One address of the host, after checking that every address it has is public."""
    addresses = replay.resolve(host)
    if addresses is None:
        try:
            infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
        except OSError:
            raise PhotoError(f"download failed (cannot resolve {host})") from None
        addresses = [info[4][0] for info in infos]
    if not addresses:
        raise PhotoError(f"download failed (cannot resolve {host})")
    if any(_forbidden(a) for a in addresses):
        raise PhotoError(f"{host} resolves to a private or reserved address")
    return addresses[0]


class _Deadline:
    """Ends a call's connection once its time is up, whatever the server does: the
    socket is shut down under the read (the TLS handshake, the headers, the body),
    which then fails at once. Sockets are known by descriptor and inode, so one
    closed meanwhile (its number reused elsewhere) is never touched."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._over = False
        self._sockets: dict[int, int] = {}  # descriptor -> inode
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._over = True
            self._sockets.clear()

    def watch(self, fd: int) -> None:
        with self._lock:
            if self._over:
                return
            self._sockets[fd] = os.fstat(fd).st_ino
            if self.expired:
                _shut_down(fd, self._sockets[fd])

    def forget(self, fd: int) -> None:
        with self._lock:
            self._sockets.pop(fd, None)

    def _expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.expired = True
            for fd, inode in self._sockets.items():
                _shut_down(fd, inode)


def _shut_down(fd: int, inode: int) -> None:
    try:
        if os.fstat(fd).st_ino != inode:
            return
        sock = socket.socket(fileno=fd)
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.detach()  # the descriptor stays its connection's, to close


def _watched_connections(deadline: _Deadline) -> type[urllib3.connection.HTTPSConnection]:
    """urllib3's connection, its socket watched by the deadline from its creation."""

    class WatchedConnection(urllib3.connection.HTTPSConnection):
        watched: int | None = None

        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            self.watched = sock.fileno()
            deadline.watch(self.watched)
            return sock

        def close(self) -> None:
            if self.watched is not None:
                deadline.forget(self.watched)
                self.watched = None
            super().close()

    return WatchedConnection


class _PinnedAdapter(HTTPAdapter):
    """Connects to a given address while speaking TLS (SNI, certificate) for the host,
    within the call's deadline."""

    def __init__(self, host: str, address: str, deadline: _Deadline) -> None:
        self.host, self.address, self.deadline = host, address, deadline
        super().__init__(max_retries=0)

    def add_headers(self, request: requests.PreparedRequest, **kwargs: object) -> None:
        request.headers["Host"] = self.host

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):  # type: ignore[no-untyped-def]
        pool_kwargs = {
            "server_hostname": self.host,
            "assert_hostname": self.host,
            "cert_reqs": "CERT_REQUIRED" if verify else "CERT_NONE",
        }
        if isinstance(verify, str):
            pool_kwargs["ca_certs"] = verify
        pool = self.poolmanager.connection_from_host(
            self.address, port=HTTPS_PORT, scheme="https", pool_kwargs=pool_kwargs
        )
        pool.ConnectionCls = _watched_connections(self.deadline)
        return pool


@contextlib.contextmanager
def _pinned_session(
    url: str, allowed_hosts: frozenset[str], deadline: _Deadline
) -> Iterator[requests.Session]:
    """A session that may reach url's host only, at the public address checked now
    (https, an allowed host, no proxy from the environment between check and use)."""
    problem = check_url(url, allowed_hosts)
    if problem:
        raise PhotoError(problem)
    host = (urlsplit(url).hostname or "").lower()
    address = resolve_public(host)
    with requests.Session() as session:
        session.trust_env = False
        session.verify = CA_BUNDLE
        session.mount("https://", _PinnedAdapter(host, address, deadline))
        yield session


def fetch(url: str, allowed_hosts: frozenset[str]) -> bytes:
    with _Deadline(DOWNLOAD_SECONDS) as deadline:
        try:
            with (
                _pinned_session(url, allowed_hosts, deadline) as session,
                session.get(
                    url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=False
                ) as response,
            ):
                data = _read_image(response)
        except (requests.RequestException, PhotoError) as error:
            # Whatever a connection cut by the deadline looks like (a short body,
            # headers without an end), it is the deadline's doing.
            if deadline.expired:
                raise _too_long("download", deadline) from None
            if isinstance(error, PhotoError):
                raise
            raise PhotoError(f"download failed ({type(error).__name__})") from None
        if deadline.expired:  # a body cut short by the deadline is no photo
            raise _too_long("download", deadline)
        return data


def _too_long(what: str, deadline: _Deadline) -> PhotoError:
    return PhotoError(f"{what} took longer than {deadline.seconds:g} s")


class ApiResponse:
    """One API answer: status, headers, the parsed JSON (None when not JSON), links."""

    def __init__(self, response: requests.Response, body: bytes) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.links = response.links
        try:
            self.json: Any = json.loads(body) if body else None
        except ValueError:
            self.json = None


def call_api(
    method: str,
    url: str,
    allowed_hosts: frozenset[str],
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    max_bytes: int = MAX_API_BYTES,
) -> ApiResponse:
    """An API call to a host a caller may have named (a Mastodon server): the same
    rules as photo downloads (https, allowed host, public address pinned, no
    redirects), a capped body. Network failures raise PhotoError."""
    host = (urlsplit(url).hostname or "").lower()
    with _Deadline(API_CALL_SECONDS) as deadline:
        try:
            with (
                _pinned_session(url, allowed_hosts, deadline) as session,
                session.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    json=body,
                    stream=True,
                    timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                    allow_redirects=False,
                ) as response,
            ):
                data = bytearray()
                for chunk in response.iter_content(_CHUNK):
                    data.extend(chunk)
                    if len(data) > max_bytes:
                        raise PhotoError(f"{host} answered more than {max_bytes} bytes")
        except (requests.RequestException, PhotoError) as error:
            if deadline.expired:
                raise _too_long(f"{host}'s answer", deadline) from None
            if isinstance(error, PhotoError):
                raise
            raise PhotoError(f"{host} did not answer ({type(error).__name__})") from None
        if deadline.expired:
            raise _too_long(f"{host}'s answer", deadline)
        return ApiResponse(response, bytes(data))


def _read_image(response: requests.Response) -> bytes:
    if response.is_redirect or 300 <= response.status_code < 400:
        raise PhotoError("redirects are not followed")
    if response.status_code != 200:
        raise PhotoError(f"download failed (HTTP {response.status_code})")
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if not kind.startswith("image/"):
        raise PhotoError(f"not an image (content type {kind or 'missing'})")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_PHOTO_BYTES:
        raise PhotoError(f"file too large ({declared} bytes, limit {MAX_PHOTO_BYTES})")
    body = bytearray()
    for chunk in response.iter_content(_CHUNK):
        body.extend(chunk)
        if len(body) > MAX_PHOTO_BYTES:
            raise PhotoError(f"file too large (over {MAX_PHOTO_BYTES} bytes)")
    return bytes(body)
