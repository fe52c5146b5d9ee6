# The two commands: `make local` runs the whole service on this machine, `make test` runs every
# check CI runs. Installs are stamped on pyproject.toml's hash, so a re-run installs nothing.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
SAM_VENV := .sam-venv
# aws-sam-cli pins its own boto3, so it lives in its own venv, at a pinned version.
SAM_CLI_VERSION := 1.170.0

DEPS_HASH := $(shell sha256sum pyproject.toml | cut -c1-16)
VENV_STAMP := $(VENV)/.stamp-$(DEPS_HASH)
SAM_STAMP := $(SAM_VENV)/.stamp-aws-sam-cli-$(SAM_CLI_VERSION)
PIP_FLAGS := --quiet --disable-pip-version-check --no-input

export PIP_NO_INPUT := 1
export SAM_CLI_TELEMETRY := 0

.PHONY: help local test install sam openapi bench fuzz clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

local: $(VENV_STAMP) ## run the whole service locally (API on http://127.0.0.1:3000 by default)
	exec $(VENV)/bin/invoicing-local serve

test: ## the one test command: install, lint, types, template checks, OpenAPI drift, pytest
	@PYTHON='$(PYTHON)' bash scripts/test.sh

install: $(VENV_STAMP) ## the project's venv (.venv) with the dev extras

sam: $(SAM_STAMP) ## AWS SAM CLI in its own venv (.sam-venv)

openapi: $(VENV_STAMP) ## regenerate functions/docs/openapi.json from the handlers
	$(VENV)/bin/python -m devstack.openapi

fuzz: $(VENV_STAMP) ## a longer schemathesis run (FUZZ_REQUESTS_PER_OPERATION, default 1000; FUZZ_SEED)
	FUZZ_REQUESTS_PER_OPERATION=$${FUZZ_REQUESTS_PER_OPERATION:-1000} $(VENV)/bin/pytest -n auto tests/fuzz

bench: $(VENV_STAMP) ## run the benchmarks (batch also on DynamoDB Local if java is here; BENCH_ARGS=--markdown)
	if command -v java >/dev/null; then \
	    trap 'scripts/dynamodb-local.sh stop' EXIT; \
	    $(VENV)/bin/python -m bench --dynamodb-local "$$(scripts/dynamodb-local.sh start)" $(BENCH_ARGS); \
	else \
	    $(VENV)/bin/python -m bench $(BENCH_ARGS); \
	fi

clean: ## remove build output and caches (keeps the venvs and local data)
	rm -rf .aws-sam .lambda-runtime .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -path ./$(SAM_VENV) -prune -o -name __pycache__ -type d -print0 \
		| xargs -0 rm -rf

distclean: clean ## also remove both venvs and the local stack's data (.devstack)
	rm -rf $(VENV) $(SAM_VENV) .devstack

# A venv is (re)created when missing, broken (copied from another machine) or older than 3.11.
define ensure_venv
	if ! $(1)/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
		$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
			|| { echo "Python >= 3.11 is needed: set PYTHON=/path/to/python3.11+" >&2; exit 1; }; \
		rm -rf $(1) && $(PYTHON) -m venv $(1); \
	fi
endef

$(VENV_STAMP):
	@echo "Installing the project into $(VENV) (pyproject.toml $(DEPS_HASH))"
	@$(call ensure_venv,$(VENV))
	$(VENV)/bin/python -m pip install $(PIP_FLAGS) -e '.[dev]'
	@rm -f $(VENV)/.stamp-* && touch $@

$(SAM_STAMP):
	@echo "Installing aws-sam-cli $(SAM_CLI_VERSION) into $(SAM_VENV)"
	@$(call ensure_venv,$(SAM_VENV))
	$(SAM_VENV)/bin/python -m pip install $(PIP_FLAGS) 'aws-sam-cli==$(SAM_CLI_VERSION)'
	@rm -f $(SAM_VENV)/.stamp-* && touch $@
