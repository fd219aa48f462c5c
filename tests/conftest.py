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
    """Tests run on two workers (``pytest -n 2 --dist loadgroup``, README): each test file stays
    on one worker, so a module's fixture is built once; files that share the costly
    :func:`reference_run` form one group, so it is built once too."""
    for item in items:
        if not any(m.name == "xdist_group" for m in item.iter_markers()):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


#: mark a test file with this to share :func:`reference_run` (one DuckDB run of four products)
REFERENCE_GROUP = "reference_run"


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
    and the warehouse comparisons (a run costs about a minute)."""
    from retention_kit.reporting.runner import run

    out = tmp_path_factory.mktemp("reference") / "out"
    res = run([PARAMS / p for p in REFERENCE_PRODUCTS], out=out, jobs=2, progress=False)
    return res, out
