# The two commands the README starts with: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test demo tiny-model tiny-eval lint clean

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

# The project's own trained model (models/mimo-tiny-coder, committed) fixes a held-out bug: README "Demo".
demo: $(STAMP)
	$(PY) -m mimo_agent.evals.demo

# Rebuild that model from nothing (tasks, expert trajectories, tokenizer, training): about an hour on 2 cores.
tiny-model: $(STAMP)
	$(PY) -m mimo_agent.evals.tiny_model.build --out models/mimo-tiny-coder --work .tiny-model-work

# Held-out evaluation of the model: SWE-bench harness on fresh test-split programs, MTP acceptance.
tiny-eval: $(STAMP)
	$(PY) -m mimo_agent.evals.tiny_model.evaluate --model models/mimo-tiny-coder --out runs/tiny-eval-$$(date +%s)

# The README's picture of the main screen, drawn from the snapshot test's SVG with the system's librsvg and
# cairo (no venv needed). Refresh the SVG first when the screen changed:
#   .venv/bin/pytest tests/tui/test_snapshots.py --snapshot-update -k "test_main_screen and not light"
.PHONY: screenshot
screenshot:
	$(PYTHON) docs/render_screenshot.py tests/tui/__snapshots__/test_snapshots/test_main_screen.svg docs/screenshot-main.png

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
