# The front door. Every target works from a fresh clone; `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
UV ?= uv
PYTHON ?= python3
TOOLS_BIN := $(CURDIR)/.tools/bin
export PATH := $(TOOLS_BIN):$(PATH)
DOCKERFILES := $(wildcard services/*/Dockerfile operator/Dockerfile tests/testkit/Dockerfile)
# The one pin of uv, the build tool every Dockerfile shares: passed to each build as
# --build-arg UV_VERSION (the Dockerfiles have no default; tests/images checks that).
UV_VERSION := 0.13.9
# The kind path, the release and `make template` (scripts/fdc-make: standard library only, so
# `make up` needs no virtualenv).
FDC_MAKE := PYTHONPATH=$(CURDIR)/scripts/fdc-make/src PYTHONDONTWRITEBYTECODE=1 \
  IMAGE_UV_VERSION=$(UV_VERSION) $(PYTHON) -m fdc_make
# Charts `make lint` runs `helm lint --strict` on, with helm v4 (`helm`) and v3 (`helm3`).
HELM_LINT_CHARTS := charts/fastdining-api charts/airestaurant charts/discord-relay charts/sloalert-operator
# checkov pins dependencies the workspace cannot share (packaging < 24): it runs in its own uv
# tool environment, pinned in this one file (the chart tests read it too).
CHECKOV := $(shell cat tests/charts/checkov-requirement.txt)

.PHONY: help setup uv sync tools test test-fast lint fmt bench node checkov chart-docs env

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

env: ## Print the line that puts .tools/bin on PATH: eval "$(make env)"
	@echo 'export PATH="$(TOOLS_BIN):$$PATH"'

# uv, when none is on PATH: into a virtualenv of its own (.tools/uv), linked from .tools/bin,
# never into the system Python (Debian 12 and Ubuntu 24.04 refuse that, PEP 668).
uv: ## uv: the one on PATH, or one in a virtualenv of its own (.tools/uv), never the system Python
	@command -v $(UV) >/dev/null || { echo "uv not found: uv $(UV_VERSION) into .tools/uv"; \
	  $(PYTHON) -m venv .tools/uv && .tools/uv/bin/python -m pip install --quiet \
	    --disable-pip-version-check 'uv==$(UV_VERSION)' && \
	  mkdir -p $(TOOLS_BIN) && ln -sfn ../uv/bin/uv $(TOOLS_BIN)/uv; }

sync: uv ## uv, then the workspace's Python packages from the lock (what test-fast and load need)
	$(UV) sync --all-packages --frozen

tools: ## Install the real tools the tests run (idempotent, cached in .tools/)
	scripts/install-tools.sh

# Node tools (bitnami's readme-generator-for-helm, prometheus-operator's CRD validators), locked.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

node: node_modules/.package-lock.json

checkov:
	$(UV) tool run --from '$(CHECKOV)' checkov --version >/dev/null

setup: sync tools node checkov ## Install Python packages, tools, node tools and checkov

test: setup ## Run every test (unit, integration with real servers, API server)
	rc=0; $(UV) run pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'pytest collected no tests: that is a failure'; exit 1; fi; exit $$rc

# The inner loop: every `unit/` folder (no process, no tool, no server; the root conftest.py holds
# them to that), with only the Python packages installed.
UNIT_TESTS = $(wildcard services/*/tests/unit operator/tests/unit dashboards/tests/unit \
  libs/*/tests/unit tests/testkit/tests/unit podrunner/tests/unit)

test-fast: sync ## The unit tests only: no tool installs, no servers, under a minute
	$(UV) run pytest -q $(UNIT_TESTS) $(PYTEST_ARGS)

lint: sync tools ## ruff, formatting, Dockerfile lint, actionlint, helm lint (v3 and v4), detect-secrets
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run hadolint $(DOCKERFILES)
	$(UV) run actionlint
	for chart in $(HELM_LINT_CHARTS); do helm lint --strict "$$chart"; helm3 lint --strict "$$chart"; done
	$(UV) run python scripts/check_secrets.py  # detect-secrets against .secrets.baseline

chart-docs: node ## Regenerate the charts' README value tables from values.yaml's @param comments
	for chart in $(HELM_LINT_CHARTS) charts/fdc-stack; do \
	  node_modules/.bin/readme-generator --values "$$chart/values.yaml" --readme "$$chart/README.md"; done

.PHONY: dashboards
dashboards: sync ## Regenerate the Grafana dashboards' JSON in charts/fdc-stack/dashboards/
	$(UV) run fdc-dashboards write

fmt: sync ## Format and autofix
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

# Every benchmark runs even when an earlier one misses its target; make still fails at the end.
# Each writes bench/results/<name>.json; bench/report.py turns them into bench/RESULTS.md.
bench: setup ## Benchmarks: ratios against a baseline measured in the same run -> bench/RESULTS.md
	@rm -rf bench/results; rc=0; for script in bench/bench_*.py; do echo "== $$script"; \
	  $(UV) run python "$$script" || rc=$$?; done; \
	$(UV) run python bench/report.py || rc=$$?; exit $$rc

# The alert path without a cluster (local/: fdc_local, shared with tests/pipeline). Ports, URLs
# and the work folder: `make local FASTAPI_PORT=8001`, `make load FASTAPI_URL=http://...`,
# `WORKDIR=` for both (default .fdc-local/, git-ignored: logs and messages survive a stop).
.PHONY: local load check-queries
WORKDIR ?= .fdc-local
PORT_FLAGS = $(foreach part,fastapi django relay prometheus alertmanager node-exporter operator operator-health,\
  $(if $($(subst -,_,$(call upper,$(part)))_PORT),--$(part)-port $($(subst -,_,$(call upper,$(part)))_PORT)))
upper = $(shell echo '$(1)' | tr a-z A-Z)
URL_FLAGS = $(foreach part,fastapi django prometheus alertmanager,\
  $(if $($(call upper,$(part))_URL),--$(part)-url $($(call upper,$(part))_URL)))
LOAD_FLAGS = $(if $(LOAD_REQUESTS),--requests $(LOAD_REQUESTS)) \
  $(if $(LOAD_PARALLEL),--parallel $(LOAD_PARALLEL)) $(if $(LOAD_ERRORS),--errors $(LOAD_ERRORS))

local: setup ## The whole alert path on 127.0.0.1, no cluster (seed ports); Ctrl-C stops it all
	$(UV) run python -m fdc_local.local --workdir "$(WORKDIR)" $(PORT_FLAGS)

load: sync ## The seed's traffic and /boom loops, bounded, into the running `make local` (or URLs)
	$(UV) run python -m fdc_local.load --workdir "$(WORKDIR)" $(URL_FLAGS) $(LOAD_FLAGS)

check-queries: setup ## Every shipped PromQL selector against the series a running stack produces
	$(UV) run pytest tests/pipeline/test_dead_queries.py -q

# The kind path (scripts/fdc-make holds the logic). It installs none of the test toolchain: Docker,
# kind, kubectl and helm are looked for on PATH, and only an absent one goes into .tools/.
# Without Docker, every kind target stops at once, before anything is installed.
.PHONY: images up e2e down grafana prometheus alertmanager load-kind template release-check release

images: ## Build the four images `make up` loads (needs Docker)
	@$(FDC_MAKE) images

up: ## The whole stack on a local kind cluster (needs Docker, kind, kubectl, helm); again: upgrade
	@$(FDC_MAKE) up

e2e: ## `make up`, then the end-to-end suite (tests/e2e) against that cluster
	@$(FDC_MAKE) preflight e2e
	@$(MAKE) --no-print-directory sync
	@$(FDC_MAKE) e2e

down: ## Delete the kind cluster
	@$(FDC_MAKE) down

grafana: ## Port-forward Grafana to 127.0.0.1:3000; prints how to read the admin password
	@$(FDC_MAKE) forward grafana

prometheus: ## Port-forward Prometheus to 127.0.0.1:9090
	@$(FDC_MAKE) forward prometheus

alertmanager: ## Port-forward Alertmanager to 127.0.0.1:9093
	@$(FDC_MAKE) forward alertmanager

load-kind: ## `make load` into the kind cluster's apps, through port-forwards (same LOAD_* options)
	@$(FDC_MAKE) preflight load-kind
	@$(MAKE) --no-print-directory sync
	@$(FDC_MAKE) load $(LOAD_FLAGS)

template: ## Render the umbrella on stdout (kube-prometheus-stack if it can be fetched, else ours alone)
	@$(FDC_MAKE) template

# OWNER: the GitHub owner the images and charts are published under (ghcr.io/<owner>).
OWNER ?= fastdining
release-check: ## List what tagging vVERSION would publish: make release-check VERSION=x.y.z
	@$(FDC_MAKE) release-check '$(VERSION)' '$(OWNER)'

release: ## Publish vVERSION (the release workflow): images, signatures, charts
	@$(FDC_MAKE) release '$(VERSION)' '$(OWNER)'
