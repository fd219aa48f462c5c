"""Shared fixtures: the demo params and the real-data folder. Logs and params are built with
:mod:`tests.factories`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from retention_kit import load_params  # noqa: E402

from tests.factories import PARAMS, SHARED  # noqa: E402


def pytest_collection_modifyitems(items):
    """Tests run on three workers (``pytest -n 3 --dist loadfile --no-loadscope-reorder``, README):
    each test file stays on one worker, so a module's fixture is built once. The files that take
    minutes go first, so each of them starts at once while the other workers take the rest (xdist's own reorder
    would put these one-test files last, to finish alone)."""
    items.sort(key=lambda it: next((i for i, f in enumerate(LONGEST_FIRST) if f in it.nodeid), len(LONGEST_FIRST)))


#: the test files that take minutes (the two Spark runs; the PostgreSQL run and the page check,
#: which share :func:`reference_run`)
LONGEST_FIRST = ("tests/data/test_spark_run.py", "tests/data/test_postgres.py", "tests/data/test_spark_run_files.py",
                 "tests/reporting/test_pages.py")


@pytest.fixture(scope="session")
def demo_params():
    return load_params(PARAMS / "demo.yaml")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.exists():
        pytest.skip(f"real data not found at {SHARED}")
    return SHARED


#: The products every end-to-end comparison uses: the demo and the shared real logs.
REFERENCE_PRODUCTS = ["demo.yaml", "stackexchange_martialarts.yaml", "online_retail.yaml", "online_retail_loyalty.yaml"]


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory, shared_data):
    """One DuckDB run of every report for :data:`REFERENCE_PRODUCTS`, shared by the page checks
    and the warehouse comparisons (a run costs about a minute). Under pytest-xdist each worker
    has its own session: the first to ask builds the run, under a file lock in the folder the
    workers share, and the others wait for it and read it."""
    import fcntl
    import pickle

    from retention_kit.reporting.runner import run

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder = root / "reference"
    folder.mkdir(exist_ok=True)
    out, done = folder / "out", folder / "result.pickle"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            res = run([PARAMS / p for p in REFERENCE_PRODUCTS], out=out, jobs=2, progress=False)
            done.write_bytes(pickle.dumps(res))
        res = pickle.loads(done.read_bytes())
    return res, out
