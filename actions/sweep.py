"""OpenWhisk action sweep; the work is in findme.stages.sweep."""

from findme.stages import sweep


def main(args: dict) -> dict:
    return sweep.main(args)
