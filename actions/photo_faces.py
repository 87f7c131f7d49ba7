"""OpenWhisk action photo_faces; the work is in findme.stages.photo_faces."""

from findme.stages import photo_faces


def main(args: dict) -> dict:
    return photo_faces.main(args)
