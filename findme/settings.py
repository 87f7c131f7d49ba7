"""Every setting FindMe reads, read in this one place.

On OpenWhisk an action's environment is built from scratch by the runtime's
proxy: only ``__OW_*`` variables reach ``main()``, never the image's ``ENV``.
So every setting travels as a parameter: a package input of ``manifest.yaml``
(``job_ttl_seconds: $FINDME_JOB_TTL_SECONDS``), bound by wskdeploy (or the
local engine) from the deployer's environment. Web actions are annotated
``final``, so a caller cannot override a bound input. Processes that are not
actions (the CLI, benchmarks) read the same names from their environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

DEFAULT_THRESHOLD = 0.6
MIN_THRESHOLD = 0.3
MAX_THRESHOLD = 0.8
DEFAULT_JOB_TTL_SECONDS = 7 * 24 * 3600
MIN_JOB_TTL_SECONDS = 3600
MAX_JOB_TTL_SECONDS = 90 * 24 * 3600
# An event's index (faces of everyone in its photos) is kept this long after its
# last photo, bounded: biometric data of people who never searched.
DEFAULT_EVENT_RETENTION_SECONDS = 30 * 24 * 3600
MIN_EVENT_RETENTION_SECONDS = 24 * 3600
MAX_EVENT_RETENTION_SECONDS = 90 * 24 * 3600
# How long an organiser may keep an event live (its source read again for new posts).
DEFAULT_EVENT_MAX_LIVE_SECONDS = 3 * 24 * 3600
# How often a live event's source is read again for new posts (at the sweep's pace).
DEFAULT_EVENT_REREAD_SECONDS = 60
DEFAULT_REFERENCE_JITTERS = 10
DEFAULT_MIN_FACE_PX = 40  # X's medium photos: a face across a lecture hall
# Every face from this many times FINDME_MIN_FACE up is found (findme.faces).
SURE_FIND_PER_MIN_FACE = 0.8
# A match at or under this distance is "strong", above it "possible" (see `findme eval`).
DEFAULT_STRONG_DISTANCE = 0.5
# OpenWhisk's default firesPerMinute (ansible group_vars: limits): FindMe paces its
# fires under it unless told the namespace's own (the engine's limits: local/limits.py).
DEFAULT_FIRES_PER_MINUTE = 60
# The most photos one search or event lists (a named Mastodon server can claim any
# number): its listing stops there and says so.
DEFAULT_MAX_PHOTOS = 20_000
# `findme serve` decodes this many photo previews at once (each may take about 300 MB).
DEFAULT_PREVIEW_DECODES = 2
# Bluesky's entryway: sessions are created there, and it serves app.bsky.* calls.
DEFAULT_BLUESKY_SERVICE = "https://bsky.social"
# The image bakes the detector's fast-loading form next to the package.
BAKED_CACHE_DIR = Path(__file__).resolve().parent / "models" / "cache"

# Setting (the parameter name, as bound in manifest.yaml) -> the environment
# variable wskdeploy binds it from, and that the CLI reads.
ENVIRONMENT: dict[str, str] = {
    "redis_url": "REDIS_URL",
    "job_ttl_seconds": "FINDME_JOB_TTL_SECONDS",
    "event_retention_seconds": "FINDME_EVENT_RETENTION_SECONDS",
    "event_max_live_seconds": "FINDME_EVENT_MAX_LIVE_SECONDS",
    "event_reread_seconds": "FINDME_EVENT_REREAD_SECONDS",
    "detect_max_side": "FINDME_DETECT_MAX_SIDE",
    "min_face": "FINDME_MIN_FACE",
    "media_hosts": "FINDME_MEDIA_HOSTS",
    "x_bearer_token": "X_BEARER_TOKEN",
    "x_photo_size": "FINDME_X_PHOTO_SIZE",
    "replay_file": "FINDME_REPLAY",
    "stall_seconds": "FINDME_STALL_SECONDS",
    "reference_jitters": "FINDME_REFERENCE_JITTERS",
    "strong_distance": "FINDME_STRONG_DISTANCE",
    "ow_verify_tls": "FINDME_OW_VERIFY_TLS",
    "cache_dir": "FINDME_CACHE_DIR",
    "fires_per_minute": "FINDME_FIRES_PER_MINUTE",
    "compare_activations": "FINDME_COMPARE_ACTIVATIONS",
    "photo_root": "FINDME_PHOTO_ROOT",
    "mastodon_servers": "FINDME_MASTODON_SERVERS",
    "mastodon_token": "FINDME_MASTODON_TOKEN",
    "mastodon_include_discoverable": "FINDME_MASTODON_INCLUDE_DISCOVERABLE",
    "bluesky_handle": "FINDME_BLUESKY_HANDLE",
    "bluesky_app_password": "FINDME_BLUESKY_APP_PASSWORD",
    "bluesky_service": "FINDME_BLUESKY_SERVICE",
    "url_hosts": "FINDME_URL_HOSTS",
    "max_photos": "FINDME_MAX_PHOTOS",
}
# Not action settings: read by the local engine and the CLI only.
ENGINE_ENVIRONMENT = {
    "web_secret": "FINDME_WEB_SECRET",
    "cors_origins": "FINDME_CORS_ORIGINS",
    "allowed_hosts": "FINDME_ALLOWED_HOSTS",
    "preview_decodes": "FINDME_PREVIEW_DECODES",
}


def _int(value: Any, default: int, low: int, high: int) -> int:
    """An operator's number, clamped to what FindMe can work with."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


