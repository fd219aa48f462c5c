"""Real engines for the end-to-end tests: a throwaway PostgreSQL server, tables copied into it,
params rewritten to read from it, and the comparison of two runs' CSV exports.

The server is Debian's ``postgresql`` package (``.ci/run`` installs it): ``initdb`` into a
temporary folder, started on a free local port, stopped and removed afterwards; no system service
is involved. PostgreSQL refuses to run as root, so under root the cluster belongs to the
``postgres`` user the package creates.
"""

from __future__ import annotations

import contextlib
import glob
import io
import math
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import yaml

__all__ = ["SMALL_SPARK", "postgres_binaries", "postgres_server", "copy_table", "params_on", "compare_exports",
           "write_demo_files", "spark_against_duckdb", "SPARK_ON_CATALOG", "SPARK_ON_FILES"]

#: PySpark sized for the tests' logs of a few thousand rows, where a query's planning and the
#: JVM's own compiling cost more than running it: one core, two shuffle partitions, no
#: whole-stage code generation or adaptive re-planning, and the JVM's quick (C1) compiler alone
#: with a serial collector (measured: a kernel's load on the 400-user demo 24.4 s -> 18.9 s)
SMALL_SPARK = {"master": "local[1]", "config": {
    "spark.sql.shuffle.partitions": "2", "spark.sql.codegen.wholeStage": "false", "spark.sql.adaptive.enabled": "false",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}}

#: The reports the Spark end-to-end tests run, split in two so that both kinds of Spark source run
#: at once on CI's two workers: a persistent catalog admits one JVM, so its kernels take turns
#: (tests/data/test_spark_run.py), while files Spark reads itself run two kernels at a time
#: (tests/data/test_spark_run_files.py). Together: every report.
SPARK_ON_CATALOG = ("overview", "ladder")
SPARK_ON_FILES = ("stickiness", "key_behaviors", "lifecycle")


def postgres_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: on PATH, else Debian's versioned folder."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    return Path(folders[-1]) if folders and Path(folders[-1], "initdb").exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_server(settings: dict[str, str] | None = None) -> Iterator[str]:
    """A running PostgreSQL cluster for the block; yields its URL (user ``rk``, trust auth).
    ``settings`` are server settings (``{"work_mem": "256MB"}``)."""
    bin_dir = postgres_binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="rk-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()

    def pg(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, text=True, cwd=root)

    pg(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "rk", "-E", "UTF8", "--no-sync")
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    opts += "".join(f" -c {k}={v}" for k, v in (settings or {}).items())
    pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "server.log"), "-w", "start")
    try:
        yield f"postgres://rk@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, cwd=root)
        shutil.rmtree(root, ignore_errors=True)


def _pg_type(dtype) -> str:
    kind = str(dtype)
    if kind.startswith("datetime64"):
        return "timestamp"
    if kind.startswith(("float", "Float")):
        return "double precision"
    if kind.startswith(("int", "Int", "uint", "UInt")):
        return "bigint"
    if kind == "bool":
        return "boolean"
    return "text"


