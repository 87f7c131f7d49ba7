# The two commands of the README. Both set everything up from scratch.
.PHONY: setup demo test lint

setup:
	./scripts/setup.sh

# Find Obama among the committed test photos: local engine, embedded Redis.
demo: setup
	env -u REDIS_URL .venv/bin/findme search --reference tests/photos/obama.jpg --folder tests/photos

test: setup
	./scripts/ensure-redis.sh
	./scripts/ensure-chromium.sh
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	.venv/bin/ruff check .
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
