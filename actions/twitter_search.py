"""OpenWhisk action twitter_search; the work is in findme.stages.search."""

from findme.stages import search


def main(args: dict) -> dict:
    return search.main(args)
