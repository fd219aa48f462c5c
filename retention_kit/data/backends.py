"""Connections to engines other than the embedded DuckDB, for ``data.source`` mappings with
``url`` or ``backend``. The analyses are plain Ibis expressions, so the same code runs there;
this module only knows how to open each backend.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis

from .params import Params, SourceSpec

__all__ = ["catalog_folders", "connect_source", "spark_session"]


def spark_session(options: dict[str, Any] | None = None, *, timezone: str = "UTC") -> Any:
    """A (local, by default) SparkSession for Ibis's PySpark backend.

    ``options`` may hold ``master`` (default ``local[2]``), ``app_name``, ``config`` (Spark
    settings) and ``catalog``: a folder holding a persistent local catalog (Spark's Hive
    catalog, its metastore an embedded Derby database in ``<catalog>/metastore_db`` and its
    tables' files in ``<catalog>/warehouse``), so ``{backend: pyspark, table: events}`` finds a
    table saved there by an earlier session. Without ``catalog`` the session's catalog lives in
    memory and tables are scratch. The session time zone is the product's, so naive timestamps
    mean local time.

    An embedded Derby metastore admits one process at a time: the runner runs a product on such
    a catalog one notebook at a time (:func:`catalog_folders`).
    """
    from pyspark.sql import SparkSession

    opts = dict(options or {})
    builder = SparkSession.builder.master(opts.pop("master", "local[2]")).appName(opts.pop("app_name", "retention-kit"))
    import tempfile

    # tables the kit creates (tests, frames) go to a scratch warehouse, not the working directory
    # no console progress bars: a run's console is the kit's progress lines, and its log
    conf = {"spark.sql.session.timeZone": timezone, "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": "8", "spark.sql.warehouse.dir": tempfile.mkdtemp(prefix="rk-spark-")}
    catalog = opts.pop("catalog", None)
    if catalog is not None:
        folder = Path(catalog).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        # derby.system.home keeps Derby's own files (derby.log) in the catalog folder, not in
        # the folder the run started in; the runner finds a catalog's JVMs by this flag
        conf |= {"spark.sql.catalogImplementation": "hive",
                 "spark.sql.warehouse.dir": str(folder / "warehouse"),
                 "spark.hadoop.javax.jdo.option.ConnectionURL":
                     f"jdbc:derby:;databaseName={folder / 'metastore_db'};create=true",
                 "spark.driver.extraJavaOptions": f"{DERBY_HOME_FLAG}{folder}"}
    user = dict(opts.pop("config", {}))
    java = "spark.driver.extraJavaOptions"
    if catalog is not None and java in user:  # the user's JVM options, and the catalog's flag too
        user[java] = f"{user[java]} {conf[java]}"
    conf |= user
    for k, v in conf.items():
        builder = builder.config(k, str(v))
    if opts:
        raise ValueError(f"unknown pyspark options: {', '.join(sorted(opts))} (use master, app_name, config, catalog)")
    session = builder.getOrCreate()
    # Spark's own advice (e.g. "No Partition Defined for Window operation") is for Spark
    # developers; errors still surface as exceptions
    session.sparkContext.setLogLevel("ERROR")
    return session


#: the JVM flag that names a catalog folder (see :func:`spark_session`)
DERBY_HOME_FLAG = "-Dderby.system.home="


def catalog_folders(params: Params) -> set[str]:
    """The persistent Spark catalog folders (``options.catalog``) a product's sources open,
    resolved against the params file's folder."""
    specs = [params.data.source, params.data.users.source if params.data.users else None]
    return {params.resolve(str(s.options["catalog"])) for s in specs
            if isinstance(s, SourceSpec) and s.backend == "pyspark" and s.options.get("catalog")}


#: one connection per server and options: the events and users tables of a product must share it,
#: because the tables the load caches on a server (temporary tables) exist only in the
#: connection that made them
_CONNECTIONS: dict[tuple[str, str], Any] = {}


def connect_source(spec: SourceSpec, *, timezone: str = "UTC") -> Any:
    """Open the backend a ``url`` or ``backend`` source names; returns the Ibis connection (the
    same one for every source of the same ``url`` and ``options``)."""
    if spec.url:
        key = (spec.url, json.dumps(spec.options, sort_keys=True, default=str))
        if key not in _CONNECTIONS:
            _CONNECTIONS[key] = ibis.connect(spec.url, **spec.options)
        return _CONNECTIONS[key]
    if spec.backend == "pyspark":
        return ibis.pyspark.connect(spark_session(spec.options, timezone=timezone))
    return getattr(ibis, str(spec.backend)).connect(**spec.options)
