"""Every report on a real PostgreSQL server, from YAML alone: the demo log and the shared Stack
Exchange log are copied into a throwaway cluster (tests/warehouse.py), the params point ``data.source``
at it with ``{url, table}``, and every CSV export must equal the DuckDB run's.

Skips where PostgreSQL or its driver is missing, unless ``RK_REQUIRE_WAREHOUSES=1`` (CI sets it,
so a broken install fails instead of skipping).
"""

from __future__ import annotations

import importlib.util
import os

import pandas as pd
import pytest

from retention_kit import load_params
from retention_kit.data.datasets import make_demo_log, make_demo_users
from retention_kit.reporting.runner import EXIT_OK, run

from tests.factories import PARAMS, SHARED
from tests.warehouse import compare_exports, copy_table, params_on, postgres_binaries, postgres_server

pytestmark = pytest.mark.slow


def _unavailable() -> str | None:
    if postgres_binaries() is None:
        return "PostgreSQL is not installed (apt-get install postgresql)"
    if importlib.util.find_spec("psycopg") is None:
        return "the PostgreSQL driver is not installed (pip install '.[postgres]')"
    return None


@pytest.fixture(scope="module")
def postgres_url():
    why = _unavailable()
    if why:
        if os.environ.get("RK_REQUIRE_WAREHOUSES") == "1":
            pytest.fail(why)
        pytest.skip(why)
    with postgres_server() as url:
        yield url


def _csv(path, time_columns):
    # read by pandas, not by the kit, so the server holds what the file says
    return pd.read_csv(path, parse_dates=time_columns)


def test_postgres_runs_every_report_with_the_duckdb_exports(postgres_url, reference_run, tmp_path):
    ref_res, ref_out = reference_run
    assert ref_res.exit_code == EXIT_OK
    demo = load_params(PARAMS / "demo.yaml").data.source.demo
    copy_table(postgres_url, "demo_events", make_demo_log(**demo))
    copy_table(postgres_url, "demo_users", make_demo_users(**demo))
    se = SHARED / "stackexchange_martialarts"
    copy_table(postgres_url, "se_events", _csv(se / "events.csv.gz", ["timestamp"]))
    copy_table(postgres_url, "se_users", _csv(se / "users.csv.gz", ["created_at", "last_access_at"]))

    def on_pg(table):
        return {"url": postgres_url, "table": table}

    products = {
        "demo": params_on(PARAMS / "demo.yaml", tmp_path / "demo.yaml", product="demo",
                          events=on_pg("demo_events"), users=on_pg("demo_users")),
        "stackexchange_martialarts": params_on(
            PARAMS / "stackexchange_martialarts.yaml", tmp_path / "se.yaml", product="stackexchange_martialarts",
            events=on_pg("se_events"), users=on_pg("se_users")),
    }
    res = run(list(products.values()), out=tmp_path / "out", jobs=2, progress=False)
    assert res.exit_code == EXIT_OK, [(s.product, s.notebook, s.message) for s in res.statuses if s.status != "ok"]
    differ = {p: compare_exports(ref_out / p / "data", tmp_path / "out" / p / "data") for p in products}
    assert not any(differ.values()), differ
    # every page rendered
    assert all((tmp_path / "out" / p / f"{nb}.html").exists() for p in products
               for nb in ("overview", "stickiness", "key_behaviors", "ladder", "lifecycle"))


def test_breakdowns_and_filters_on_postgres_equal_duckdb(postgres_url):
    # issue 13's queries (the segment as a group-by key, property filters bound as literals) are
    # SQL that DuckDB accepts: the same tables from a PostgreSQL table
    import numpy as np

    from retention_kit import load_events
    from retention_kit.analyses import key_behaviors, ladder, stickiness
    from retention_kit.analyses.segments import segments
    from retention_kit.data.params import BreakdownParams

    from tests.factories import make_params

    df = make_demo_log(300, seed=9, days=100).drop(columns=["revenue"])
    copy_table(postgres_url, "seg_events", df)
    cohort = {"name": "invited_3", "when": {"event": "invite_friend", "min": 3}, "window_days": 7}
    kw = dict(exclude_events=["push_sent"], properties=["platform"], ladder={"period": "week"})
    duck = load_events(make_params(**kw), source=df)
    pg = load_events(make_params(**kw, source={"url": postgres_url, "table": "seg_events"}))
    mobile = {"event": "save_note", "where": {"platform": ["ios", "android"]}}

    def same(a, b):
        a, b = a.reset_index(drop=True), b.reset_index(drop=True)
        assert list(a.columns) == list(b.columns) and len(a) == len(b)
        for c in a.columns:
            if pd.api.types.is_numeric_dtype(a[c]) and pd.api.types.is_numeric_dtype(b[c]):
                np.testing.assert_allclose(a[c].astype(float), b[c].astype(float), rtol=1e-9, equal_nan=True, err_msg=c)
            else:
                assert a[c].astype(str).tolist() == b[c].astype(str).tolist(), c

    lp = make_params(**kw).ladder
    for by in ("invited_3", "first.platform"):
        b = BreakdownParams(by=by, cohorts=[cohort])
        sd, sp = segments(duck, b), segments(pg, b)
        assert sd.sizes == sp.sizes
        same(stickiness.cohort_retention(duck, granularity="week", by=sd), stickiness.cohort_retention(pg, granularity="week", by=sp))
        same(stickiness.active_users(duck, by=sd), stickiness.active_users(pg, by=sp))
        same(ladder.transitions(duck, ladder=lp, by=sd), ladder.transitions(pg, ladder=lp, by=sp))
    same(stickiness.cohort_retention(duck, granularity="week", start_event=[mobile], return_event=[mobile]),
         stickiness.cohort_retention(pg, granularity="week", start_event=[mobile], return_event=[mobile]))
    a, _ = key_behaviors.candidate_stats(duck, max_threshold=3, candidates=[mobile])
    c, _ = key_behaviors.candidate_stats(pg, max_threshold=3, candidates=[mobile])
    same(a.sort_values(["split", "event", "threshold"]), c.sort_values(["split", "event", "threshold"]))
