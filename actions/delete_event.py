"""OpenWhisk action delete_event; the work is in findme.stages.event_delete."""

from findme.stages import event_delete


def main(args: dict) -> dict:
    return event_delete.main(args)
