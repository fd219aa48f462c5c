"""Reports through ``retention-kit run`` on Spark, from YAML alone, with every CSV export equal
to the DuckDB run on the same rows: here Spark reads the events' Parquet files itself
(``{backend: pyspark, path: events.parquet}``), two kernels at a time, each with its own Spark
session. tests/data/test_spark_run.py runs the other reports on a persistent catalog."""

from __future__ import annotations

import pytest

pytest.importorskip("pyspark")

from tests.warehouse import SMALL_SPARK, SPARK_ON_FILES, spark_against_duckdb, write_demo_files  # noqa: E402

pytestmark = pytest.mark.slow


def test_spark_files_run_reports_with_the_duckdb_exports(tmp_path):
    write_demo_files(tmp_path)
    events = {"backend": "pyspark", "path": str(tmp_path / "events.parquet"), "options": SMALL_SPARK}
    assert spark_against_duckdb(tmp_path, events, SPARK_ON_FILES) == {}
