# The two commands the README starts with: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test demo lint clean

$(STAMP): pyproject.toml setup.py Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# The exact CPU build on disk; the package itself only asks for torch>=2.4 so users keep their CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	# BFCL's data files only (its own dependencies are a full benchmark stack we do not run).
	$(PY) -m pip install -q --no-deps bfcl-eval==2026.3.23
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

# Until the project's trained tiny model lands, the most complete real path: see README "Demo".
demo: $(STAMP)
	$(PY) -m mimo_agent.evals.demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
