# make demo: set up, then check the sample dossier and say where the report is.
# make test: set up, then run every test (unit and integration).
# make lock: re-solve requirements/lock.txt (everything, for .venv) and runtime.txt (without
#   the dev extra, for the image) after pyproject.toml changed, keeping every pin that still
#   fits; `make lock LOCK_ARGS=--upgrade` (or `LOCK_ARGS='-P fastapi'`) moves versions on.
.PHONY: setup demo test lint services sample clean lock

# pip-tools runs from its own venv (outside the project's, which holds the lock and nothing
# else), with the Python the service runs on: the lock is solved for that interpreter.
LOCK_PYTHON ?= python3
LOCK_TOOLS ?= $(HOME)/.cache/intake/lock-tools
PIP_TOOLS_VERSION ?= 7.7.0
LOCK_ARGS ?=
PIP_COMPILE = --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
  --no-emit-find-links

SAMPLE ?= samples/demo-dossier
DEMO_DATA ?= $(CURDIR)/.demo-data

setup:
	@bash scripts/setup.sh

demo: setup
	INTAKE_DATA_DIR=$(DEMO_DATA) .venv/bin/intake check $(SAMPLE) \
	  --json $(DEMO_DATA)/report.json --html $(DEMO_DATA)/report.html

test: setup
	bash scripts/services.sh
	.venv/bin/python -m pytest -q

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

sample: setup
	.venv/bin/python -m tests.fixtures.sample $(SAMPLE)

lock:
	@[ -x $(LOCK_TOOLS)/bin/pip-compile ] && $(LOCK_TOOLS)/bin/pip-compile --version | grep -q ' $(PIP_TOOLS_VERSION)' \
	  || { $(LOCK_PYTHON) -m venv --clear $(LOCK_TOOLS) \
	       && $(LOCK_TOOLS)/bin/pip install -q pip-tools==$(PIP_TOOLS_VERSION); }
	$(LOCK_TOOLS)/bin/pip-compile $(PIP_COMPILE) --extra dev $(LOCK_ARGS) \
	  --output-file requirements/lock.txt pyproject.toml
	@# The image's lock (no dev tools) starts from the full one, so it keeps the same pins.
	cp requirements/lock.txt requirements/runtime.txt
	$(LOCK_TOOLS)/bin/pip-compile $(PIP_COMPILE) --output-file requirements/runtime.txt pyproject.toml

clean:
	rm -rf .demo-data .pytest_cache