def _float(value: Any, default: float, low: float, high: float) -> float:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return default
    if number != number:  # NaN
        return default
    return min(max(number, low), high)


def _bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "off")


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _hosts(value: Any) -> frozenset[str]:
    """A comma-separated list of hosts (or host/path-prefix entries), lower-cased."""
    text = _text(value) or ""
    return frozenset(h.strip().lower() for h in text.split(",") if h.strip())


def _server_tokens(value: Any, servers: frozenset[str]) -> dict[str, str]:
    """Mastodon access tokens by server: `host=token` pairs; a bare token belongs to
    the operator's servers (mastodon_servers), never to a server a caller names."""
    tokens: dict[str, str] = {}
    for part in (_text(value) or "").split(","):
        host, equals, token = part.strip().rpartition("=")
        if equals and host.strip() and token.strip():
            tokens[host.strip().lower()] = token.strip()
        elif token.strip() and not equals:
            tokens.update({server: token.strip() for server in servers})
    return tokens


def default_cache_dir() -> Path:
    return (
        BAKED_CACHE_DIR if BAKED_CACHE_DIR.is_dir() else Path(platformdirs.user_cache_dir("findme"))
    )


def _names(value: str | None) -> tuple[str, ...]:
    """A comma-separated list."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def deployment_of(api_host: str | None) -> str:
    """Which deployment (OpenWhisk API, or local engine) runs a job: a sweep re-drives
    only its own deployment's jobs, since two can share one Redis (two `findme`
    processes on the embedded one, each with its own photo root)."""
    return (api_host or "").rstrip("/")


@dataclass(frozen=True)
class Settings:
    redis_url: str | None
    photo_root: Path | None
    job_ttl_seconds: int
    detect_max_side: int
    min_face_px: int
    allowed_media_hosts: frozenset[str]
    x_bearer_token: str | None
    x_photo_size: str
    replay_file: str | None
    stall_seconds: int
    reference_jitters: int
    strong_distance: float
    web_secret: str | None
    api_host: str | None
    api_key: str | None
    api_verify_tls: bool
    namespace: str
    cache_dir: Path
    fires_per_minute: int
    compare_activations: int
    deadline_ms: int | None
    event_retention_seconds: int = DEFAULT_EVENT_RETENTION_SECONDS
    event_max_live_seconds: int = DEFAULT_EVENT_MAX_LIVE_SECONDS
    event_reread_seconds: int = DEFAULT_EVENT_REREAD_SECONDS
    mastodon_servers: frozenset[str] = frozenset()
    mastodon_tokens: dict[str, str] = field(
        default_factory=dict, repr=False, hash=False, compare=False
    )
    mastodon_include_discoverable: bool = False
    bluesky_handle: str | None = None
    bluesky_app_password: str | None = field(default=None, repr=False)
    bluesky_service: str = DEFAULT_BLUESKY_SERVICE
    url_hosts: frozenset[str] = frozenset()
    max_photos: int = DEFAULT_MAX_PHOTOS
    # `findme serve`: origins whose pages may call it, host names it answers for.
    cors_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    preview_decodes: int = DEFAULT_PREVIEW_DECODES

    @classmethod
    def load(
        cls, args: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        """Settings from an action's parameters, else (CLI) from the environment."""
        args = args or {}
        env = os.environ if env is None else env

        def value(name: str) -> Any:
            given = args.get(name)
            if given is not None and given != "":
                return given
            return env.get(ENVIRONMENT.get(name) or ENGINE_ENVIRONMENT[name])

        root = _text(value("photo_root"))
        hosts = _text(value("media_hosts")) or "pbs.twimg.com/media/,pbs.twimg.com/profile_images/"
        deadline = env.get("__OW_DEADLINE")
        return cls(
            redis_url=_text(value("redis_url")),
            photo_root=Path(root).resolve() if root else None,
            # Bounded: a retention of years (or none) is never what an operator meant.
            job_ttl_seconds=_int(
                value("job_ttl_seconds"),
                DEFAULT_JOB_TTL_SECONDS,
                MIN_JOB_TTL_SECONDS,
                MAX_JOB_TTL_SECONDS,
            ),
            # An event's retention when its organiser names none, and the longest one
            # an organiser may name (an event's face index holds everyone's faces).
            event_retention_seconds=_int(
                value("event_retention_seconds"),
                DEFAULT_EVENT_RETENTION_SECONDS,
                MIN_EVENT_RETENTION_SECONDS,
                MAX_EVENT_RETENTION_SECONDS,
            ),
            # The longest an event may stay live (read again for new posts).
            event_max_live_seconds=_int(
                value("event_max_live_seconds"), DEFAULT_EVENT_MAX_LIVE_SECONDS, 3600, 14 * 86_400
            ),
            # A live event's source is read again this often for new posts only.
            event_reread_seconds=_int(
                value("event_reread_seconds"), DEFAULT_EVENT_REREAD_SECONDS, 10, 86_400
            ),
            # Photos are shrunk to this longest side before detection: bounds
            # time and memory for huge uploads.
            detect_max_side=_int(value("detect_max_side"), 1600, 200, 4000),
            # The smallest face (px, in the working image) detection must find:
            # detection time grows with the square of 1 / this.
            min_face_px=_int(value("min_face"), DEFAULT_MIN_FACE_PX, 8, 400),
            allowed_media_hosts=frozenset(h.strip().lower() for h in hosts.split(",") if h.strip()),
            # A package input; never logged, never in a payload or a result.
            x_bearer_token=_text(value("x_bearer_token")),
            # X serves photos at thumb/small/medium/large: medium (at most 1200 px)
            # keeps 40 px faces findable at a fraction of large's bytes.
            x_photo_size=_text(value("x_photo_size")) or "medium",
            # Recorded third-party responses to replay instead of the network (tests, demos).
            replay_file=_text(value("replay_file")),
            # A running job with no progress for this long is failed, never left hanging.
            stall_seconds=_int(value("stall_seconds"), 600, 1, 86_400),
            # The local engine's require-whisk-auth secret for web actions.
            web_secret=_text(env.get(ENGINE_ENVIRONMENT["web_secret"])),
            # Reference faces are encoded once per search: worth dlib's jittering.
            reference_jitters=_int(value("reference_jitters"), DEFAULT_REFERENCE_JITTERS, 0, 100),
            strong_distance=_float(
                value("strong_distance"), DEFAULT_STRONG_DISTANCE, MIN_THRESHOLD, MAX_THRESHOLD
            ),
            api_host=env.get("__OW_API_HOST"),
            api_key=env.get("__OW_API_KEY"),
            # OpenWhisk standalone and many clusters serve a self-signed certificate.
            api_verify_tls=_bool(value("ow_verify_tls"), True),
            namespace=env.get("__OW_NAMESPACE") or "_",
            # Files derived from dlib's models that load faster than their sources
            # (the runtime image bakes them next to the package).
            cache_dir=Path(_text(value("cache_dir")) or default_cache_dir()),
            # The namespace's trigger fires per minute (OpenWhisk's firesPerMinute):
            # FindMe paces its own fires under it.
            fires_per_minute=_int(value("fires_per_minute"), DEFAULT_FIRES_PER_MINUTE, 1, 100_000),
            # How many compare activations one job keeps running at once.
            compare_activations=_int(value("compare_activations"), 2, 1, 100),
            # When this activation is ended by the platform (ms since the epoch).
            deadline_ms=_int(deadline, 0, 0, 2**62) or None if deadline else None,
            cors_origins=_names(env.get(ENGINE_ENVIRONMENT["cors_origins"])),
            allowed_hosts=_names(env.get(ENGINE_ENVIRONMENT["allowed_hosts"])),
            preview_decodes=_int(
                env.get(ENGINE_ENVIRONMENT["preview_decodes"]), DEFAULT_PREVIEW_DECODES, 1, 64
            ),
            # Mastodon servers callers may search (empty: any public server).
            mastodon_servers=_hosts(value("mastodon_servers")),
            # Secrets, per server; never logged, never in a payload or a result.
            mastodon_tokens=_server_tokens(
                value("mastodon_token"), _hosts(value("mastodon_servers"))
            ),
            # Authors who chose "discoverable" but not "indexable" (searchable posts):
            # left out unless the operator decides their public posts may be searched.
            mastodon_include_discoverable=_bool(value("mastodon_include_discoverable"), False),
            # The Bluesky account FindMe searches with (an app password, a secret).
            bluesky_handle=_text(value("bluesky_handle")),
            bluesky_app_password=_text(value("bluesky_app_password")),
            bluesky_service=(_text(value("bluesky_service")) or DEFAULT_BLUESKY_SERVICE).rstrip(
                "/"
            ),
            # Hosts an organiser's list of photo URLs may point at (else media_hosts).
            url_hosts=_hosts(value("url_hosts")) or _hosts(hosts),
            # The most photos a search or an event lists, whatever its source claims.
            max_photos=_int(value("max_photos"), DEFAULT_MAX_PHOTOS, 10, 1_000_000),
        )
