"""Answers with the environment the action sees and the parameters it was given."""

import os


def main(args: dict) -> dict:
    return {"environment": dict(os.environ), "params": sorted(args)}
