# The two README commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test lint install translations translations-update clean lock audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml setup.py requirements.lock lms/evidence/_chainscan.c | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint requirements.lock -e '.[dev]'
	touch $@

# After changing pyproject.toml's dependencies: install without the old pins, then pin what got installed.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade -e '.[dev]'
	{ sed -n '/^#/p' requirements.lock; $(BIN)/pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

# Known vulnerabilities in the locked dependencies (pip-audit; needs its vulnerability service: .ci/audit.py).
audit: install
	$(BIN)/python .ci/audit.py

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile --use-fuzzy -d lms/translations

# Extract every _() string and merge it into the catalogues (then translate the new ones).
translations-update: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -o lms/translations/messages.pot .
	$(BIN)/pybabel -q update -N -i lms/translations/messages.pot -d lms/translations

# Embedded defaults: SQLite under instance/, jobs in-process, demo data, plain http on loopback.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load --if-empty
	# The scheduler pass runs beside the server (jobs in-process); both stop together.
	$(BIN)/flask tick --every 60 > instance/scheduler.log 2>&1 & ticker=$$!; \
	trap "kill $$ticker" EXIT INT TERM; \
	LMS_SECURE_COOKIES=0 $(BIN)/flask run --host 127.0.0.1 --port 5000

# TEST_DATABASE_URL=postgresql://… runs the same suite on PostgreSQL.
test: install
	$(BIN)/python -m pytest -n $${LMS_TEST_WORKERS:-auto} -p no:cacheprovider

lint: install
	$(BIN)/ruff check lms tests benchmarks

clean:
	rm -rf $(VENV) instance/*.sqlite3*
