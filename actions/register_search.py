"""OpenWhisk action register_search; the work is in findme.stages.register."""

from findme.stages import register


def main(args: dict) -> dict:
    return register.main(args)
