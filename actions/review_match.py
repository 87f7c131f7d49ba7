"""OpenWhisk action review_match; the work is in findme.stages.review."""

from findme.stages import review


def main(args: dict) -> dict:
    return review.main(args)
