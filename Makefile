# Atrium: `make run` to try it, `make test` to check it. Needs only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test lint format bench clean-data messages

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed

messages: install
	@if command -v msgfmt >/dev/null 2>&1 && ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
		$(BIN)/python manage.py compilemessages --verbosity 0 --ignore=.venv --ignore=staticfiles; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy saas tenants metadata crm billing

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Two processes, each on a test database of its own; a file's tests stay in one process.
TEST_WORKERS ?= 2

test: install lint messages
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

run: install messages
	$(BIN)/python manage.py db_ensure
	$(BIN)/python manage.py migrate_schemas --noinput
	$(BIN)/python manage.py platform_init
	$(BIN)/python manage.py demo_setup
	$(BIN)/python manage.py run_stack

bench: install
	$(BIN)/python manage.py bench

clean-data:
	-$(BIN)/python -c "from saas.embedded import stop_embedded_database as s; s()"
	rm -rf .data
