# Two commands on a fresh machine with Python 3.10+ and make: `make report` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install report test test-fast lab bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# setuptools prints a boxed note on every editable install ("Editable installation ... be
	@# careful with folders ... with the same name as your package"); it is not a problem here
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## run the demo product into reports/: a line per notebook, then the index page's path
report: install
	$(BIN)/retention-kit demo --out reports

## the whole test suite (CI runs this); three workers on two cores, as much of a test's time is
## spent waiting on a kernel, a JVM or a server starting (CPU about 65% busy on two workers)
WORKERS ?= 3
test: install
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

## unit tests only, without the papermill end-to-end runs
test-fast: install
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -m "not slow"

## explore the notebooks in JupyterLab (they default to the demo product)
lab: install
	$(BIN)/jupyter lab notebooks/

## benchmarks: see benchmarks/README.md
bench: install
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) reports/*/ reports/index.html .pytest_cache
