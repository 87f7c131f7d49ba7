"""Who may change what: the one who creates an event (or a search) gets an owner key;
anyone with the id alone may only look.

Only a digest of the key is kept, so reading Redis (or a leaked record) gives no
key; the key itself is shown once, to its owner.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from findme import params
from findme.errors import Forbidden

OWNER_FIELD = "owner_digest"


def new_owner_key() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits


def owner_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def require_owner(record: dict[str, str], args: dict[str, Any], what: str) -> None:
    """Refuses a caller without the record's owner key, in words they can act on."""
    given = params.optional_str(args, "owner_key", 128)
    kept = record.get(OWNER_FIELD, "")
    if not kept:
        raise Forbidden(f"this {what} has no owner key: nobody can change it")
    if given is None:
        raise Forbidden(f"only the owner of this {what} can do that: give its owner_key")
    if not hmac.compare_digest(owner_digest(given), kept):
        raise Forbidden(f"that is not this {what}'s owner key")


def require_search_owner(job: dict[str, str], args: dict[str, Any]) -> None:
    """Reviewing, stopping, continuing or deleting a search is its owner's: the browser
    (or client) that registered it holds the key. Searches from before owner keys
    have none and stay open to whoever has their id."""
    if job.get(OWNER_FIELD):
        require_owner(job, args, "search")


def may_view(job: dict[str, str], args: dict[str, Any]) -> bool:
    """A search's link is view-only and works for anyone who has it, until its owner
    stops sharing it: then only the owner key reads it."""
    if job.get("shared", "1") != "0" or not job.get(OWNER_FIELD):
        return True
    given = params.optional_str(args, "owner_key", 128)
    return given is not None and hmac.compare_digest(owner_digest(given), job[OWNER_FIELD])
