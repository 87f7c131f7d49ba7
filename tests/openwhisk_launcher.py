"""A stand-in for the OpenWhisk Python runtime's launcher (actionloop), for tests.

It does what the runtime's lib/launcher.py does: imports the action file as
module `main__`, then for each JSON line on stdin sets `__OW_<KEY>` from every
key but "value", calls main(value), turns an exception into {"error": ...},
and writes the result as one JSON line to file descriptor 3.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import traceback


def main() -> None:
    spec = importlib.util.spec_from_file_location("main__", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = os.fdopen(3, "wb")
    for line in sys.stdin:
        message = json.loads(line)
        for key, value in message.items():
            if key != "value":
                os.environ[f"__OW_{key.upper()}"] = value
        try:
            result = module.main(message.get("value", {}))
        except Exception as error:
            traceback.print_exc()
            result = {"error": str(error)}
        out.write(json.dumps(result, ensure_ascii=False).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
