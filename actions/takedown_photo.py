"""OpenWhisk action takedown_photo; the work is in findme.stages.event_takedown."""

from findme.stages import event_takedown


def main(args: dict) -> dict:
    return event_takedown.main(args)
