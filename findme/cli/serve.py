"""`findme serve`: the local OpenWhisk-compatible engine and the search page, until
Ctrl-C, SIGTERM or a closed terminal (SIGHUP)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import secrets
import signal
import socket
import threading
import uuid
from pathlib import Path

from findme.cli.errors import UsageError
from findme.cli.local_engine import add_limit_flags, interrupts_ignored, limits_of
from findme.local.engine import GUEST_AUTH
from findme.local.runner import LocalFindMe
from findme.settings import Settings


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the search page and the OpenWhisk-compatible engine on this computer",
        description="The search page, and the OpenWhisk REST API that the page, wsk and "
        "the OpenWhisk clients use, on this computer until Ctrl-C. Without REDIS_URL its "
        "searches are kept in an embedded Redis in the user's data directory.",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this computer only)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=3233,
        metavar="PORT",
        help="port of the page and the API (default 3233)",
    )
    serve.add_argument(
        "--photos",
        type=Path,
        metavar="DIR",
        help="the folder whose photos (and subfolders) the page's searches may use",
    )
    serve.add_argument(
        "--auth",
        default=None,
        metavar="UUID:KEY",
        help="the OpenWhisk API key callers must give (default: OpenWhisk standalone's public "
        "guest key, or, with --web-secret or a --host other than this computer, a new random key)",
    )
    serve.add_argument(
        "--workers", type=int, metavar="N", help="compare workers (default: one per core)"
    )
    serve.add_argument(
        "--web-secret",
        metavar="SECRET",
        help="require this X-Require-Whisk-Auth header on web actions (or FINDME_WEB_SECRET)",
    )
    add_limit_flags(serve)
    serve.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        help="let pages of this origin (https://host[:port]) call the server from a browser; "
        "repeat for more (or FINDME_CORS_ORIGINS=a,b); default: only the server's own page",
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        metavar="NAME",
        help="answer requests naming the server by this host name too (besides the --host, "
        "localhost, 127.0.0.1, [::1]); repeat for more (or FINDME_ALLOWED_HOSTS=a,b)",
    )
    serve.set_defaults(run=run)


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return True


def _stop_on_signal(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # leaves the `with`, which stops the workers and Redis


def _api_key(args: argparse.Namespace) -> str:
    """The REST API's key. Standalone's guest key is published: it lists activations and
    reads, cancels or deletes any search, so it serves only a server nobody else
    reaches; an operator who set a web secret, or serves other machines, gets a key
    of its own (printed at start) unless they chose one."""
    if args.auth:
        return str(args.auth)
    local_only = args.host in ("127.0.0.1", "localhost", "::1")
    if local_only and not (args.web_secret or Settings.load().web_secret):
        return GUEST_AUTH
    return f"{uuid.uuid4()}:{secrets.token_urlsafe(48)}"


def run(args: argparse.Namespace) -> int:
    if args.photos and not args.photos.is_dir():
        raise UsageError(f"no such folder: {args.photos}")
    if args.port and not _port_free(args.host, args.port):
        raise UsageError(
            f"port {args.port} on {args.host} is in use (another findme serve?): "
            "stop it, or choose another port with --port"
        )
    local = LocalFindMe(
        photo_root=args.photos,
        host=args.host,
        port=args.port,
        auth=_api_key(args),
        compare_workers=args.workers,
        web_secret=args.web_secret,
        limits=limits_of(args),
        cors_origins=tuple(args.cors_origin or ()),
        allowed_hosts=tuple(args.allow_host or ()),
    )
    # SIGTERM, and SIGHUP from a closed terminal, stop it as Ctrl-C does: the workers,
    # then the embedded Redis, which writes what it holds. Ctrl-C stops it even when
    # it was started with SIGINT ignored (`findme serve &` from a script or nohup).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)
    try:
        with interrupts_ignored():
            local.start()
        # A stop that comes while these lines are printed stops it the same way.
        with contextlib.suppress(KeyboardInterrupt):
            print(f"FindMe is running: open the search page at {local.api_host}/", flush=True)
            print(f"  photos: {local.photo_root or '(none: folder searches are off)'}", flush=True)
            print(f"  OpenWhisk API: {local.api_host}  auth: {local.auth}", flush=True)
            print("  stop with Ctrl-C", flush=True)
            threading.Event().wait()
    finally:
        with interrupts_ignored():
            local.stop()
    with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
        print("FindMe stopped.", flush=True)
    return 0
