# Omnistream: `make demo` runs the whole system on this machine, `make test` the whole test suite.
# Needs Python 3.11, Java 17 and Maven; everything else is fetched into .venv and .cache (and `make test`
# installs Debian's chromium for the dashboard test when it is missing).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test setup broker stop status lint clean

demo: setup ## broker, worker, sink, dashboard, a simulated retail day, answers from DuckDB
	$(PY) -m demo

test: setup ## lint, every test (unit, component, integration against a real broker), then the time-sensitive ones 45 days later
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy domain streams runtime tables agents views ops analytics sim broker bench dashboard demo till settings.py app.py
	$(PY) -m broker fetch
	bash ops/ensure_chromium.sh
	$(PY) -m streams.schemas --check
	$(PY) -m views.api_spec --check
	$(PY) -m pytest -q
	@echo "date-shift run: the time-sensitive checks again, with every service 45 days after the simulated day"
	OMNI_CLOCK_SHIFT=45d $(PY) -m pytest -q -m time_sensitive

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or run: make PYTHON=/path/to/python3.11 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

broker: setup ## start (or reuse) the local Kafka broker
	$(PY) -m broker start

stop: ## stop the demo's dashboard, worker and sink, then the broker
	-$(PY) -m demo --stop
	-$(PY) -m broker stop

status:
	-$(PY) -m broker status
	-$(PY) -m demo --status

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy domain streams runtime tables agents views ops analytics sim broker bench dashboard demo till settings.py app.py

clean: stop
	rm -rf .run
