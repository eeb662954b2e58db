# The commands a developer types. `make run` and `make test` are the two in the README.
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: run test lint format migrations-check bench demo

$(STAMP): requirements.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned dependencies into $(VENV) (about a minute the first time)..."
	@# /etc/pip.conf on some machines names local indexes that do not exist; pip warns once per package.
	@$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP)  ## install, migrate, load the demo, start web + worker + beat
	@bin/run

test: $(STAMP)  ## the whole suite on PostgreSQL, Redis and Chromium
	@bin/test

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: $(STAMP)
	@mkdir -p var
	DEBUG=true $(VENV)/bin/python manage.py makemigrations --check --dry-run

# Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379; drops and recreates bench_portal,
# bench_portal_source (the freshness probes' tables) and bench_mlflow. BENCH_SCALE=small for the quick run (a few minutes); results in bench/results/.
bench: $(STAMP)
	BENCH_SCALE=$${BENCH_SCALE:-full} $(VENV)/bin/python -m bench

demo: $(STAMP)
	DEBUG=true $(VENV)/bin/python manage.py load_demo
