# Two commands: `make run` (the whole system on embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# LOCKED=1 (CI) installs the exact, hash-checked versions of requirements/dev-lock.txt;
# otherwise the ranges of pyproject.toml (development).
LOCKED ?=
STAMP := $(VENV)/.installed$(if $(filter 1,$(LOCKED)),-locked,)
UV_SPEC ?= uv>=0.9,<1
LOCK_OPTIONS := --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command "make lock"

.PHONY: install run test lint format messages migrate bench clean lock openapi typecheck

install: $(STAMP) messages

ifeq ($(LOCKED),1)
$(STAMP): requirements/dev-lock.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev-lock.txt
	touch $(STAMP)
else
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)
endif

# Re-resolve the lock files from pyproject.toml (run after changing a dependency):
# runtime (the Docker image) and runtime + dev (CI), every file pinned by hash.
lock:
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$(UV_SPEC)"
	mkdir -p requirements
	$(BIN)/uv pip compile pyproject.toml $(LOCK_OPTIONS) -o requirements/lock.txt
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_OPTIONS) -o requirements/dev-lock.txt

# Compile translations with Babel (pure Python: no gettext needed on the machine).
messages: $(STAMP)
	$(BIN)/python bin/compile-messages

# The committed OpenAPI schema of the REST API (tests/api/test_schema.py fails when the
# code and docs/openapi.yaml differ). English descriptions: the same file everywhere.
openapi: install
	$(BIN)/python manage.py spectacular --lang en --validate --fail-on-warn --file docs/openapi.yaml

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py seed_demo --if-empty
	bin/run-embedded

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	@echo "see bench/README.md: each script is run on its own, e.g. $(BIN)/python bench/intake.py"

clean:
	rm -rf $(VENV) var staticfiles artifacts

# mypy against mypy-baseline.txt (`bin/typecheck --sync` after fixing errors).
typecheck: $(STAMP)
	bin/typecheck
