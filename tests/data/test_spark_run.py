"""Reports through ``retention-kit run`` on Spark, from YAML alone, with every CSV export equal
to the DuckDB run on the same rows: here the events are a table of a persistent local catalog.

The product reads both kinds of Spark source: its events are a table of a persistent local
catalog (``{backend: pyspark, table: demo_events, options: {catalog: ...}}``, saved there by
another Spark process beforehand, as a team's pipeline would), its users are Parquet files that
Spark reads itself (``{backend: pyspark, path: users.parquet}``). Each kernel starts its own Spark
session (a JVM), and a catalog admits one at a time, so two reports run here, one after the
other; tests/data/test_spark_run_files.py runs the other three with the events as files Spark
reads, two kernels at a time.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("pyspark")

from retention_kit.reporting.runner import available_notebooks  # noqa: E402

from tests.warehouse import (SMALL_SPARK, SPARK_ON_CATALOG, SPARK_ON_FILES, spark_against_duckdb,  # noqa: E402
                             write_demo_files)

pytestmark = pytest.mark.slow

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


def test_the_two_spark_runs_cover_every_report():
    assert sorted(SPARK_ON_CATALOG + SPARK_ON_FILES) == sorted(available_notebooks())


def test_spark_catalog_runs_reports_with_the_duckdb_exports(tmp_path):
    write_demo_files(tmp_path)
    catalog = tmp_path / "spark-catalog"
    _save_table(catalog, tmp_path / "events.parquet", "demo_events")
    assert (catalog / "metastore_db").is_dir() and (catalog / "warehouse" / "demo_events").is_dir()
    # the catalog is named relative to the params file, as a team's YAML would; jobs=2, yet the
    # runner runs a catalog's kernels one at a time (one Derby metastore)
    events = {"backend": "pyspark", "table": "demo_events", "options": {**SPARK, "catalog": "spark-catalog"}}
    assert spark_against_duckdb(tmp_path, events, SPARK_ON_CATALOG) == {}
    # Derby's own files stay in the catalog folder, not in the folder the run started in
    assert not any(p.name == "derby.log" for p in tmp_path.glob("*"))
