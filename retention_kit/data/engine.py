"""The compute engine: the embedded DuckDB connection and the one place results become pandas.

Analyses build Ibis expressions; :func:`fetch` runs them and normalises result dtypes (engines
differ: DuckDB returns unsigned counts and date resolutions that PySpark does not), so every
analysis hands back the same pandas types whatever the backend.
"""

from __future__ import annotations

import decimal
import os
import warnings
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

__all__ = ["connect", "fetch", "DEFAULT_MEMORY_LIMIT"]

# Ibis 12 calls APIs that DuckDB 1.5 and pandas 3 deprecate; report readers cannot act on these
warnings.filterwarnings("ignore", message="fetch_arrow_table", category=DeprecationWarning)
warnings.filterwarnings("ignore", message="The 'future.infer_string' option is deprecated")

DEFAULT_MEMORY_LIMIT = os.environ.get("RETENTION_KIT_MEMORY_LIMIT", "6GB")


def connect(*, timezone: str = "UTC", memory_limit: str | None = None, threads: int | None = None) -> Any:
    """An in-memory DuckDB connection set up for the kit.

    The session time zone is the product's, so timezone-aware timestamps cast to naive local time
    in that zone; the memory limit makes DuckDB spill to disk instead of exhausting the machine.
    """
    con = ibis.duckdb.connect()
    # values are checked upstream (timezone against the IANA database); quoting keeps them inert
    con.raw_sql(f"SET TimeZone = '{timezone.replace(chr(39), '')}'")
    # DuckDB draws a progress bar on long queries; in a kernel it would land in the report. Inside
    # a Jupyter kernel without ipywidgets DuckDB refuses to change the setting at all ("Could not
    # change the progress bar setting"), and there it draws no bar either, so a refusal is fine.
    try:
        con.raw_sql("SET enable_progress_bar = false")
    except Exception:  # noqa: BLE001 - duckdb.InvalidInputException; nothing to switch off then
        pass
    # no network at run time: DuckDB would otherwise download extensions it thinks it needs
    con.raw_sql("SET autoinstall_known_extensions = false")
    con.raw_sql(f"SET memory_limit = '{(memory_limit or DEFAULT_MEMORY_LIMIT).replace(chr(39), '')}'")
    if threads:
        con.raw_sql(f"SET threads = {int(threads)}")
    return con


def _normalise(col: pd.Series) -> pd.Series:
    dtype = col.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return col.dt.tz_localize(None).astype("datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return col.astype("datetime64[ns]")
    if pd.api.types.is_unsigned_integer_dtype(dtype) or (pd.api.types.is_integer_dtype(dtype) and dtype != np.int64):
        return col.astype("int64")
    if pd.api.types.is_float_dtype(dtype) and dtype != np.float64:
        return col.astype("float64")
    if dtype == object and len(col):
        first = col.dropna().iloc[0] if col.notna().any() else None
        if first is not None and hasattr(first, "isoformat") and not isinstance(first, str):
            # python dates from some backends; one resolution everywhere
            return pd.to_datetime(col).astype("datetime64[ns]")
        if isinstance(first, decimal.Decimal):
            return col.astype("float64")
    return col


def fetch(expr: ir.Table, *, sort: list[str] | None = None) -> pd.DataFrame:
    """Execute an Ibis table expression and return a pandas frame with normalised dtypes.

    Dates and timestamps become ``datetime64[ns]`` (naive, in the product's timezone), integers
    ``int64`` (nullable integers stay ``Int64``), decimals and narrow floats ``float64``.
    """
    df = expr.execute()
    out = df.assign(**{c: _normalise(df[c]) for c in df.columns}) if len(df.columns) else df
    if sort:
        out = out.sort_values(sort, kind="stable").reset_index(drop=True)
    return out
