# Everything the project needs is installed from its own files into .venv.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo test notebooks bench clean

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

# Re-run every notebook in a fresh kernel and commit-ready outputs from notebooks/src/.
notebooks: $(STAMP)
	$(PY) notebooks/build.py

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/train.py
	$(PY) benchmarks/viz.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
