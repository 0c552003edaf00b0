# One venv, two stamps: runtime install and test install. `make run` / `make test` on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench clean

$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime
	$(VENV)/bin/pip install -q -e ".[test]"
	touch $@

run: $(VENV)/.runtime
	$(VENV)/bin/citeline serve --host $(HOST) --port $(PORT)

test: $(VENV)/.test
	$(VENV)/bin/pytest -q

lint: $(VENV)/.test
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

bench: $(VENV)/.test
	$(VENV)/bin/python -m bench.scifact

clean:
	rm -rf $(VENV) citeline-data .pytest_cache .mypy_cache .ruff_cache
