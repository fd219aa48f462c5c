"""CSV exports as the contract promises them: no index, ISO dates, full-precision floats,
written aside and moved into place. Which files and columns each report exports is declared in
its family's spec (:mod:`retention_kit.analyses`)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd

__all__ = ["to_csv"]


def to_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` under the export contract: no index, dates ISO (YYYY-MM-DD; with a time
    YYYY-MM-DDTHH:MM:SS), floats with 10 significant digits, written aside then moved into place
    so a reader never sees half a file."""
    path = Path(path)
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            if (col.dropna().dt.normalize() == col.dropna()).all():
                out[c] = col.dt.strftime("%Y-%m-%d")
            else:
                out[c] = col.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif col.dtype == object and col.map(lambda v: isinstance(v, dt.date)).any():
            out[c] = col.map(lambda v: v.isoformat() if isinstance(v, dt.date) else v)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    out.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")
    os.replace(tmp, path)
    return path
