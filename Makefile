# make demo: set up, then check the sample dossier and say where the report is.
# make test: set up, then run every test (unit and integration).
.PHONY: setup demo test lint services sample clean

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

clean:
	rm -rf .demo-data .pytest_cache
