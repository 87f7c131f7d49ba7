"""OpenWhisk action resume_search; the work is in findme.stages.resume."""

from findme.stages import resume


def main(args: dict) -> dict:
    return resume.main(args)
