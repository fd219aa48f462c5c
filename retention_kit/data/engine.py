"""The compute engine: the embedded DuckDB connection and the one place results become pandas.

Analyses build Ibis expressions; :func:`fetch` runs them and normalises result dtypes (engines
differ: DuckDB returns unsigned counts and date resolutions that PySpark does not), so every
analysis hands back the same pandas types whatever the backend.
"""

from __future__ import annotations

import atexit
import decimal
import os
import re
import shutil
import tempfile
import uuid
import warnings
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

__all__ = ["connect", "configure", "fetch", "DEFAULT_MEMORY_LIMIT", "MEMORY_LIMIT_ENV", "KERNEL_RESERVE_MB",
           "SPILL_DIR_ENV", "memory_share", "spill_folder"]

# Ibis 12 calls APIs that DuckDB 1.5 and pandas 3 deprecate; report readers cannot act on these
warnings.filterwarnings("ignore", message="fetch_arrow_table", category=DeprecationWarning)
warnings.filterwarnings("ignore", message="The 'future.infer_string' option is deprecated")

#: the environment variable of the engine's memory limit (the runner sets it for each kernel)
MEMORY_LIMIT_ENV = "RETENTION_KIT_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = os.environ.get(MEMORY_LIMIT_ENV, "6GB")
#: the environment variable of the folder in which engines spill beyond their memory limit (each
#: connection its own subfolder); the system's temporary folder when unset
SPILL_DIR_ENV = "RETENTION_KIT_SPILL_DIR"

#: What each of several kernels that share the run's limit leaves out of its engine's share for
#: its own Python (pandas frames, matplotlib, the interpreter): the engine's limit does not cover
#: them. Measured at 100M events with two kernels at once: each kernel's resident memory was its
#: engine's share plus 0.25-0.35 GiB (the process tree 6.2 GiB on 3000MB shares, 5.75 GiB on
#: 2600MB shares, in the same 100 s).
KERNEL_RESERVE_MB = 400


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def memory_share(limit: str, parts: int, *, reserve_mb: int = 0) -> str:
    """``limit`` (a DuckDB memory setting such as ``6GB``) shared among ``parts`` engines that
    run at once, in whole megabytes, less ``reserve_mb`` each for the rest of its process (never
    below half of the plain share): the runner gives each of its ``--jobs`` kernels this share,
    so the run as a whole stays within the limit. Unchanged for one part, or for a setting it
    does not read (DuckDB then judges it).

    Examples
    --------
    >>> memory_share("6GB", 2), memory_share("1GiB", 4), memory_share("6GB", 1)
    ('3000MB', '268MB', '6GB')
    >>> memory_share("6GB", 2, reserve_mb=400), memory_share("1GB", 2, reserve_mb=400)
    ('2600MB', '250MB')
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", limit)
    if parts <= 1 or m is None or m.group(2).lower() not in _UNITS:
        return limit
    plain = float(m.group(1)) * _UNITS[m.group(2).lower()] / parts / 10**6
    return f"{max(int(max(plain - reserve_mb, plain / 2)), 1)}MB"


def spill_folder() -> str:
    """A folder of this connection's own for the engine's spill files (not yet created: DuckDB
    makes it when it first spills and removes it when the connection closes), under
    ``RETENTION_KIT_SPILL_DIR`` or the system's temporary folder.

    DuckDB's default is ``.tmp`` in the working folder, with file names that do not depend on
    the process; two kernels of a run share a working folder, and when both spilled at once
    each read the other's blocks ("Corrupt temporary file", or silently wrong sums). Process id
    and a random part keep every connection apart.
    """
    base = os.path.abspath(os.environ.get(SPILL_DIR_ENV) or tempfile.gettempdir())
    os.makedirs(base, exist_ok=True)  # DuckDB makes the last folder of the path only
    path = os.path.join(base, f"retention-kit-spill-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    # a backstop for an engine that is not closed before the interpreter exits
    atexit.register(shutil.rmtree, path, True)
    return path


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def configure(con: Any, *, memory_limit: str | None = None) -> Any:
    """The kit's engine settings on a DuckDB connection ``con`` (Ibis): no progress bar, no
    extension downloads, the memory limit and a spill folder of its own; returns ``con``."""
    # DuckDB draws a progress bar on long queries; in a kernel it would land in the report. Inside
    # a Jupyter kernel without ipywidgets DuckDB refuses to change the setting at all ("Could not
    # change the progress bar setting"), and there it draws no bar either, so a refusal is fine.
    try:
        con.raw_sql("SET enable_progress_bar = false")
    except Exception:  # noqa: BLE001 - duckdb.InvalidInputException; nothing to switch off then
        pass
    # no network at run time: DuckDB would otherwise download extensions it thinks it needs
    con.raw_sql("SET autoinstall_known_extensions = false")
    con.raw_sql(f"SET memory_limit = {_quoted(memory_limit or DEFAULT_MEMORY_LIMIT)}")
    con.raw_sql(f"SET temp_directory = {_quoted(spill_folder())}")
    return con


def connect(*, timezone: str = "UTC", memory_limit: str | None = None, threads: int | None = None) -> Any:
    """An in-memory DuckDB connection set up for the kit.

    The session time zone is the product's, so timezone-aware timestamps cast to naive local time
    in that zone; the memory limit makes DuckDB spill to disk instead of exhausting the machine,
    into a folder of the connection's own (:func:`spill_folder`).
    """
    con = ibis.duckdb.connect()
    # values are checked upstream (timezone against the IANA database); quoting keeps them inert
    con.raw_sql(f"SET TimeZone = '{timezone.replace(chr(39), '')}'")
    configure(con, memory_limit=memory_limit)
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
