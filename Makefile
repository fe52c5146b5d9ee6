# The two commands: `make local` runs the whole service on this machine, `make test` runs every
# check CI runs. Everything installs with uv from lock files (uv.lock, tools/*/uv.lock), each
# venv stamped on its lock's hash, so a re-run installs nothing.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
SAM_VENV := .sam-venv
MINISTACK_VENV := .ministack-venv

# uv itself, pinned: the one on PATH if it is this version, else this version from PyPI in .uv/.
UV_VERSION := 0.13.9
UV_BOOTSTRAP := .uv/bin/uv
UV := $(shell v=$$(uv --version 2>/dev/null) || v=; \
	case "$$v" in ("uv $(UV_VERSION)" | "uv $(UV_VERSION) "*) command -v uv ;; (*) echo $(UV_BOOTSTRAP) ;; esac)
# The lock is the truth (--frozen: installs never re-resolve); Python is never downloaded.
UV_SYNC := $(UV) sync --frozen --quiet
export UV_PYTHON_DOWNLOADS := never

lock_hash = $(shell cat $(1) | sha256sum | cut -c1-16)
PROJECT_HASH := $(call lock_hash,pyproject.toml uv.lock)
LOCAL_STAMP := $(VENV)/.stamp-local-$(PROJECT_HASH)
DEV_STAMP := $(VENV)/.stamp-dev-$(PROJECT_HASH)
SAM_STAMP := $(SAM_VENV)/.stamp-$(call lock_hash,tools/sam-cli/pyproject.toml tools/sam-cli/uv.lock)
MINISTACK_STAMP := $(MINISTACK_VENV)/.stamp-$(call lock_hash,tools/ministack/pyproject.toml tools/ministack/uv.lock)

export SAM_CLI_TELEMETRY := 0

.PHONY: help local test install sam ministack deploy-check lock lock-check layer-requirements openapi bench fuzz \
	clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# A thin call: the environment (PORT, ...) reaches the process as it is.
local: $(LOCAL_STAMP) ## run the whole service locally (API on http://127.0.0.1:3000 by default)
	exec $(VENV)/bin/invoicing-local serve

test: ## the one test command: install, lint, types, template checks, drift checks, pytest, deploy check
	@PYTHON='$(PYTHON)' bash scripts/test.sh

install: $(DEV_STAMP) ## the project's venv (.venv): runtime, local stack and test toolchain

sam: $(SAM_STAMP) ## AWS SAM CLI in its own venv (.sam-venv), pinned by tools/sam-cli/uv.lock

ministack: $(MINISTACK_STAMP) ## MiniStack on Python 3.12 in its own venv (.ministack-venv), pinned

deploy-check: $(DEV_STAMP) $(SAM_STAMP) $(MINISTACK_STAMP) ## sam build + sam deploy to MiniStack, then the e2e suite on it
	bash scripts/deploy-check.sh

# The three projects' locks: this one, the SAM CLI's, MiniStack's (on the Python 3.12 it runs on).
define each_lock
	$(UV) lock --quiet $(1) --python $(PYTHON)
	$(UV) lock --quiet $(1) --project tools/sam-cli --python $(PYTHON)
	$(UV) lock --quiet $(1) --project tools/ministack --python "$$(scripts/python312.sh)"
endef

lock: | $(UV) ## re-resolve every lock after editing a pyproject.toml, and regenerate the layer's requirements
	$(call each_lock,)
	UV=$(UV) scripts/layer-requirements.sh

# --offline: checking a lock against its pyproject.toml needs no index (nothing is re-resolved).
lock-check: | $(UV) ## fail if a lock is stale for its pyproject.toml, or the layer's requirements for uv.lock
	$(call each_lock,--check --offline)
	UV=$(UV) scripts/layer-requirements.sh --check

layer-requirements: | $(UV) ## regenerate layers/shared/requirements.txt from uv.lock
	UV=$(UV) scripts/layer-requirements.sh

openapi: $(DEV_STAMP) ## regenerate functions/docs/openapi.json from the handlers
	$(VENV)/bin/python -m devstack.openapi

fuzz: $(DEV_STAMP) ## a longer schemathesis run (FUZZ_REQUESTS_PER_OPERATION, default 1000; FUZZ_SEED)
	FUZZ_REQUESTS_PER_OPERATION=$${FUZZ_REQUESTS_PER_OPERATION:-1000} $(VENV)/bin/pytest -n auto tests/fuzz

bench: $(DEV_STAMP) ## run the benchmarks (batch also on DynamoDB Local if java is here; BENCH_ARGS=--markdown)
	if command -v java >/dev/null; then \
	    trap 'scripts/dynamodb-local.sh stop' EXIT; \
	    $(VENV)/bin/python -m bench --dynamodb-local "$$(scripts/dynamodb-local.sh start)" $(BENCH_ARGS); \
	else \
	    $(VENV)/bin/python -m bench $(BENCH_ARGS); \
	fi

clean: ## remove build output and caches (keeps the venvs and local data)
	rm -rf .aws-sam .lambda-runtime .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . \( -path ./$(VENV) -o -path ./$(SAM_VENV) -o -path ./$(MINISTACK_VENV) -o -path ./.uv \) -prune \
		-o -name __pycache__ -type d -print0 | xargs -0 rm -rf

distclean: clean ## also remove the venvs, the bootstrapped uv and the local stack's data (.devstack)
	rm -rf $(VENV) $(SAM_VENV) $(MINISTACK_VENV) .uv .devstack

# uv from PyPI, for a machine without it (or with another version): a small venv of its own.
$(UV_BOOTSTRAP):
	@echo "Installing uv $(UV_VERSION) from PyPI into .uv (no uv $(UV_VERSION) on PATH)"
	rm -rf .uv && $(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check --no-input 'uv==$(UV_VERSION)'

# `make local`: the runtime and the local-stack group only. --inexact: a venv `make test` made
# keeps its test toolchain.
$(LOCAL_STAMP): | $(UV)
	@echo "Installing the project and the local stack into $(VENV) (uv.lock $(PROJECT_HASH))"
	$(UV_SYNC) --inexact --no-default-groups --group local --python $(PYTHON)
	@rm -f $(VENV)/.stamp-local-* && touch $@

# `make test`: the same venv plus the dev group (which includes the local group).
$(DEV_STAMP): | $(UV)
	@echo "Installing the project, the local stack and the test toolchain into $(VENV) (uv.lock $(PROJECT_HASH))"
	$(UV_SYNC) --no-default-groups --group dev --python $(PYTHON)
	@rm -f $(VENV)/.stamp-* && touch $(LOCAL_STAMP) $@

# aws-sam-cli pins its own boto3, so it has its own project (tools/sam-cli) and venv.
$(SAM_STAMP): | $(UV)
	@echo "Installing the SAM CLI into $(SAM_VENV) (tools/sam-cli/uv.lock)"
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(SAM_VENV) $(UV_SYNC) --project tools/sam-cli --python $(PYTHON)
	@rm -f $(SAM_VENV)/.stamp-* && touch $@

# MiniStack runs the functions on its own interpreter: the functions' runtime, Python 3.12.
$(MINISTACK_STAMP): | $(UV)
	@echo "Installing MiniStack into $(MINISTACK_VENV) (tools/ministack/uv.lock)"
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(MINISTACK_VENV) $(UV_SYNC) --project tools/ministack \
		--python "$$(scripts/python312.sh)"
	@rm -f $(MINISTACK_VENV)/.stamp-* && touch $@
