"""Every report through ``retention-kit run`` on Spark, from YAML alone, with every CSV export
equal to the DuckDB run on the same rows.

The product reads both kinds of Spark source: its events are a table of a persistent local
catalog (``{backend: pyspark, table: demo_events, options: {catalog: ...}}``, saved there by
another Spark process beforehand, as a team's pipeline would), its users are Parquet files that
Spark reads itself (``{backend: pyspark, path: users.parquet}``). Each kernel starts its own Spark
session (a JVM), so the run costs minutes even on a small log: the log is sized for CI.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("pyspark")

from retention_kit.data.datasets import make_demo_log, make_demo_users  # noqa: E402
from retention_kit.reporting.runner import EXIT_OK, run  # noqa: E402

from tests.factories import PARAMS  # noqa: E402
from tests.warehouse import SMALL_SPARK, compare_exports, params_on  # noqa: E402

pytestmark = pytest.mark.slow

N_USERS = 400
SPARK = SMALL_SPARK


def _save_table(catalog, parquet, table) -> None:
    """Save a table into the catalog from another process, as a pipeline outside the kit would
    (that process's JVM, and its hold on the catalog's metastore, ends with it)."""
    code = textwrap.dedent(f"""
        from retention_kit.data.backends import spark_session
        spark = spark_session({{**{SPARK!r}, "catalog": {str(catalog)!r}}})
        spark.read.parquet({str(parquet)!r}).write.saveAsTable({table!r})
        spark.stop()
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]


def test_spark_runs_every_report_with_the_duckdb_exports(tmp_path):
    make_demo_log(n_users=N_USERS, seed=7).to_parquet(tmp_path / "events.parquet")
    make_demo_users(n_users=N_USERS, seed=7).to_parquet(tmp_path / "users.parquet")
    catalog = tmp_path / "spark-catalog"
    _save_table(catalog, tmp_path / "events.parquet", "demo_events")
    assert (catalog / "metastore_db").is_dir() and (catalog / "warehouse" / "demo_events").is_dir()

    on_duck = params_on(PARAMS / "demo.yaml", tmp_path / "duck.yaml", product="demo",
                        events={"path": str(tmp_path / "events.parquet")},
                        users={"path": str(tmp_path / "users.parquet")})
    # the catalog is named relative to the params file, as a team's YAML would
    on_spark = params_on(PARAMS / "demo.yaml", tmp_path / "spark.yaml", product="demo",
                         events={"backend": "pyspark", "table": "demo_events",
                                 "options": {**SPARK, "catalog": "spark-catalog"}},
                         users={"backend": "pyspark", "path": str(tmp_path / "users.parquet"), "options": SPARK})
    duck = run([on_duck], out=tmp_path / "duck", jobs=2, progress=False)
    # jobs=2: the runner itself runs a catalog's kernels one at a time (one Derby metastore)
    spark = run([on_spark], out=tmp_path / "spark", jobs=2, progress=False)
    assert duck.exit_code == EXIT_OK
    assert spark.exit_code == EXIT_OK, [(s.notebook, s.message) for s in spark.statuses if s.status != "ok"]
    assert len(spark.statuses) == 5
    assert compare_exports(tmp_path / "duck" / "demo" / "data", tmp_path / "spark" / "demo" / "data") == {}
    # Derby's own files stay in the catalog folder, not in the folder the run started in
    assert not any(p.name == "derby.log" for p in tmp_path.glob("*"))
