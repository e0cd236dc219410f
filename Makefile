# Everything the project needs is installed from its own files into .venv.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LAB_STAMP := $(VENV)/.lab-installed

.PHONY: venv demo test test-fast test-pythons lab notebooks bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m scalargrad demo

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) notebooks/build.py --check
	$(PY) -m pytest --nbmake

# The tests not marked slow, docstring examples included: for every change.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

# The fast suite on Python 3.10 to 3.13, each in its own environment (noxfile.py);
# python3.10 ... python3.13 must be on PATH.
test-pythons: $(STAMP)
	$(PY) -m nox

$(LAB_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[lab]'
	touch $(LAB_STAMP)

# JupyterLab from the `lab` extra, opened on the notebooks; Ctrl-C stops it. It refuses
# to run as root unless told to, and containers often run as root.
lab: $(LAB_STAMP)
	$(PY) -m jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# Re-run every notebook in a fresh kernel and commit-ready outputs from notebooks/src/.
notebooks: $(STAMP)
	$(PY) notebooks/build.py

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/lecture.py --floor
	$(PY) benchmarks/train.py
	$(PY) benchmarks/compile.py
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/demo.py
	$(PY) benchmarks/viz.py
	$(PY) benchmarks/html_page.py
	@if command -v valgrind >/dev/null; then $(PY) benchmarks/instructions.py; \
	else echo "valgrind is not installed (apt-get install valgrind): no instruction counts"; fi

clean:
	rm -rf $(VENV) .nox .pytest_cache .mypy_cache .ruff_cache .hypothesis
