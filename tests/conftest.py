"""Shared fixtures: the demo params and the real-data folder. Logs and params are built with
:mod:`tests.factories`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from retention_kit import load_params  # noqa: E402

from tests.factories import PARAMS, SHARED  # noqa: E402


@pytest.fixture(scope="session")
def demo_params():
    return load_params(PARAMS / "demo.yaml")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.exists():
        pytest.skip(f"real data not found at {SHARED}")
    return SHARED
