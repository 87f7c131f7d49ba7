"""OpenWhisk action delete_search; the work is in findme.stages.delete."""

from findme.stages import delete


def main(args: dict) -> dict:
    return delete.main(args)
