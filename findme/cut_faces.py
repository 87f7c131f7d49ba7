"""Faces cut by the photo's edge, told apart from what a stored face keeps (its box
and the photo's size), and how much nearer a reference such a face must be to match.

dlib's descriptor of a face moves as the edge cuts more of it, away from its person
and towards other people. benchmarks/cut_faces.py cuts the committed photos' faces
by 0 to 50 % and measures it (docs/accuracy.md): a face whose box touches the edge
moved up to 0.38 from itself seen whole, rose up to 0.22 from its person's reference
and came up to 0.08 nearer another person; a quarter to a third outside, up to 0.49,
0.38 and 0.12; past a third, 0.14 nearer. A stranger 0.62 to 0.66 from someone can
thus come within the default threshold (0.6) once cut: the edge-cut face of issue 24
matched three portraits of a man not in the photo at 0.52 to 0.60. A cut face
matches only as much nearer as cutting brought faces to other people, and past a
third outside, not at all.
"""

from __future__ import annotations

from findme.faces import Box

# A box this share of its side or less from an edge (plus a pixel of rounding)
# touches it: a cut face's HOG box slides inwards to the edge (faces cut by 15 %
# or more were all within 0.08 of their side of it), and the face's aligned chip
# reaches a quarter of the side past the box, so nearer than that it is cut too.
EDGE_GAP = 0.1
# How much nearer: 0.06, and a quarter of the share outside, which covers how much
# nearer another person cutting brought each face measured (up to 0.08 touching the
# edge, 0.09 to a sixth outside, 0.12 to a third) but one of 342, by 0.01; cropping
# and re-encoding alone brought whole faces up to 0.06 nearer someone.
# Both bands move: at the defaults (threshold 0.6, strong 0.5) a face touching the
# edge matches within 0.54, strong within 0.44. A stricter threshold still applies.
STRICTER_BY = 0.06
PER_SHARE_OUTSIDE = 0.25
# A face with more of it outside the photo than this is not compared at all: few
# are found (6 of 96 faces cut by half), and those came up to 0.14 nearer others.
LEFT_OUT_SHARE = 1 / 3


def share_outside(box: Box, width: int, height: int) -> float | None:
    """None when the face keeps clear of the photo's edges; else an estimate of how
    much of it is outside the photo, from 0. HOG's boxes are square, and a box cut to
    the photo is narrower than tall (or shorter than wide) by what is outside. A face
    cut at a corner, or whose box slid inwards, is estimated short: never over."""
    top, right, bottom, left = box
    across, down = right - left, bottom - top
    side = max(across, down, 1)
    gap = min(left, top, width - 1 - right, height - 1 - bottom)
    if gap > EDGE_GAP * side + 1:
        return None
    return 1 - max(min(across, down), 0) / side


def stricter_by(share: float | None) -> float:
    """How much nearer a reference a face cut by this share (share_outside) must be
    than a whole face: 0 for a face clear of the edges, infinity for one too cut to
    compare."""
    if share is None:
        return 0.0
    if share > LEFT_OUT_SHARE:
        return float("inf")
    return STRICTER_BY + PER_SHARE_OUTSIDE * share
