"""OpenWhisk action create_event; the work is in findme.stages.event_create."""

from findme.stages import event_create


def main(args: dict) -> dict:
    return event_create.main(args)
