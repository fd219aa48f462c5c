"""One factory for the small logs and params the tests build: params for an in-memory log, event
frames from rows, and the loaded log. Every test file builds its logs through these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from retention_kit import EventLog, Params, load_events, params_from_dict
from retention_kit.data.datasets import shared_data_dir

REPO = Path(__file__).resolve().parents[1]
PARAMS = REPO / "params"
SHARED = shared_data_dir()
#: A Monday: day offsets in the tests count from it.
D0 = dt.date(2024, 1, 1)

EVENT_COLUMNS = ("user_id", "timestamp", "event")
#: The columns of a log with money: ``events(rows, columns=REVENUE_COLUMNS)`` with ``data.revenue:
#: revenue`` (``make_params(revenue="revenue")``).
REVENUE_COLUMNS = (*EVENT_COLUMNS, "revenue")


def make_params(*, product: str = "t", stickiness: dict | None = None, key_behaviors: dict | None = None,
                ladder: dict | None = None, lifecycle: dict | None = None, top: dict | None = None,
                **data: Any) -> Params:
    """Params for a log given as a frame: the data section is ``{source: "(given)", timezone:
    UTC}`` updated with ``data``; report sections and other top-level keys (``top``) as given."""
    section = {"source": "(given)", "timezone": "UTC", **data}
    raw: dict[str, Any] = {"product": product, "data": section, **(top or {})}
    for name, value in (("stickiness", stickiness), ("key_behaviors", key_behaviors), ("ladder", ladder),
                        ("lifecycle", lifecycle)):
        if value is not None:
            raw[name] = value
    return params_from_dict(raw)


def events(rows: Iterable[Sequence[Any]], *, columns: Sequence[str] = EVENT_COLUMNS,
           hour: float | None = None) -> pd.DataFrame:
    """An event frame from row tuples; ``timestamp`` strings are parsed, and ``hour`` hours are
    added to them (the time of day of date-only stamps)."""
    df = pd.DataFrame(list(rows), columns=list(columns))
    if "timestamp" in df and not pd.api.types.is_datetime64_any_dtype(df["timestamp"]):
        df["timestamp"] = pd.to_datetime(df["timestamp"])
    if hour is not None:
        df["timestamp"] = df["timestamp"] + pd.Timedelta(hours=hour)
    return df


def day_events(rows: Iterable[tuple[str, int, str, int]], *, start: dt.date = D0, hour: int = 10) -> pd.DataFrame:
    """An event frame from ``(user, day offset, event, times)`` rows: ``times`` events of that
    name on day ``start + offset`` at ``hour`` o'clock."""
    recs = [(u, pd.Timestamp(start + dt.timedelta(days=d)) + pd.Timedelta(hours=hour), e)
            for u, d, e, times in rows for _ in range(times)]
    return pd.DataFrame(recs, columns=list(EVENT_COLUMNS))


def load(source: pd.DataFrame | Iterable[Sequence[Any]], *, users: pd.DataFrame | None = None,
         params: Params | None = None, **params_kwargs: Any) -> EventLog:
    """The loaded log of ``source`` (a frame, or row tuples for :func:`events`) with ``params``
    (default: :func:`make_params` of ``params_kwargs``). ``users`` is the users frame; a
    ``data.users`` section for it goes in ``params=make_params(users={...})``."""
    if params is not None and params_kwargs:
        raise TypeError(f"load: give params or make_params arguments, not both (got {sorted(params_kwargs)})")
    frame = source if isinstance(source, pd.DataFrame) else events(source)
    return load_events(params if params is not None else make_params(**params_kwargs), source=frame, users=users)


def probe_notebooks(tmp: Path, code: str, *, also: tuple[str, ...] = ()) -> Path:
    """A notebook folder for runner tests: ``probe.ipynb`` (the runner's parameters cell, then
    ``code``) and copies of the report notebooks named in ``also``."""
    import shutil

    import nbformat

    d = tmp / "notebooks"
    d.mkdir()
    for name in also:
        shutil.copy(REPO / "notebooks" / f"{name}.ipynb", d / f"{name}.ipynb")
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("params_path = None\nexport_dir = None\ncache_dir = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, d / "probe.ipynb")
    return d
