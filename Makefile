# kcpp-sia: the two commands are `make report` and `make test` (lint, then the test suite).
# Both create .venv if it is missing and install the pinned dependencies first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
YEAR   ?= 2025/26

.PHONY: report test install prepare lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

prepare: $(STAMP)
	$(BIN)/kcpp prepare

report: $(STAMP)
	$(BIN)/kcpp report --year $(YEAR)

test: lint
	$(BIN)/python -m pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check kcpp_analysis tests benchmarks scripts
	$(BIN)/ruff format --check kcpp_analysis tests benchmarks scripts

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf outputs/* .pytest_cache
	touch outputs/.gitkeep
