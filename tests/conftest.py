"""Shared fixtures: tiny params, the demo params, the real-data folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from retention_kit import load_params, params_from_dict  # noqa: E402
from retention_kit.datasets import shared_data_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PARAMS = REPO / "params"
SHARED = shared_data_dir()


def make_params(**data: Any) -> Any:
    """Params for a tiny in-memory log; ``data`` keys override the data section."""
    section = {"source": "(given)", "user": "user_id", "time": "timestamp", "event": "event", "timezone": "UTC"}
    section.update(data)
    extra = section.pop("_extra", {})
    return params_from_dict({"product": "tiny", "data": section, **extra})


@pytest.fixture(scope="session")
def demo_params():
    return load_params(PARAMS / "demo.yaml")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.exists():
        pytest.skip(f"real data not found at {SHARED}")
    return SHARED
