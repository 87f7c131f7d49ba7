"""OpenWhisk action search_status; the work is in findme.stages.status."""

from findme.stages import status


def main(args: dict) -> dict:
    return status.main(args)
