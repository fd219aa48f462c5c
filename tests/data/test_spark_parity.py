"""The same analyses on DuckDB and on PySpark (local mode) give the same tables.

Needs the spark extra (`pip install -e ".[spark]"`) and Java 17; CI installs both. Skipped
where pyspark is missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")

from retention_kit import load_events  # noqa: E402
from retention_kit.analyses import key_behaviors, ladder, lifecycle, overview, stickiness  # noqa: E402
from retention_kit.data.backends import spark_session  # noqa: E402
from retention_kit.data.params import params_from_dict  # noqa: E402
from retention_kit.data.datasets import make_demo_log  # noqa: E402

from tests.factories import make_params  # noqa: E402
from tests.warehouse import SMALL_SPARK  # noqa: E402

pytestmark = pytest.mark.slow

LADDER = {"period": "week", "rungs": [
    {"name": "Visitor", "when": {"active_days": 1}},
    {"name": "Saver", "when": {"event": "save_note", "min": 1}},
    {"name": "Creator", "when": {"all": [{"event": "create_note", "min": 2}, {"active_days": 2}]}},
    {"name": "Sharer", "when": {"event": "share", "min": 1}},
]}


@pytest.fixture(scope="module")
def logs():
    df = make_demo_log(400, seed=5, days=120).drop(columns=["revenue"])
    params = make_params(product="parity", exclude_events=["push_sent"], ladder=LADDER, properties=["platform"])
    duck = load_events(params, source=df)
    spark = spark_session(SMALL_SPARK)
    import ibis

    con = ibis.pyspark.connect(spark)
    table = con.create_table("parity_events", df, overwrite=True)
    yield params, duck, load_events(params, source=table)
    con.drop_table("parity_events", force=True)


def _same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> None:
    a = a.sort_values(keys, kind="stable").reset_index(drop=True)
    b = b.sort_values(keys, kind="stable").reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for c in a.columns:
        x, y = a[c], b[c]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            np.testing.assert_allclose(x.astype(float), y.astype(float), rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=c)
        else:
            assert x.astype(str).tolist() == y.astype(str).tolist(), c


def test_quality_counts_agree(logs):
    _, duck, spark = logs
    assert duck.quality == spark.quality


def test_stickiness_tables_agree(logs):
    _, duck, spark = logs
    _same(stickiness.active_users(duck), stickiness.active_users(spark), ["date"])
    _same(stickiness.power_user_curve(duck), stickiness.power_user_curve(spark), ["month", "active_days"])
    _same(stickiness.trailing_activity(duck, days=[7, 28, 45]), stickiness.trailing_activity(spark, days=[7, 28, 45]),
          ["days", "active_days"])
    for g in ("day", "week", "month"):
        _same(stickiness.growth_accounting(duck, granularity=g), stickiness.growth_accounting(spark, granularity=g), ["period"])
        opts = {"latest_cohorts": 30, "max_period": 20} if g == "day" else {}
        _same(stickiness.cohort_retention(duck, granularity=g, **opts), stickiness.cohort_retention(spark, granularity=g, **opts),
              ["mode", "cohort", "period"])


#: Issue 12's options: recurring cohorts from one event to another, and brackets.
TERMS = {"cohort_type": "recurring", "start_event": ["create_note"], "return_event": ["share", "save_note"]}


def test_retention_terms_agree(logs):
    _, duck, spark = logs
    for g, opts in (("day", {"latest_cohorts": 30, "max_period": 14}), ("week", {}), ("month", {})):
        for terms in (TERMS, {"start_event": ["create_note"], "return_event": ["share"]}):
            _same(stickiness.cohort_retention(duck, granularity=g, **terms, **opts),
                  stickiness.cohort_retention(spark, granularity=g, **terms, **opts), ["mode", "cohort", "period"])
    spans = [(1, 1), (2, 7), (8, 14)]
    for g, latest in (("day", 60), ("week", None)):
        for terms in ({}, TERMS):
            _same(stickiness.retention_brackets(duck, brackets=spans, granularity=g, latest_cohorts=latest, **terms),
                  stickiness.retention_brackets(spark, brackets=spans, granularity=g, latest_cohorts=latest, **terms),
                  ["cohort", "first_day"])


def test_key_behavior_tables_agree(logs):
    _, duck, spark = logs
    a, na = key_behaviors.candidate_stats(duck, max_threshold=5)
    b, nb = key_behaviors.candidate_stats(spark, max_threshold=5)
    assert na == nb
    _same(a, b, ["split", "event", "threshold"])


def test_ladder_tables_agree(logs):
    params, duck, spark = logs
    lp = params.ladder
    _same(ladder.composition(duck, ladder=lp), ladder.composition(spark, ladder=lp), ["period", "scope", "rung_order"])
    _same(ladder.cohorts(duck, ladder=lp), ladder.cohorts(spark, ladder=lp), ["cohort", "age", "rung_order"])
    _same(ladder.transitions(duck, ladder=lp), ladder.transitions(spark, ladder=lp), ["from_rung", "to_rung"])
    _same(ladder.validation(duck, ladder=lp), ladder.validation(spark, ladder=lp), ["rung_order"])


def test_params_can_name_the_pyspark_backend(logs):
    # the source as a user writes it in the YAML: {backend: pyspark, table: ...}; the kit opens
    # (here: joins) the Spark session and reads the same table the fixture registered
    params, duck, _ = logs
    raw = params.model_dump(mode="json", exclude={"base_dir"})
    raw["data"]["source"] = {"backend": "pyspark", "table": "parity_events", "options": SMALL_SPARK}
    via_params = load_events(params_from_dict(raw))
    assert via_params.quality == duck.quality
    _same(stickiness.active_users(via_params), stickiness.active_users(duck), ["date"])


@pytest.fixture(scope="module")
def money_logs():
    """The demo with its revenue and purchase events, for the lifecycle and value tables."""
    df = make_demo_log(400, seed=6, days=150)
    params = make_params(product="parity_money", exclude_events=["push_sent"], revenue="revenue",
                         purchase_events=["purchase", "refund"])
    duck = load_events(params, source=df)
    import ibis

    con = ibis.pyspark.connect(spark_session(SMALL_SPARK))
    table = con.create_table("parity_money", df, overwrite=True)
    yield duck, load_events(params, source=table)
    con.drop_table("parity_money", force=True)


def _keys(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if not pd.api.types.is_float_dtype(df[c])]


def test_overview_tables_agree(money_logs):
    duck, spark = money_logs
    _same(overview.event_types(duck), overview.event_types(spark), ["event"])
    a, b = overview.events_per_day(duck), overview.events_per_day(spark)
    _same(a, b, _keys(a))
    assert overview.duplicate_rows(duck) == overview.duplicate_rows(spark)
    assert duck.quality == spark.quality


def test_lifecycle_and_value_tables_agree(money_logs):
    duck, spark = money_logs
    thr = lifecycle.thresholds(duck)
    assert lifecycle.thresholds(spark) == thr
    for fn in (lifecycle.snapshots, lifecycle.flows):
        a, b = fn(duck, thresholds=thr), fn(spark, thresholds=thr)
        _same(a, b, _keys(a))
    a, b = lifecycle.at_risk_summary(duck, thresholds=thr), lifecycle.at_risk_summary(spark, thresholds=thr)
    _same(a, b, _keys(a))
    a, b = lifecycle.at_risk_users(duck, thresholds=thr), lifecycle.at_risk_users(spark, thresholds=thr)
    _same(a, b, _keys(a))
    for g in ("week", "month"):
        for fn in (lifecycle.value_by_period, lifecycle.cohort_revenue):
            a, b = fn(duck, granularity=g), fn(spark, granularity=g)
            _same(a, b, _keys(a))
    for fn in (lifecycle.repurchase, lifecycle.repurchase_trend):
        a, b = fn(duck), fn(spark)
        _same(a, b, _keys(a))


#: Issue 13's filters: only the events whose properties pass count.
MOBILE = {"event": "save_note", "where": {"platform": ["ios", "android"]}}


def test_breakdowns_and_filters_agree(logs):
    # kept small (Spark's queries cost seconds each): the keyed tables of both segment kinds that
    # read other tables than the daily one (starts, the rung table, the event rows' properties);
    # PostgreSQL checks the rest of the SQL (tests/data/test_postgres.py)
    from retention_kit.analyses.segments import segments
    from retention_kit.data.params import BreakdownParams

    params, duck, spark = logs
    cohort = {"name": "invited_3", "when": {"event": "invite_friend", "min": 3}, "window_days": 7}
    for by in ("invited_3", "first.platform"):
        b = BreakdownParams(by=by, cohorts=[cohort])
        sd, ss = segments(duck, b), segments(spark, b)
        assert sd.sizes == ss.sizes
        _same(stickiness.cohort_retention(duck, granularity="week", by=sd),
              stickiness.cohort_retention(spark, granularity="week", by=ss), ["segment", "mode", "cohort", "period"])
    _same(ladder.composition(duck, ladder=params.ladder, by=sd), ladder.composition(spark, ladder=params.ladder, by=ss),
          ["segment", "period", "scope", "rung_order"])
    _same(stickiness.cohort_retention(duck, granularity="week", start_event=[MOBILE], return_event=["app_open", MOBILE]),
          stickiness.cohort_retention(spark, granularity="week", start_event=[MOBILE], return_event=["app_open", MOBILE]),
          ["mode", "cohort", "period"])
