"""OpenWhisk action event_status; the work is in findme.stages.event_status."""

from findme.stages import event_status


def main(args: dict) -> dict:
    return event_status.main(args)
