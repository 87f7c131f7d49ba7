"""Everything `findme serve` and `findme search` start: Redis, engine, HTTP server.

They stop in the other order, Redis last, so that nothing an activation or a
request still writes is lost; a signal that comes while they stop (a second
Ctrl-C, SIGTERM, a closed terminal) does not cut that short.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from findme.jobs import JobStore
from findme.local.access import Access
from findme.local.embedded_redis import EmbeddedRedis
from findme.local.engine import GUEST_AUTH, Engine, EngineConfig
from findme.local.interrupted import take_over_interrupted
from findme.local.limits import Limits, Throttled
from findme.local.manifest import load_manifest
from findme.local.server import HttpServer, bind, build_app
from findme.settings import Settings, deployment_of
from findme.store import redis_client

log = logging.getLogger("findme.local")
STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """The command is stopping already: the signals that ask it to stop wait no more."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (and receives the signals)
        return
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in STOPPING_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class LocalFindMe:
    def __init__(
        self,
        photo_root: Path | None,
        host: str = "127.0.0.1",
        port: int = 0,
        auth: str = GUEST_AUTH,
        compare_workers: int | None = None,
        manifest_path: Path | None = None,
        web_secret: str | None = None,
        deliver_twice: bool = False,
        exit_after_stop: bool = False,
        limits: Limits | None = None,
        feed_interval_seconds: float | None = None,
        cors_origins: tuple[str, ...] = (),
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:
        self.limits = limits or Limits()
        self.feed_interval_seconds = feed_interval_seconds
        # A command that exits right after stop() leaves the HTTP server to end with
        # the process: uvicorn's graceful shutdown alone takes 0.2 s.
        self.exit_after_stop = exit_after_stop
        self.web_secret = web_secret or Settings.load().web_secret
        # Browsers: which other origins may call, which host names reach it.
        settings = Settings.load()
        self.preview_decodes = settings.preview_decodes
        self.access = Access.of(
            host, (*allowed_hosts, *settings.allowed_hosts), (*cors_origins, *settings.cors_origins)
        )
        self.deliver_twice = deliver_twice
        self.photo_root = photo_root.resolve() if photo_root else None
        self.host, self.port, self.auth = host, port, auth
        self.compare_workers = compare_workers
        self.manifest_path = manifest_path
        self.redis_url = ""
        self.api_host = ""
        self.engine: Engine | None = None
        self._redis: EmbeddedRedis | None = None
        self._server: HttpServer | None = None
        self.resumed: list[str] = []  # searches it was running when it last stopped

    def start(self) -> LocalFindMe:
        self.redis_url = Settings.load().redis_url or ""
        if not self.redis_url:
            self._redis = EmbeddedRedis()
            self.redis_url = self._redis.url
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        shown_host = f"[{self.host}]" if ":" in self.host else self.host
        self.api_host = f"http://{shown_host}:{self.port}"
        # Before any request: a page that polls first must not see the downtime as a stall.
        store = JobStore(redis_client(self.redis_url), Settings.load().job_ttl_seconds)
        self.resumed = take_over_interrupted(store, deployment_of(self.api_host))
        # The manifest binds every setting from the environment (redis_url: $REDIS_URL),
        # as wskdeploy would from CI's; the actions never see this process's environment.
        manifest = load_manifest(self.manifest_path, {**os.environ, "REDIS_URL": self.redis_url})
        workers = self.compare_workers or os.cpu_count() or 1
        # Bound always, empty without --photos: a web caller's photo_root is refused
        # (final), never taken as a folder on this machine to look into.
        local_inputs = {"photo_root": str(self.photo_root or "")}
        if not manifest.inputs.get("compare_activations"):
            local_inputs["compare_activations"] = str(workers)  # one per warm worker
        config = EngineConfig(
            api_host=self.api_host,
            auth=self.auth,
            compare_workers=workers,
            web_secret=self.web_secret,
            deliver_twice=self.deliver_twice,
            limits=self.limits,
            package_inputs=local_inputs,
            feed_interval_seconds=self.feed_interval_seconds,
        )
        self.engine = Engine(manifest, config)
        # uvicorn starts (0.1 s) while the workers wait for the fork server's models;
        # a request that comes first waits in its action's queue.
        app = build_app(self.engine, self.photo_root, self.access, self.preview_decodes)
        self._server = HttpServer(app, sock)
        self._server.start(wait=False)
        try:
            self.engine.start(wait=False)
            self._server.wait_started()
            self._resume_interrupted()
        except BaseException:
            self.exit_after_stop = False  # nothing may keep serving when start fails
            self.stop()
            raise
        return self

    def _resume_interrupted(self) -> None:
        """The sweep, at once, for the jobs taken over (not a minute later)."""
        assert self.engine is not None
        if not self.resumed:
            return
        log.info("going on with %d searches interrupted when FindMe stopped", len(self.resumed))
        for trigger, feed in self.engine.manifest.feeds.items():
            # Over this minute's fires, the alarm's next tick sweeps within a minute.
            with contextlib.suppress(Throttled):
                self.engine.fire(trigger, dict(feed.payload))

    def stop(self) -> None:
        """Stops the HTTP server, then the workers, then Redis (what they wrote is kept)."""
        with _signals_ignored():
            if self._server and not self.exit_after_stop:
                self._server.stop()
            if self.engine:
                self.engine.stop()
            if self._redis:
                self._redis.close()

    def __enter__(self) -> LocalFindMe:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
