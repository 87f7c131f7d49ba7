"""Every Redis key FindMe uses is built here.

The keys of one job (and of one event, whose index is a job of its own) share a
Redis Cluster hash slot: the id stands in braces, `findme:job:{ID}:...`, so the
Lua scripts that touch several of a job's keys run on a cluster too.
"""

from __future__ import annotations

PREFIX = "findme"


def job_key(job_id: str) -> str:
    return f"{PREFIX}:job:{{{job_id}}}"


def job_id_of(key: str) -> str | None:
    """The id in a job's record key (None for any other key)."""
    head, tail = job_key(""), "}"
    if key.startswith(head[:-1]) and key.endswith(tail):
        job_id = key[len(head) - 1 : -1]
        return job_id if job_id and "}" not in job_id and "{" not in job_id else None
    return None


def photos_key(job_id: str) -> str:
    return f"{PREFIX}:job:{{{job_id}}}:photos"


def done_key(job_id: str) -> str:
    return f"{PREFIX}:job:{{{job_id}}}:done"


def failed_key(job_id: str) -> str:
    return f"{PREFIX}:job:{{{job_id}}}:failed"


def matches_key(job_id: str) -> str:
    return f"{PREFIX}:job:{{{job_id}}}:matches"


def attempts_key(job_id: str) -> str:
    return f"{PREFIX}:job:{{{job_id}}}:attempts"


def seen_key(job_id: str) -> str:
    """Photo id -> JSON {digest, post_url, author, width, height} of each photo examined."""
    return f"{PREFIX}:job:{{{job_id}}}:seen"


def rejected_key(job_id: str) -> str:
    return f"{PREFIX}:job:{{{job_id}}}:rejected"


def upload_key(job_id: str) -> str:
    return f"{PREFIX}:job:{{{job_id}}}:upload"


def queue_key(job_id: str) -> str:
    """JSON photo entries registered and waiting for a compare activation, oldest first."""
    return f"{PREFIX}:job:{{{job_id}}}:queue"


def leases_key(job_id: str) -> str:
    """Photo id -> JSON entry of photos a compare activation has taken and not recorded."""
    return f"{PREFIX}:job:{{{job_id}}}:leases"


def lease_due_key(job_id: str) -> str:
    """Photo id -> when its lease ends (ms): the sweep queues it again after that."""
    return f"{PREFIX}:job:{{{job_id}}}:lease_due"


def drainers_key(job_id: str) -> str:
    """Token -> until when (ms) a compare activation is expected to hold it."""
    return f"{PREFIX}:job:{{{job_id}}}:drainers"


def search_lease_key(job_id: str) -> str:
    """The token of the search activation listing the source now."""
    return f"{PREFIX}:job:{{{job_id}}}:search_lease"


def active_jobs_key() -> str:
    """Jobs not yet done or failed: what the sweep looks at."""
    return f"{PREFIX}:active_jobs"


def fires_key(minute: int) -> str:
    """Trigger fires FindMe made in one wall-clock minute (shared by all jobs)."""
    return f"{PREFIX}:fires:{minute}"


def job_references_key(job_id: str) -> str:
    """Fingerprint -> hex descriptor: the job's own copy of its reference faces."""
    return f"{PREFIX}:job:{{{job_id}}}:references"


def urls_key(job_id: str) -> str:
    """The organiser's photo URLs of a "urls" job, in the order given, duplicates dropped."""
    return f"{PREFIX}:job:{{{job_id}}}:urls"


def origins_key(job_id: str) -> str:
    """A photo's origin URL -> the first copy of it the job listed (a Mastodon post read
    on two servers is one photo, compared once)."""
    return f"{PREFIX}:job:{{{job_id}}}:origins"


def bluesky_session_key(account: str) -> str:
    """JSON {accessJwt, refreshJwt, did} of FindMe's Bluesky session (account: a digest
    of the service and handle, never the handle itself)."""
    return f"{PREFIX}:bluesky:session:{account}"


def bluesky_login_lock_key(account: str) -> str:
    """Held by the one activation logging in, so concurrent ones wait for its session."""
    return f"{PREFIX}:bluesky:login:{account}"


def bluesky_logins_key(account: str, window: int) -> str:
    """Logins FindMe made in one 5-minute window (Bluesky allows 30)."""
    return f"{PREFIX}:bluesky:logins:{account}:{window}"


def reference_key(fingerprint: str) -> str:
    """The shared reference cache: one descriptor per photo content, for every search."""
    return f"{PREFIX}:ref:{{{fingerprint}}}"


def reference_users_key(fingerprint: str) -> str:
    """The jobs that took a shared reference descriptor (to know when none needs it)."""
    return f"{PREFIX}:ref:{{{fingerprint}}}:jobs"


def photo_faces_key(digest: str, detection: str) -> str:
    """Faces found in one photo (by content hash) with one detection setting."""
    return f"{PREFIX}:photo:{detection}:{digest}"


def job_keys(job_id: str) -> list[str]:
    return [
        job_key(job_id),
        photos_key(job_id),
        done_key(job_id),
        failed_key(job_id),
        matches_key(job_id),
        upload_key(job_id),
        attempts_key(job_id),
        seen_key(job_id),
        rejected_key(job_id),
        queue_key(job_id),
        leases_key(job_id),
        lease_due_key(job_id),
        drainers_key(job_id),
        search_lease_key(job_id),
        job_references_key(job_id),
        urls_key(job_id),
        origins_key(job_id),
    ]


# -- events: an event is a job of its own (role "event") whose photos are indexed,
# not compared; its index keys share the job's hash slot.


def index_key(event_id: str) -> str:
    """Photo id -> JSON {photo, post_url, author, width, height, digest, small_faces,
    boxes, seq}: what an event's search needs of each indexed photo, descriptors apart."""
    return f"{PREFIX}:job:{{{event_id}}}:index"


def index_faces_key(event_id: str) -> str:
    """Photo id -> the hex descriptors of its faces, one after another, in boxes' order."""
    return f"{PREFIX}:job:{{{event_id}}}:index_faces"


def index_order_key(event_id: str) -> str:
    """Photo id -> its place in the index (seq): what is new since a search last looked."""
    return f"{PREFIX}:job:{{{event_id}}}:index_order"


def taken_down_key(event_id: str) -> str:
    """Photos the organiser took down (or whose post went): never indexed again."""
    return f"{PREFIX}:job:{{{event_id}}}:taken_down"


def followers_key(event_id: str) -> str:
    """The searches of an event, which gain its new photos' matches."""
    return f"{PREFIX}:job:{{{event_id}}}:followers"


def live_events_key() -> str:
    """Event id -> until when (s) its source is read again for new posts."""
    return f"{PREFIX}:live_events"


def event_keys(event_id: str) -> list[str]:
    return [
        *job_keys(event_id),
        index_key(event_id),
        index_faces_key(event_id),
        index_order_key(event_id),
        taken_down_key(event_id),
        followers_key(event_id),
        listed_key(event_id),
    ]


def place_key(digest: str) -> str:
    """A place to look (source and what it reads, digested) -> the event indexing it, so
    a person's search of a hashtag an organiser (or another person) indexed reuses it."""
    return f"{PREFIX}:place:{digest}"


def listed_key(event_id: str) -> str:
    """The photos an event's current full reading has listed: what is indexed and not
    listed again has gone from its source."""
    return f"{PREFIX}:job:{{{event_id}}}:listed"
