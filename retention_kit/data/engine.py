"""The compute engine: the embedded DuckDB connection and the one place results become pandas.

Analyses build Ibis expressions; :func:`fetch` runs them and normalises result dtypes (engines
differ: DuckDB returns unsigned counts and date resolutions that PySpark does not), so every
analysis hands back the same pandas types whatever the backend.
"""

from __future__ import annotations

import decimal
import os
import re
import warnings
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

__all__ = ["connect", "fetch", "DEFAULT_MEMORY_LIMIT", "MEMORY_LIMIT_ENV", "memory_share"]

# Ibis 12 calls APIs that DuckDB 1.5 and pandas 3 deprecate; report readers cannot act on these
warnings.filterwarnings("ignore", message="fetch_arrow_table", category=DeprecationWarning)
warnings.filterwarnings("ignore", message="The 'future.infer_string' option is deprecated")

#: the environment variable of the engine's memory limit (the runner sets it for each kernel)
MEMORY_LIMIT_ENV = "RETENTION_KIT_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = os.environ.get(MEMORY_LIMIT_ENV, "6GB")


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def memory_share(limit: str, parts: int) -> str:
    """``limit`` (a DuckDB memory setting such as ``6GB``) shared among ``parts`` engines that
    run at once, in whole megabytes: the runner gives each of its ``--jobs`` kernels this share,
    so the run as a whole stays within the limit. Unchanged for one part, or for a setting it
    does not read (DuckDB then judges it).

    Examples
    --------
    >>> memory_share("6GB", 2), memory_share("1GiB", 4), memory_share("6GB", 1)
    ('3000MB', '268MB', '6GB')
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", limit)
    if parts <= 1 or m is None or m.group(2).lower() not in _UNITS:
        return limit
    total = float(m.group(1)) * _UNITS[m.group(2).lower()]
    return f"{max(int(total / parts // 10**6), 1)}MB"


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
