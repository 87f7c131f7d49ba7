"""OpenWhisk action share_search; the work is in findme.stages.share."""

from findme.stages import share


def main(args: dict) -> dict:
    return share.main(args)
