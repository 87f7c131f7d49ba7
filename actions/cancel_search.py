"""OpenWhisk action cancel_search; the work is in findme.stages.cancel."""

from findme.stages import cancel


def main(args: dict) -> dict:
    return cancel.main(args)
