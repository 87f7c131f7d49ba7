"""Every setting FindMe reads, read in this one place.

An action gets its settings from two places, as it would on OpenWhisk:
package parameters bound at deploy time (``redis_url``, ...) arrive in the
action's ``args``; the platform's ``__OW_*`` variables and the local engine's
``FINDME_*`` variables arrive in the environment. Package parameters are
final: the local engine (and the manifest's ``final`` annotation on OpenWhisk)
keeps a caller from overriding them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

DEFAULT_THRESHOLD = 0.6
MIN_THRESHOLD = 0.3
MAX_THRESHOLD = 0.8
DEFAULT_JOB_TTL_SECONDS = 7 * 24 * 3600
DEFAULT_BATCH_SIZE = 10
DEFAULT_REFERENCE_JITTERS = 10
DEFAULT_MIN_FACE_PX = 40  # X's medium photos: a face across a lecture hall
# Every face from this many times FINDME_MIN_FACE up is found (findme.faces).
SURE_FIND_PER_MIN_FACE = 0.8
# A match at or under this distance is "strong", above it "possible" (see `findme eval`).
DEFAULT_STRONG_DISTANCE = 0.5


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class Settings:
    redis_url: str | None
    photo_root: Path | None
    job_ttl_seconds: int
    batch_size: int
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

    @classmethod
    def load(
        cls, args: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        args = args or {}
        env = os.environ if env is None else env
        root = env.get("FINDME_PHOTO_ROOT")
        return cls(
            redis_url=args.get("redis_url") or env.get("REDIS_URL") or None,
            photo_root=Path(root).resolve() if root else None,
            job_ttl_seconds=_int(
                args.get("job_ttl_seconds") or env.get("FINDME_JOB_TTL_SECONDS"),
                DEFAULT_JOB_TTL_SECONDS,
            ),
            batch_size=max(
                1, _int(args.get("batch_size") or env.get("FINDME_BATCH_SIZE"), DEFAULT_BATCH_SIZE)
            ),
            # Photos are shrunk to this longest side before detection: bounds
            # time and memory for huge uploads.
            detect_max_side=_int(env.get("FINDME_DETECT_MAX_SIDE"), 1600),
            # The smallest face (px, in the working image) detection must find:
            # detection time grows with the square of 1 / this.
            min_face_px=max(8, _int(env.get("FINDME_MIN_FACE"), DEFAULT_MIN_FACE_PX)),
            allowed_media_hosts=frozenset(
                h.strip().lower()
                for h in env.get(
                    "FINDME_MEDIA_HOSTS", "pbs.twimg.com/media/,pbs.twimg.com/profile_images/"
                ).split(",")
                if h.strip()
            ),
            # A package input on OpenWhisk, the environment locally; never logged.
            x_bearer_token=args.get("x_bearer_token") or env.get("X_BEARER_TOKEN") or None,
            # X serves photos at thumb/small/medium/large: medium (at most 1200 px)
            # keeps 40 px faces findable at a fraction of large's bytes.
            x_photo_size=env.get("FINDME_X_PHOTO_SIZE", "medium"),
            # Recorded third-party responses to replay instead of the network (tests, demos).
            replay_file=env.get("FINDME_REPLAY") or None,
            # A running job with no progress for this long is failed, never left hanging.
            stall_seconds=_int(env.get("FINDME_STALL_SECONDS"), 600),
            # The local engine's require-whisk-auth secret for web actions.
            web_secret=env.get("FINDME_WEB_SECRET") or None,
            # Reference faces are encoded once per search: worth dlib's jittering.
            reference_jitters=_int(env.get("FINDME_REFERENCE_JITTERS"), DEFAULT_REFERENCE_JITTERS),
            strong_distance=float(env.get("FINDME_STRONG_DISTANCE") or DEFAULT_STRONG_DISTANCE),
            api_host=env.get("__OW_API_HOST"),
            api_key=env.get("__OW_API_KEY"),
            # OpenWhisk standalone and many clusters serve a self-signed certificate.
            api_verify_tls=env.get("FINDME_OW_VERIFY_TLS", "1").lower() not in ("0", "false", "no"),
            namespace=env.get("__OW_NAMESPACE") or "_",
            # Files derived from dlib's models that load faster than their sources
            # (the runtime image bakes them in at build time).
            cache_dir=Path(env.get("FINDME_CACHE_DIR") or platformdirs.user_cache_dir("findme")),
        )
