"""A real HTTPS server on 127.0.0.1 playing foreign servers (a media host, a Mastodon
server) for attacks from outside: its own certificate for the names it plays (made
with openssl), a handler a test writes, and findme.download pointed at it.

Only what a test cannot have is bent: the names resolve to 127.0.0.1 (a private
address, which the downloads refuse), the port is the server's, and its certificate
is trusted. Everything else (TLS, pinning, reading, limits) runs as in production.
"""

from __future__ import annotations

import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from findme import download

Answer = Callable[[BaseHTTPRequestHandler], None]


def certificate(folder: Path, names: list[str]) -> tuple[Path, Path]:
    """A self-signed certificate for the names, and its key."""
    cert, key = folder / "server.pem", folder / "server.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec"),
            *("-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={names[0]}"),
            *("-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in names)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class FakeHttps:
    """A threaded TLS server on 127.0.0.1 answering every request with answer()."""

    def __init__(self, folder: Path, names: list[str], answer: Answer) -> None:
        self.cert, key = certificate(folder, names)
        self.stopping = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self.fake = fake
                answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def trickle(handler: BaseHTTPRequestHandler, head: bytes, every: float, longest: float) -> None:
    """Sends head, then a byte every `every` seconds for at most `longest` seconds:
    each read of the client stays far under its read timeout."""
    stop = handler.fake.stopping  # type: ignore[attr-defined]
    try:
        handler.wfile.write(head)
        handler.wfile.flush()
        ends = time.monotonic() + longest
        while time.monotonic() < ends and not stop.wait(every):
            handler.wfile.write(b"x")
            handler.wfile.flush()
    except OSError:  # the client hung up: what the attack is waiting for
        pass
    handler.close_connection = True


def serve_bytes(handler: BaseHTTPRequestHandler, body: bytes, kind: str) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[list[str], Answer], FakeHttps]]:
    """A fixture's body: starts fake servers for some names; downloads of those names
    reach them; they stop when the test ends."""
    started: list[FakeHttps] = []

    def start(names: list[str], answer: Answer) -> FakeHttps:
        server = FakeHttps(tmp_path, names, answer)
        started.append(server)
        real_resolve = download.resolve_public
        monkeypatch.setattr(
            download,
            "resolve_public",
            lambda host: "127.0.0.1" if host in names else real_resolve(host),
        )
        monkeypatch.setattr(download, "HTTPS_PORT", server.port)
        monkeypatch.setattr(download, "CA_BUNDLE", str(server.cert))
        return server

    yield start
    for server in started:
        server.stop()
