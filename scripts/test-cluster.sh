#!/usr/bin/env bash
# The whole suite once more against a real three-node Redis Cluster started for it
# on free loopback ports (tests/redis_cluster.py) and stopped after. Arguments go
# to pytest: ./scripts/test-cluster.sh tests/test_events.py -x
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m tests.redis_cluster .venv/bin/python -m pytest "$@"
