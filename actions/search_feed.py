"""OpenWhisk action search_feed; the work is in findme.stages.feed."""

from findme.stages import feed


def main(args: dict) -> dict:
    return feed.main(args)
