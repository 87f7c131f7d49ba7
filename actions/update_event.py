"""OpenWhisk action update_event; the work is in findme.stages.event_update."""

from findme.stages import event_update


def main(args: dict) -> dict:
    return event_update.main(args)