def copy_table(url: str, name: str, frame: pd.DataFrame) -> None:
    """Create table ``name`` from ``frame`` (typed from its dtypes) with one COPY."""
    import psycopg

    cols = ", ".join(f'"{c}" {_pg_type(t)}' for c, t in frame.dtypes.items())
    buf = io.StringIO()
    frame.to_csv(buf, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S.%f")
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as con, con.cursor() as cur:
        cur.execute(f'DROP TABLE IF EXISTS "{name}"')
        cur.execute(f'CREATE TABLE "{name}" ({cols})')
        with cur.copy(f'COPY "{name}" FROM STDIN WITH (FORMAT csv)') as cp:
            cp.write(buf.getvalue())


def params_on(params_file: Path, target: Path, *, product: str, events: dict, users: dict | None = None) -> Path:
    """A copy of ``params_file`` whose sources are ``events`` (and ``users``) and whose product is
    ``product``; everything else, the analyses' options included, is unchanged."""
    doc = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    doc["product"] = product
    doc["data"]["source"] = events
    if users is not None:
        doc["data"]["users"]["source"] = users
    target.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def _same_cell(a: str, b: str, tol: float) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return math.isclose(x, y, rel_tol=tol, abs_tol=tol) or (math.isnan(x) and math.isnan(y))


def compare_exports(expected: Path, actual: Path, *, tol: float = 1e-9) -> dict[str, str]:
    """Every CSV of ``expected`` against the same file in ``actual``: identical text, or equal
    numbers within ``tol`` where a float is printed. Returns {file: what differs} (empty: equal)."""
    problems: dict[str, str] = {}
    names = sorted(p.name for p in expected.glob("*.csv"))
    missing = sorted(set(names) ^ {p.name for p in actual.glob("*.csv")})
    if missing:
        problems["(files)"] = f"only in one run: {missing}"
    for name in names:
        if not (actual / name).exists():
            continue
        a, b = (expected / name).read_text(encoding="utf-8"), (actual / name).read_text(encoding="utf-8")
        if a == b:
            continue
        ra, rb = a.splitlines(), b.splitlines()
        if len(ra) != len(rb):
            problems[name] = f"{len(ra)} lines against {len(rb)}"
            continue
        for i, (la, lb) in enumerate(zip(ra, rb)):
            ca, cb = next(iter(pd.read_csv(io.StringIO(la), header=None, dtype=str, keep_default_na=False).values)), \
                next(iter(pd.read_csv(io.StringIO(lb), header=None, dtype=str, keep_default_na=False).values))
            if len(ca) != len(cb) or not all(_same_cell(x, y, tol) for x, y in zip(ca, cb)):
                problems[name] = f"line {i + 1}: {la!r} against {lb!r}"
                break
    return problems


def write_demo_files(folder: Path, *, n_users: int = 400) -> None:
    """A demo log of ``n_users`` as ``folder/events.parquet`` and its users as
    ``folder/users.parquet``: the rows both runs of :func:`spark_against_duckdb` read."""
    from retention_kit.data.datasets import make_demo_log, make_demo_users

    make_demo_log(n_users=n_users, seed=7).to_parquet(folder / "events.parquet")
    make_demo_users(n_users=n_users, seed=7).to_parquet(folder / "users.parquet")


def spark_against_duckdb(folder: Path, events: dict, notebooks: tuple[str, ...]) -> dict[str, str]:
    """Run ``notebooks`` on the files of :func:`write_demo_files` in ``folder`` through
    ``retention-kit run`` on DuckDB and on Spark (the users the Parquet file Spark reads itself,
    ``events`` the Spark run's event source); returns :func:`compare_exports` of the two runs'
    CSVs (empty: every CSV equal). Both runs must succeed."""
    from retention_kit.reporting.runner import EXIT_OK, run

    from tests.factories import PARAMS

    on_duck = params_on(PARAMS / "demo.yaml", folder / "duck.yaml", product="demo",
                        events={"path": str(folder / "events.parquet")},
                        users={"path": str(folder / "users.parquet")})
    on_spark = params_on(PARAMS / "demo.yaml", folder / "spark.yaml", product="demo", events=events,
                         users={"backend": "pyspark", "path": str(folder / "users.parquet"), "options": SMALL_SPARK})
    duck = run([on_duck], out=folder / "duck", notebooks=list(notebooks), jobs=2, progress=False)
    spark = run([on_spark], out=folder / "spark", notebooks=list(notebooks), jobs=2, progress=False)
    assert duck.exit_code == EXIT_OK
    assert spark.exit_code == EXIT_OK, [(s.notebook, s.message) for s in spark.statuses if s.status != "ok"]
    assert sorted(s.notebook for s in spark.statuses) == sorted(notebooks)
    return compare_exports(folder / "duck" / "demo" / "data", folder / "spark" / "demo" / "data")
