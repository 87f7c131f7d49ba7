"""Answers with what it is asked to: a result, an error, or a big result."""


def main(args: dict) -> dict:
    if "big" in args:
        return {"text": "x" * int(args["big"])}
    if "error" in args:
        return {"error": args["error"]}
    return dict(args.get("result") or {"ok": True})
