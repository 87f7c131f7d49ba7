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
