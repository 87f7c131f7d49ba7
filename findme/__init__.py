"""FindMe: find every photo of a person among social-media posts."""

import os

# One BLAS thread a process, read when OpenBLAS loads (with numpy or dlib, after
# this): an action's environment is built by the platform and carries none of
# the image's variables, and parallel BLAS threads would fight the container's
# CPU share.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

__version__ = "0.1.0"
