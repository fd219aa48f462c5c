"""What each report costs on each engine: the load and every notebook's computations (as
:mod:`benchmarks.workloads` calls them) on the same demo-shaped log in DuckDB, in a throwaway
PostgreSQL server and in PySpark (local mode), with the rows each engine returns to Python.

    .venv/bin/python -m benchmarks.warehouses --size 10M            # duckdb and postgres
    .venv/bin/python -m benchmarks.warehouses --size 1M --engines duckdb,postgres,pyspark

Rows returned are counted at ``Expr.execute`` (every result the kit brings back: aggregates, and
the one per-user table, the at-risk list). The PostgreSQL server is started like the tests' one
(tests/warehouse.py: Debian's ``postgresql``, a temporary cluster); loading the log into it is
timed apart and not counted. Results are printed as a Markdown table (docs/warehouses.md quotes
them).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
from collections.abc import Iterator
from pathlib import Path

import ibis.expr.types.core as ir_core
import pandas as pd
import pyarrow.parquet as pq

import retention_kit as rk
from retention_kit.data import params_from_dict

from .generate import ensure_log, label, log_rows, parse_size
from .run import HERE, _params
from .workloads import NOTEBOOKS


@contextlib.contextmanager
def counting_rows() -> Iterator[list[int]]:
    """Counts the rows of every result brought back to Python within the block."""
    seen: list[int] = []
    original = ir_core.Expr.execute

    def execute(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        seen.append(len(out) if hasattr(out, "__len__") and not isinstance(out, str) else 1)
        return out

    ir_core.Expr.execute = execute
    try:
        yield seen
    finally:
        ir_core.Expr.execute = original


def copy_parquet_to_postgres(url: str, folder: Path, table: str) -> float:
    """The Parquet parts of ``folder`` into a new PostgreSQL table; returns seconds."""
    import psycopg

    t0 = time.perf_counter()
    files = sorted(folder.glob("*.parquet"))
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as con, con.cursor() as cur:
        cur.execute(f'DROP TABLE IF EXISTS "{table}"')
        cur.execute(f'CREATE UNLOGGED TABLE "{table}" (user_id text, "timestamp" timestamp, event text, revenue double precision)')
        for f in files:
            for batch in pq.ParquetFile(f).iter_batches(batch_size=500_000, columns=["user_id", "timestamp", "event", "revenue"]):
                buf = io.StringIO()
                batch.to_pandas().to_csv(buf, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S.%f")
                with cur.copy(f'COPY "{table}" FROM STDIN WITH (FORMAT csv)') as cp:
                    cp.write(buf.getvalue())
        cur.execute(f'ANALYZE "{table}"')
    return time.perf_counter() - t0


def measure(raw: dict, engine: str) -> dict[str, float]:
    params = params_from_dict(raw, base_dir=HERE)
    row: dict[str, float] = {}
    with counting_rows() as seen:
        t0 = time.perf_counter()
        log = rk.load_events(params)
        row["load"] = time.perf_counter() - t0
        for name, fn in NOTEBOOKS.items():
            t0 = time.perf_counter()
            fn(log, params)
            row[name] = time.perf_counter() - t0
    row["rows_returned"] = sum(seen)
    row["queries"] = len(seen)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="10M", help="log size (demo-shaped), e.g. 1M or 10M")
    ap.add_argument("--engines", default="duckdb,postgres", help="comma-separated: duckdb, postgres, pyspark")
    ap.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                    help="a PostgreSQL server setting for the throwaway cluster, e.g. work_mem=256MB (repeatable)")
    args = ap.parse_args(argv)
    folder = ensure_log(parse_size(args.size))
    base = _params(folder)
    results: dict[str, dict[str, float]] = {}
    notes: list[str] = []
    for engine in args.engines.split(","):
        raw = {**base, "data": dict(base["data"])}
        if engine == "duckdb":
            results[engine] = measure(raw, engine)
        elif engine == "postgres":
            from tests.warehouse import postgres_server

            settings = dict(kv.split("=", 1) for kv in args.pg_setting)
            if settings:
                notes.append("PostgreSQL settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
            with postgres_server(settings) as url:
                secs = copy_parquet_to_postgres(url, folder, "events")
                notes.append(f"copying the log into PostgreSQL took {secs:.0f} s (not counted)")
                raw["data"]["source"] = {"url": url, "table": "events"}
                results[engine] = measure(raw, engine)
        elif engine == "pyspark":
            raw["data"]["source"] = {"backend": "pyspark", "path": str(folder),
                                     "options": {"config": {"spark.driver.memory": "6g"}}}
            results[engine] = measure(raw, engine)
        else:
            raise SystemExit(f"unknown engine {engine!r}")
    cols = ["load", *NOTEBOOKS, "total", "queries", "rows_returned"]
    lines = [f"Log: {label(parse_size(args.size))} demo-shaped events ({log_rows(folder):,} rows), seconds per stage.",
             "", "| engine | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for engine, r in results.items():
        r["total"] = r["load"] + sum(r[n] for n in NOTEBOOKS)
        cells = [f"{r[c]:,.0f}" if c in ("queries", "rows_returned") else f"{r[c]:.1f}" for c in cols]
        lines.append(f"| {engine} | " + " | ".join(cells) + " |")
    print("\n".join(lines + [""] + notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
