# omdb-lakehouse: `make demo` and `make test` are all a fresh machine needs
# (Python 3.11+ and Java 17; the rest is installed here).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The oldest Spark the deployed code must run on, in an environment of its own.
FLOOR  := .venv-spark-floor
FLOOR_STAMP := $(FLOOR)/.installed
# The live page's tests drive Debian's chromium (Playwright cannot download its own here).
CHROMIUM := /usr/bin/chromium
BENCH_SIZES ?= 1k,10k
HISTORY_SIZES ?= 10k,100k,300k
SOAK_MINUTES ?= 30
CLUSTER_WORKERS ?= 2
CLUSTER_PAGES ?= 1000
# make test's pytest processes, each taking whole test files (0: one process).
TEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install jars spark-floor browser demo test test-fast lint format clean bench bench-history bench-soak bench-fresh bench-whole bench-compaction bench-cluster spark-connect cluster cluster-stop

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,dev]'
	@touch $@

install: $(STAMP) ## Create .venv and install the project with its dev tools

jars: $(STAMP) ## Fetch Delta Lake's jars for Spark and make the JVM's class archive (done once)
	$(BIN)/python -m streaming.runtime.session

$(FLOOR_STAMP): pyproject.toml
	$(PYTHON) -m venv $(FLOOR)
	$(FLOOR)/bin/pip install --quiet --upgrade pip
	$(FLOOR)/bin/pip install --quiet -e '.[spark-floor]'
	OMDB_CLASS_ARCHIVE=off $(FLOOR)/bin/python -m streaming.runtime.session
	@touch $@

spark-floor: $(FLOOR_STAMP) ## The Spark floor's environment (pyspark 4.0 and its Delta), for its test

$(CHROMIUM):
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq chromium

browser: $(CHROMIUM) ## Debian's chromium, for the live page's tests (apt-get; sudo if not root)

demo: jars ## Run the whole pipeline offline, summarise and chart gold
	$(BIN)/omdb-lakehouse demo

bench-cluster: jars ## A backfill of CLUSTER_PAGES=1000 pages on local[2] against a two-worker cluster on this machine
	$(BIN)/python -m tests.bench.cluster --pages $(CLUSTER_PAGES) --repeat 3 --out bench-results

spark-connect: jars ## Serve Spark Connect with Delta on localhost:15002, for clients with the token it prints
	$(BIN)/python -m streaming.runtime.connect_server --port 15002

cluster: jars ## Start a Spark standalone cluster on loopback (a master, CLUSTER_WORKERS=2 workers); it prints its master
	$(BIN)/python -m streaming.runtime.cluster start --workers $(CLUSTER_WORKERS) --folder .cluster

cluster-stop: $(STAMP) ## Stop the cluster `make cluster` started
	$(BIN)/python -m streaming.runtime.cluster stop --folder .cluster

lint: $(STAMP) ## ruff: lint and formatting check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## ruff: fix what can be fixed and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: jars spark-floor browser lint ## Lint, then every test (unit and integration, the Spark floor's, the live page's in chromium), over TEST_WORKERS processes
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: $(STAMP) ## Only tests that need no Spark
	$(BIN)/python -m pytest -m 'not spark'

clean: ## Remove the environment, caches and the local lakehouse
	rm -rf $(VENV) $(FLOOR) .lakehouse .cluster .pytest_cache .ruff_cache build dist *.egg-info

bench: jars ## Benchmark against a one-shot peer (not part of `make test`; BENCH_SIZES=1k,10k)
	$(BIN)/pip install --quiet -e '.[local,dev,bench]'
	$(BIN)/python -m tests.bench.run --sizes $(BENCH_SIZES) --trickle --out bench-results

bench-history: jars ## A one-page increment on roots of growing history (HISTORY_SIZES=10k,100k,300k)
	$(BIN)/pip install --quiet -e '.[local,dev,bench]'
	$(BIN)/python -m tests.bench.history --sizes $(HISTORY_SIZES) --out bench-results

bench-soak: jars ## A continuous run fed a page a second for SOAK_MINUTES (30), tables sampled
	$(BIN)/pip install --quiet -e '.[local,dev,bench]'
	$(BIN)/python -m tests.bench.soak --minutes $(SOAK_MINUTES) --out bench-results

bench-fresh: jars ## Where a new process's one-page run goes, with and without the class archive
	$(BIN)/pip install --quiet -e '.[local,dev,bench]'
	$(BIN)/python -m tests.bench.fresh --pages 3000 --out bench-results

bench-compaction: jars ## A continuous run in a new process over a root with history: commits per table by operation
	$(BIN)/pip install --quiet -e '.[local,dev,bench]'
	$(BIN)/python -m tests.bench.compaction --pages 2000 --minutes 3 --out bench-results

bench-whole: jars ## Each command a new process (run idle, after 1 page and 1 %, query, demo); TREE=DIR compares another checkout
	$(BIN)/pip install --quiet -e '.[local,dev,bench]'
	$(BIN)/python -m tests.bench.whole --pages 3000 $(if $(TREE),--tree $(TREE)) --out bench-results
