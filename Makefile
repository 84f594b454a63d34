# omdb-lakehouse: `make demo` and `make test` are all a fresh machine needs
# (Python 3.11+ and Java 17; the rest is installed here).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_SIZES ?= 1k,10k

.DEFAULT_GOAL := help
.PHONY: help install jars demo test test-fast lint format clean bench spark-connect

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,dev]'
	@touch $@

install: $(STAMP) ## Create .venv and install the project with its dev tools

jars: $(STAMP) ## Fetch Delta Lake's jars for Spark (cached; done once)
	$(BIN)/python -m streaming.runtime.session

demo: jars ## Run the whole pipeline offline, summarise and chart gold
	$(BIN)/omdb-lakehouse demo

spark-connect: jars ## Serve Spark Connect with Delta on localhost:15002 (then: export SPARK_REMOTE=sc://localhost:15002)
	$(BIN)/python -m streaming.runtime.connect_server --port 15002

lint: $(STAMP) ## ruff: lint and formatting check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## ruff: fix what can be fixed and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: jars lint ## Lint, then every test (unit and integration)
	$(BIN)/python -m pytest

test-fast: $(STAMP) ## Only tests that need no Spark
	$(BIN)/python -m pytest -m 'not spark'

clean: ## Remove the environment, caches and the local lakehouse
	rm -rf $(VENV) .lakehouse .pytest_cache .ruff_cache build dist *.egg-info

bench: jars ## Benchmark against a one-shot peer (not part of `make test`; BENCH_SIZES=1k,10k)
	$(BIN)/pip install --quiet -e '.[local,dev,bench]'
	$(BIN)/python -m tests.bench.run --sizes $(BENCH_SIZES) --trickle --out bench-results
