"""FindMe's one Bluesky session, shared by every activation of a deployment.

Bluesky's search needs a logged-in account; its server allows 30 logins
(`com.atproto.server.createSession`) per 5 minutes. So the session's tokens
live in Redis: an activation reuses them, refreshes them when the access token
has expired (`com.atproto.server.refreshSession`), and logs in only when there
is no session or its refresh token is spent; one activation logs in at a time,
and FindMe stays well under the login limit. The tokens and the app password
appear in no payload, result or log line.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any
from urllib.parse import urlsplit

import redis

from findme.download import ApiResponse, call_api
from findme.images import PhotoError
from findme.settings import Settings
from findme.sources import SourceUnavailable
from findme.state.keys import bluesky_login_lock_key, bluesky_logins_key, bluesky_session_key
from findme.store import redis_client

SESSION_TTL_SECONDS = 60 * 24 * 3600  # Bluesky's refresh tokens last about 2 months
MAX_LOGINS_PER_WINDOW = 10  # of Bluesky's 30 per 5 minutes
LOGIN_WINDOW_SECONDS = 300
LOGIN_LOCK_SECONDS = 30
EXPIRED = ("ExpiredToken", "InvalidToken")


class BlueskyUnavailable(SourceUnavailable):
    """Bluesky refused or failed; the message names no secret."""


class BlueskyClient:
    """XRPC calls to the operator's Bluesky service with the shared session."""

    def __init__(self, settings: Settings, client: redis.Redis | None = None) -> None:
        if not settings.bluesky_handle or not settings.bluesky_app_password:
            raise BlueskyUnavailable(
                "Bluesky search needs an account: set bluesky_handle and bluesky_app_password "
                "(FINDME_BLUESKY_HANDLE, FINDME_BLUESKY_APP_PASSWORD; an app password)"
            )
        if not settings.redis_url and client is None:
            raise BlueskyUnavailable("Bluesky sessions are kept in Redis: set redis_url")
        self.settings = settings
        self.service = settings.bluesky_service
        host = (urlsplit(self.service).hostname or "").lower()
        self.hosts = frozenset({host})
        self.redis = client or redis_client(str(settings.redis_url))
        digest = hashlib.sha256(f"{self.service}\n{settings.bluesky_handle}".encode())
        self.account = digest.hexdigest()[:24]

    # -- XRPC ------------------------------------------------------------------------
    def _call(
        self,
        nsid: str,
        *,
        token: str | None = None,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> ApiResponse:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            return call_api(
                "POST" if body is not None or nsid.startswith("com.atproto.server.") else "GET",
                f"{self.service}/xrpc/{nsid}",
                self.hosts,
                headers=headers,
                params=params,
                body=body,
            )
        except PhotoError as error:
            raise BlueskyUnavailable(f"Bluesky could not be reached: {error}") from None

    def get(self, nsid: str, params: dict[str, Any]) -> ApiResponse:
        """A query with the session's access token; an expired session is refreshed
        (or, when that fails, created again) once."""
        session = self._session()
        response = self._call(nsid, token=session["accessJwt"], params=params)
        if _expired(response):
            session = self._refresh(session)
            response = self._call(nsid, token=session["accessJwt"], params=params)
        return response

    # -- the session -------------------------------------------------------------------
    def _stored(self) -> dict[str, str] | None:
        value = self.redis.get(bluesky_session_key(self.account))
        if value is None:
            return None
        try:
            session = json.loads(value)
        except ValueError:
            return None
        return session if isinstance(session, dict) and session.get("accessJwt") else None

    def _store(self, document: Any) -> dict[str, str]:
        if not isinstance(document, dict) or not document.get("accessJwt"):
            raise BlueskyUnavailable("Bluesky answered a login without a session")
        session = {
            "accessJwt": str(document["accessJwt"]),
            "refreshJwt": str(document.get("refreshJwt", "")),
            "did": str(document.get("did", "")),
        }
        self.redis.set(
            bluesky_session_key(self.account), json.dumps(session), ex=SESSION_TTL_SECONDS
        )
        return session

    def _session(self) -> dict[str, str]:
        return self._stored() or self._login()

    def _refresh(self, session: dict[str, str]) -> dict[str, str]:
        current = self._stored()
        if current and current["accessJwt"] != session["accessJwt"]:
            return current  # another activation refreshed it meanwhile
        if session.get("refreshJwt"):
            response = self._call("com.atproto.server.refreshSession", token=session["refreshJwt"])
            if response.status_code == 200:
                return self._store(response.json)
        self.redis.delete(bluesky_session_key(self.account))
        return self._login()

    def _login(self) -> dict[str, str]:
        lock = bluesky_login_lock_key(self.account)
        deadline = time.monotonic() + LOGIN_LOCK_SECONDS
        while not self.redis.set(lock, "1", nx=True, ex=LOGIN_LOCK_SECONDS):
            if time.monotonic() > deadline:
                raise BlueskyUnavailable("another activation is logging in to Bluesky; try again")
            time.sleep(0.2)
            stored = self._stored()
            if stored:
                return stored
        try:
            stored = self._stored()
            if stored:
                return stored
            self._count_login()
            response = self._call(
                "com.atproto.server.createSession",
                body={
                    "identifier": self.settings.bluesky_handle,
                    "password": self.settings.bluesky_app_password,
                },
            )
            if response.status_code in (400, 401):
                raise BlueskyUnavailable(
                    f"Bluesky refused FindMe's login (HTTP {response.status_code}): check "
                    "bluesky_handle and bluesky_app_password"
                )
            if response.status_code == 429:
                raise BlueskyUnavailable("Bluesky refused a login: too many logins; try later")
            if response.status_code != 200:
                raise BlueskyUnavailable(f"Bluesky login failed (HTTP {response.status_code})")
            return self._store(response.json)
        finally:
            self.redis.delete(lock)

    def _count_login(self) -> None:
        window = int(time.time() // LOGIN_WINDOW_SECONDS)
        key = bluesky_logins_key(self.account, window)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, LOGIN_WINDOW_SECONDS * 2)
            count, _ = pipe.execute()
        if int(count) > MAX_LOGINS_PER_WINDOW:
            raise BlueskyUnavailable(
                "FindMe logged in to Bluesky too often in the last 5 minutes; try again later"
            )


def _expired(response: ApiResponse) -> bool:
    if response.status_code == 401:
        return True
    error = response.json.get("error") if isinstance(response.json, dict) else None
    return response.status_code == 400 and error in EXPIRED
