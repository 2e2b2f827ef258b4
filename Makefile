# The front door. Every target works from a fresh clone; `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
UV ?= uv
TOOLS_BIN := $(CURDIR)/.tools/bin
export PATH := $(TOOLS_BIN):$(PATH)
DOCKERFILES := $(wildcard services/*/Dockerfile operator/Dockerfile)

.PHONY: help setup uv sync tools test lint fmt bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

uv:
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet 'uv>=0.5'

sync: uv
	$(UV) sync --all-packages --frozen

tools: ## Install the real tools the tests run (idempotent, cached in .tools/)
	scripts/install-tools.sh

setup: sync tools ## Install Python packages and tools

test: setup ## Run every test (unit, integration with real servers, API server)
	rc=0; $(UV) run pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'pytest collected no tests: that is a failure'; exit 1; fi; exit $$rc

lint: sync ## ruff, formatting and Dockerfile lint
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run hadolint $(DOCKERFILES)

fmt: sync ## Format and autofix
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

# Every benchmark runs even when an earlier one misses its target; make still fails at the end.
bench: setup ## Benchmarks: ratios against a baseline measured in the same run
	@rc=0; for script in bench/bench_*.py; do echo "== $$script"; $(UV) run python "$$script" || rc=$$?; done; exit $$rc
