# NPU: `make run` serves the site with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEV := DJANGO_DEBUG=1
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install install-dev run test lint format migrations-check check clean

help:
	@echo "make run     set up .venv, migrate, load demo data and serve on http://$(HOST):$(PORT)"
	@echo "make test    set up .venv with the test tools and run the whole suite"
	@echo "make check   lint, migrations-check and test (what CI runs)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changes.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

install: $(VENV)/.runtime-installed

install-dev: $(VENV)/.dev-installed

run: install
	$(DEV) $(BIN)/python manage.py migrate --noinput
	$(DEV) $(BIN)/python manage.py seed_demo
	$(DEV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "NPU is starting on http://$(HOST):$(PORT)/  (moderation: http://$(HOST):$(PORT)/admin/)"
	@echo "Log in with the demo accounts listed above. Stop with Ctrl-C."
	$(DEV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install-dev
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

migrations-check: install-dev
	$(DEV) $(BIN)/python manage.py makemigrations --check --dry-run

check: lint migrations-check test

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
