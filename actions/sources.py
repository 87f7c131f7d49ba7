"""OpenWhisk web action sources; the work is in findme.stages.available."""

from findme.stages import available


def main(args: dict) -> dict:
    return available.main(args)
