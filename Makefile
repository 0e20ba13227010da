# OriginTrace: `make demo` runs the whole stack, `make test` runs every test.
# Each target sets up what it needs (.venv, node_modules, the solc bridge) and skips
# that work when it is already done.

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

# The solc-js bridge (bin/solc) is the only compiler: ahead of any solc on PATH, and where
# py-solc-x and ape-solidity look for compilers. bin/ also runs forge, cast and anvil (see
# bin/foundry-tool: npm's launchers lose their exit code). ape keeps its data in the project.
export PATH := $(CURDIR)/bin:$(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export APE_DATA_FOLDER := $(CURDIR)/.ape

.PHONY: help setup demo test test-forge test-py lint clean bench-index

# pytest runs one worker per core plus one (pytest-xdist): the tests mostly wait on anvil and
# subprocesses, so on this 2-core machine 3 workers took the suite from 7 min 45 s to 5 min 27 s
# (4: 5 min 47 s). A test file's tests stay on one worker so they share its module fixtures
# (one anvil, one deployment). PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.solcx/solc-v0.8.28: bin/solc
	@mkdir -p .solcx
	ln -sf ../bin/solc $@

# The native lot builder (app/scale/native.py builds it the same way, under a lock, when it is
# missing or older than its source; the venv is order-only so a reinstall does not rebuild it).
.build/native/liblotmerkle.so: native/lotmerkle.c | $(VENV)/.installed
	$(BIN)/python -m app.scale.native

setup: $(VENV)/.installed node_modules/.installed .solcx/solc-v0.8.28 .build/native/liblotmerkle.so ## install .venv, node_modules, the solc bridge and the native lot builder

demo: setup ## devnet + deploy + demo journey + indexer + gateway on http://127.0.0.1:8000
	$(BIN)/origintrace up

test: setup lint ## lint, forge tests, then pytest (unit + end-to-end against anvil)
	forge test
	forge snapshot --check $(SNAPSHOT_FILTER)
	$(MAKE) --no-print-directory halmos slither
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

lint: setup ## ruff and mypy
	$(BIN)/ruff check app scripts tests bench
	$(BIN)/ruff format --check app scripts tests bench
	$(BIN)/mypy

clean: ## remove build outputs and local data (keeps .venv and node_modules)
	rm -rf out cache .build data

.PHONY: bench-scale
N ?= 1000000 10000000
bench-scale: setup ## Double 11 at scale: anchor -> index -> resolve N items (N="1000000 10000000")
	$(BIN)/python -m bench.scale $(N)

.PHONY: bench-lookup
bench-lookup: setup ## resolver req/s and latency over 1,000,000 synthetic items, cached vs uncached
	$(BIN)/python bench/lookup.py
# ---------------------------------------------------------------- contracts: assurance and gas
.PHONY: slither halmos test-deep snapshot bench-gas

# Unit tests only: fuzz and invariant gas depends on the random inputs.
SNAPSHOT_FILTER := --no-match-test 'testFuzz|invariant'
HALMOS_VENV := .venv-halmos

# halmos pins rich < 14.1 and eth-ape needs >= 14.3, so halmos gets a venv of its own.
$(HALMOS_VENV)/.installed: requirements-halmos.lock
	@test -x $(HALMOS_VENV)/bin/python || $(PYTHON) -m venv $(HALMOS_VENV)
	$(HALMOS_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-halmos.lock
	@touch $@

# slither reads a build of its own (out/slither): compiling for it never touches forge's out/.
slither: setup ## static analysis (slither.config.json): fails on any medium or high finding
	@# A fresh build each time: an incremental one keeps the old build-info of changed files,
	@# and slither would analyse the stale contracts beside the new ones.
	rm -rf out/slither cache/slither
	FOUNDRY_OUT=out/slither FOUNDRY_CACHE_PATH=cache/slither forge build --build-info --skip './tests/**'
	$(BIN)/slither .

# halmos reads a build with ASTs of its own (out/halmos), never forge's out/: artifacts that
# forge snapshot had rewritten without ASTs made it find no tests.
halmos: setup $(HALMOS_VENV)/.installed ## symbolic proofs: the check_ functions of tests/foundry/symbolic
	FOUNDRY_OUT=out/halmos FOUNDRY_CACHE_PATH=cache/halmos \
		$(HALMOS_VENV)/bin/halmos --match-contract Symbolic --forge-build-out out/halmos

test-deep: setup ## forge tests with the deep fuzz and invariant profile
	FOUNDRY_PROFILE=deep forge test

snapshot: setup ## rewrite the committed gas snapshot, .gas-snapshot
	forge snapshot $(SNAPSHOT_FILTER)

bench-gas: setup ## gas of lots, batches, units and signed handoffs vs an ERC-721 baseline
	$(BIN)/python bench/gas.py

.PHONY: bench-index
bench-index: setup ## index benchmark: 200,000 events from anvil into SQLite, PostgreSQL and a naive baseline
	$(BIN)/python -m bench.index
