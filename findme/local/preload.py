"""What the local engine's fork server imports once, before it forks any worker:
the stages' code and dlib's models. A worker forked from it is ready in
milliseconds instead of the second an interpreter takes to import all that,
and its models are shared copy-on-write. Not imported anywhere else."""

import os

# Read when numpy's OpenBLAS loads (below); one thread a worker, as in the image.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from findme import faces
from findme.local import worker  # noqa: F401
from findme.stages import (  # noqa: F401
    available,
    compare,
    delete,
    event_create,
    event_delete,
    event_status,
    event_takedown,
    event_update,
    feed,
    photo_faces,
    register,
    resume,
    review,
    search,
    share,
    status,
    sweep,
)

faces.models()
