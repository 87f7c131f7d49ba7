"""OpenWhisk action compare_images; the work is in findme.stages.compare."""

from findme.stages import compare


def main(args: dict) -> dict:
    return compare.main(args)
