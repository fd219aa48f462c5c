"""Every report through ``retention-kit run`` on Spark, from YAML alone: ``{backend: pyspark,
path: <parquet>}`` (each kernel's session reads the files itself), with every CSV export equal to
the DuckDB run on the same file.

A Spark run costs several minutes even on a small log (a few hundred queries at Spark's
per-query latency, a JVM per kernel), beyond CI's budget, so this test runs only with
``RK_SPARK_RUN=1``; CI runs the per-function parity test (test_spark_parity.py) instead.
"""

from __future__ import annotations

import os

import pytest

pytest.importorskip("pyspark")

from retention_kit.data.datasets import make_demo_log, make_demo_users  # noqa: E402
from retention_kit.reporting.runner import EXIT_OK, run  # noqa: E402

from tests.factories import PARAMS  # noqa: E402
from tests.warehouse import compare_exports, params_on  # noqa: E402

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.environ.get("RK_SPARK_RUN") != "1",
                                 reason="a Spark run takes minutes: set RK_SPARK_RUN=1")]


def test_spark_runs_every_report_with_the_duckdb_exports(tmp_path):
    make_demo_log(n_users=600, seed=7).to_parquet(tmp_path / "events.parquet")
    make_demo_users(n_users=600, seed=7).to_parquet(tmp_path / "users.parquet")
    on_duck = params_on(PARAMS / "demo.yaml", tmp_path / "duck.yaml", product="demo",
                        events={"path": str(tmp_path / "events.parquet")},
                        users={"path": str(tmp_path / "users.parquet")})
    spark_opts = {"master": "local[1]", "config": {"spark.sql.shuffle.partitions": "2"}}
    on_spark = params_on(PARAMS / "demo.yaml", tmp_path / "spark.yaml", product="demo",
                         events={"backend": "pyspark", "path": str(tmp_path / "events.parquet"), "options": spark_opts},
                         users={"backend": "pyspark", "path": str(tmp_path / "users.parquet"), "options": spark_opts})
    duck = run([on_duck], out=tmp_path / "duck", jobs=2, progress=False)
    spark = run([on_spark], out=tmp_path / "spark", jobs=2, progress=False)
    assert duck.exit_code == spark.exit_code == EXIT_OK, [(s.notebook, s.message) for s in spark.statuses if s.status != "ok"]
    assert compare_exports(tmp_path / "duck" / "demo" / "data", tmp_path / "spark" / "demo" / "data") == {}
