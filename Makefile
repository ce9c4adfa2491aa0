# kms-remediator: the two commands a person needs are `make test` and `make demo`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: test demo lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check remediator tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy remediator

test: lint typecheck
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/remediator demo

bench: $(STAMP)
	PYTHONPATH=. $(BIN)/python benchmarks/bench_policy_engine.py --stages
	PYTHONPATH=. $(BIN)/python benchmarks/bench_verify.py
	PYTHONPATH=. $(BIN)/python benchmarks/bench_scan.py --sizes 100,1000

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
