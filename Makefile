# NPU: `make run` serves the site with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEV := DJANGO_DEBUG=1
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install install-dev run serve test lint format migrations-check check bench clean

help:
	@echo "make run     set up .venv, migrate, load demo data and serve on http://$(HOST):$(PORT)"
	@echo "make serve   the production configuration (gunicorn, DEBUG off) on http://$(HOST):$(PORT)"
	@echo "make test    set up .venv with the test tools and run the whole suite"
	@echo "make check   lint, migrations-check and test (what CI runs)"
	@echo "make bench   benchmark on PostgreSQL (npu_bench) and Redis: latency, queries per request;"
	@echo "             e.g. make bench BENCH_ARGS=\"--creations 1000000 --scores 10000000\" (--smoke, --reuse,"
	@echo "             --explain, --report FILE, --markdown FILE: scripts/bench.py --help)"

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

# Production settings on this machine: gunicorn, DEBUG off, hashed static files from whitenoise
# and media from the local disk (or S3 when AWS_STORAGE_BUCKET_NAME is set). Plain HTTP on
# loopback, so the HTTPS redirect and secure cookies are off; a key is made once and kept.
SERVE_ENV := DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat .serve-secret-key)}" \
	DJANGO_ALLOWED_HOSTS="$${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}" \
	DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_SECURE_COOKIES=0 DJANGO_SECURE_HSTS_SECONDS=0

.serve-secret-key:
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

serve: install .serve-secret-key
	$(SERVE_ENV) $(BIN)/python manage.py migrate --noinput
	$(SERVE_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(SERVE_ENV) $(BIN)/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT) npu_site.wsgi

test: install-dev
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports --no-cache

format: install-dev
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

migrations-check: install-dev
	$(DEV) $(BIN)/python manage.py makemigrations --check --dry-run

check: lint migrations-check test

# Benchmark against gunicorn with production settings on a PostgreSQL database of its own
# (npu_bench, filled by manage.py generate_bench_data); BENCH_ARGS passes options on.
BENCH_ARGS ?=

bench: install-dev
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
