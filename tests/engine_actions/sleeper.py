"""Sleeps `seconds`; with `crash` it ends its process instead of answering."""

import os
import time


def main(args: dict) -> dict:
    if args.get("crash"):
        os._exit(3)
    time.sleep(float(args.get("seconds", 0)))
    return {"slept": args.get("seconds", 0), "size": len(str(args.get("pad", "")))}
