"""Value metrics on a tiny hand-worked ledger with a refund: ARPU, ARPPU, purchase frequency,
repurchase eligibility, revenue retention and cumulative revenue per user by cohort."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from retention_kit.data import fetch
from retention_kit.errors import NotEnoughDataError
from retention_kit.analyses.lifecycle import (
    cohort_revenue,
    has_revenue,
    purchase_days,
    repurchase,
    repurchase_trend,
    value_by_period,
)

from tests.factories import REVENUE_COLUMNS, events, load, make_params

# The ledger (every event counts as activity; the data ends on 2024-04-02, so April is incomplete):
#   A: 01-05 purchase 10, 01-20 purchase 20, 02-10 refund -5, 03-01 app_open
#   B: 01-10 app_open, 02-15 purchase 30
#   C: 02-01 app_open, 02-02 app_open
#   D: 03-10 purchase 50 and purchase 5 (same day: one purchase)
#   E: 04-02 app_open
LEDGER = [
    ("A", "2024-01-05", "purchase", 10.0), ("A", "2024-01-20", "purchase", 20.0),
    ("A", "2024-02-10", "refund", -5.0), ("A", "2024-03-01", "app_open", np.nan),
    ("B", "2024-01-10", "app_open", np.nan), ("B", "2024-02-15", "purchase", 30.0),
    ("C", "2024-02-01", "app_open", np.nan), ("C", "2024-02-02", "app_open", np.nan),
    ("D", "2024-03-10", "purchase", 50.0), ("D", "2024-03-10", "purchase", 5.0),
    ("E", "2024-04-02", "app_open", np.nan),
]


# The ledger starts on Friday 01-05, so January (and the week of 01-01) is a partial first period.
# FULL_JAN adds a user S, active on Monday 01-01 only and without revenue, so January and the week
# of 01-01 are complete (the range of activity analyses starts on the first day of activity: a
# non-activity row on 01-01 would not do), and SIGNUPS gives each user but S a users-table signup
# on their first active day (the same cohorts, but known to be new: no left-censoring; S, missing
# from the users table, starts on its first active day).
FULL_JAN = [("S", "2024-01-01", "app_open", np.nan), *LEDGER]
SIGNUPS = pd.DataFrame({"user_id": list("ABCDE"),
                        "signup_time": ["2024-01-05 10:00", "2024-01-10 10:00", "2024-02-01 10:00",
                                        "2024-03-10 10:00", "2024-04-02 10:00"]})
SIGNUPS_SECTION = {"source": "(given)", "signup_time": "signup_time"}
# The logs are these rows at 10:00 UTC (events(rows, columns=REVENUE_COLUMNS, hour=10)), with
# revenue in the "revenue" column and, unless a test says otherwise, these purchase events:
MONEY = {"revenue": "revenue", "purchase_events": ["purchase", "refund"]}


def test_purchases_exclude_refunds_and_count_a_day_once():
    lg = load(events(LEDGER, columns=REVENUE_COLUMNS, hour=10), **MONEY)
    p = fetch(lg.original_ids(purchase_days(lg)), sort=["user_id", "day"])
    assert list(zip(p["user_id"], p["day"].dt.strftime("%Y-%m-%d"), p["purchase_revenue"])) == [
        ("A", "2024-01-05", 10.0), ("A", "2024-01-20", 20.0), ("B", "2024-02-15", 30.0), ("D", "2024-03-10", 55.0)]
    # without purchase_events, events with revenue are purchase events: the refund is negative so
    # still not a purchase, and the result is the same
    lg = load(events(LEDGER, columns=REVENUE_COLUMNS, hour=10), revenue="revenue", purchase_events=None)
    q = fetch(lg.original_ids(purchase_days(lg)), sort=["user_id", "day"])
    assert len(q) == 4


def test_partial_first_month_is_empty():
    # the plain ledger starts on 01-05: January is not entirely within the data, so it is empty
    # like the running April, never a (too small) number
    log = load(events(LEDGER, columns=REVENUE_COLUMNS, hour=10), **MONEY)
    v = value_by_period(log, granularity="month").set_index("period")
    jan = v.loc[pd.Timestamp("2024-01-01")]
    assert not jan["complete"] and pd.isna(jan["active_users"]) and math.isnan(jan["revenue"])
    assert v["complete"].tolist() == [False, True, True, False]
    # weekly: the week of Mon 01-01 holds only 01-05..01-07 of the data
    log = load(events(LEDGER, columns=REVENUE_COLUMNS, hour=10), **MONEY)
    w = value_by_period(log, granularity="week").set_index("period")
    assert not w.loc[pd.Timestamp("2024-01-01"), "complete"] and w.loc[pd.Timestamp("2024-01-08"), "complete"]


def test_value_by_month():
    # (updated: runs on the ledger with a complete January; on the plain ledger January is partial)
    log = load(events(FULL_JAN, columns=REVENUE_COLUMNS, hour=10), **MONEY)
    v = value_by_period(log, granularity="month").set_index("period")
    jan, feb, mar, apr = (v.loc[pd.Timestamp(f"2024-{m:02d}-01")] for m in (1, 2, 3, 4))
    # Jan: active A, B, S; revenue 10 + 20 = 30; paying A; purchases 2 (two days)
    #      ARPU 30 / 3 = 10, ARPPU 30 / 1 = 30, frequency 2 / 1 = 2
    assert (jan["active_users"], jan["paying_users"], jan["purchases"]) == (3, 1, 2)
    assert (jan["revenue"], jan["arpu"], jan["arppu"], jan["purchase_frequency"]) == (30, 10, 30, 2)
    # Feb: active A (refund), B, C; revenue 30 - 5 = 25; paying B only (a refund is no purchase)
    #      ARPU 25 / 3, ARPPU 25 / 1
    assert (feb["active_users"], feb["paying_users"], feb["purchases"]) == (3, 1, 1)
    assert feb["revenue"] == 25 and feb["arpu"] == pytest.approx(25 / 3) and feb["arppu"] == 25
    # Mar: active A, D; revenue 55; paying D with one purchase day: ARPU 27.5, ARPPU 55
    assert (mar["active_users"], mar["paying_users"], mar["purchases"]) == (2, 1, 1)
    assert (mar["arpu"], mar["arppu"], mar["purchase_frequency"]) == (27.5, 55, 1)
    # Apr: still running on the last day (04-02): empty, not zero
    assert not apr["complete"] and pd.isna(apr["active_users"]) and math.isnan(apr["revenue"]) and math.isnan(apr["arpu"])
    assert list(v["granularity"].unique()) == ["month"]


def test_value_by_week_fills_quiet_weeks_with_zero():
    # weeks start Monday; 2024-01-01 is a Monday. Week of 01-22 has no event at all: 0 users, 0
    # revenue, ratios empty (complete week, so not blank counts)
    log = load(events(LEDGER, columns=REVENUE_COLUMNS, hour=10), **MONEY)
    v = value_by_period(log, granularity="week").set_index("period")
    quiet = v.loc[pd.Timestamp("2024-01-22")]
    assert (quiet["active_users"], quiet["revenue"]) == (0, 0) and math.isnan(quiet["arpu"])
    # week of 01-15 holds A's purchase of 20 on 01-20 (a Saturday)
    assert v.loc[pd.Timestamp("2024-01-15"), "revenue"] == 20
    # the last week (Mon 04-01 .. Sun 04-07) is incomplete
    assert not v.loc[pd.Timestamp("2024-04-01"), "complete"]


def test_repurchase_eligibility_edges():
    # first purchases: A 01-05 (next purchase 01-20, 15 days later), B 02-15 (none), D 03-10 (none);
    # last day 04-02. Eligible for w when first + w <= 04-02.
    log = load(events(LEDGER, columns=REVENUE_COLUMNS, hour=10), **MONEY)
    r = repurchase(log, windows=[14, 15, 88, 89]).set_index("window_days")
    # w 14: A (01-19), B (02-29), D (03-24) eligible = 3; A's second is 15 days later > 14 -> 0
    assert r.loc[14, ["eligible_buyers", "repurchasers"]].tolist() == [3, 0]
    # w 15: all three (D: 03-25) eligible; A repurchased on day 15 exactly -> 1 of 3
    assert r.loc[15, ["eligible_buyers", "repurchasers"]].tolist() == [3, 1]
    assert r.loc[15, "rate"] == pytest.approx(1 / 3)
    # w 88: 01-05 + 88 days = 04-02, the last day: A just eligible (B, D not) -> 1 of 1
    assert r.loc[88, ["eligible_buyers", "repurchasers", "rate"]].tolist() == [1, 1, 1.0]
    # w 89: nobody observed that long -> rate empty, not 0
    assert r.loc[89, ["eligible_buyers", "repurchasers"]].tolist() == [0, 0] and math.isnan(r.loc[89, "rate"])


def test_repurchase_same_day_second_purchase_does_not_count():
    rows = [("A", "2024-01-01", "purchase", 5.0), ("A", "2024-01-01", "purchase_b", 5.0),
            ("B", "2024-01-01", "purchase", 5.0), ("B", "2024-01-31", "purchase", 5.0),
            ("Z", "2024-06-01", "app_open", np.nan)]
    log = load(events(rows, columns=REVENUE_COLUMNS, hour=10), revenue="revenue",
               purchase_events=["purchase", "purchase_b"])
    r = repurchase(log, windows=[30]).iloc[0]
    # both eligible (01-01 + 30 <= 06-01); A bought twice on one day (one purchase), B again 30 days later
    assert (r["eligible_buyers"], r["repurchasers"], r["rate"]) == (2, 1, 0.5)


def test_repurchase_trend_groups():
    # window 15, span 30: last day 04-02, so eligible first purchases are on or before 03-18:
    # recent = 02-18 .. 03-18 (D 03-10: no repurchase), previous = 01-19 .. 02-17 (B: none);
    # A (01-05) is in neither.
    log = load(events(LEDGER, columns=REVENUE_COLUMNS, hour=10), **MONEY)
    t = repurchase_trend(log, window=15, span_days=30).set_index("cohort")
    assert t.loc["recent", ["eligible_buyers", "repurchasers"]].tolist() == [1, 0]
    assert t.loc["previous", ["eligible_buyers", "repurchasers"]].tolist() == [1, 0]
    assert t.loc["recent", "first_purchase_to"] == pd.Timestamp("2024-03-18")
    assert t.loc["previous", "first_purchase_from"] == pd.Timestamp("2024-01-19")


def test_cohort_revenue_by_month():
    # (updated: on the ledger with a complete January and signups, so the January cohort is new and
    # fully observed; see test_cohort_revenue_leaves_out_censored_cohorts for the plain ledger)
    log = load(events(FULL_JAN, columns=REVENUE_COLUMNS, hour=10), users=SIGNUPS,
               params=make_params(users=SIGNUPS_SECTION, **MONEY))
    c = cohort_revenue(log, granularity="month")
    got = {(r.cohort.strftime("%Y-%m"), r.period): r for r in c.itertuples()}
    # Jan cohort (A, B, S; size 3): k0 30, k1 -5 (A's refund) + 30 (B) = 25, k2 0, k3 April: empty
    jan = [got[("2024-01", k)] for k in range(4)]
    assert [r.cohort_size for r in jan] == [3] * 4
    assert [r.revenue for r in jan[:3]] == [30, 25, 0] and math.isnan(jan[3].revenue)
    # retention: 30/30, 25/30, 0/30, empty
    assert [r.revenue_retention for r in jan[:3]] == pytest.approx([1, 25 / 30, 0])
    assert math.isnan(jan[3].revenue_retention)
    # cumulative per user: 30/3 = 10, 55/3, 55/3, empty
    assert [r.cumulative_revenue_per_user for r in jan[:3]] == pytest.approx([10, 55 / 3, 55 / 3])
    assert math.isnan(jan[3].cumulative_revenue_per_user)
    # Feb cohort (C): no revenue in period 0 -> retention empty throughout; cumulative 0, 0, empty
    feb = [got[("2024-02", k)] for k in range(3)]
    assert all(math.isnan(r.revenue_retention) for r in feb)
    assert [r.cumulative_revenue_per_user for r in feb[:2]] == [0, 0]
    # Mar cohort (D): 55 in period 0; Apr cohort (E): only its empty period 0
    assert got[("2024-03", 0)].revenue == 55 and got[("2024-03", 0)].cumulative_revenue_per_user == 55
    assert math.isnan(got[("2024-04", 0)].revenue) and ("2024-04", 1) not in got
    # no extrapolation: no age beyond the period holding the last day
    assert len(c) == 4 + 3 + 2 + 1


def test_cohort_revenue_leaves_out_censored_cohorts():
    # Plain ledger (from 01-05, no users table): the January cohort holds everyone active when the
    # log began and January is partial: left out. February (C), March (D) and April (E) remain.
    plain = load(events(LEDGER, columns=REVENUE_COLUMNS, hour=10), **MONEY)
    c = cohort_revenue(plain, granularity="month")
    assert sorted(c["cohort"].dt.strftime("%Y-%m").unique()) == ["2024-02", "2024-03", "2024-04"]
    # With a complete January but no users table: January still holds the users already active on
    # 01-01 (S; left-censored), so it is still left out
    full_jan = load(events(FULL_JAN, columns=REVENUE_COLUMNS, hour=10), **MONEY)
    c = cohort_revenue(full_jan, granularity="month")
    assert c["cohort"].min() == pd.Timestamp("2024-02-01")
    # With signups but a partial January (data from 01-05): January's period 0 is not observed
    # in full, so it is left out too
    signups = load(events(LEDGER, columns=REVENUE_COLUMNS, hour=10), users=SIGNUPS,
                   params=make_params(users=SIGNUPS_SECTION, **MONEY))
    c = cohort_revenue(signups, granularity="month")
    assert c["cohort"].min() == pd.Timestamp("2024-02-01")
    # A signup before the data (A on 2023-12-20): its December cohort is left out; its revenue
    # never lands in another cohort. January (B, and S, who is missing from the users table and starts
    # on its first active day): k0 0 (no January revenue), k1 30 (B), k2 0, k3 empty
    early = SIGNUPS.assign(signup_time=["2023-12-20 10:00", *SIGNUPS["signup_time"][1:]])
    log = load(events(FULL_JAN, columns=REVENUE_COLUMNS, hour=10), users=early,
               params=make_params(users=SIGNUPS_SECTION, **MONEY))
    c = cohort_revenue(log, granularity="month")
    assert c["cohort"].min() == pd.Timestamp("2024-01-01")
    jan = c[c["cohort"] == pd.Timestamp("2024-01-01")]
    assert jan["cohort_size"].eq(2).all() and jan["revenue"].tolist()[:3] == [0, 30, 0]
    assert math.isnan(jan["revenue"].iloc[3]) and math.isnan(jan["cumulative_revenue_per_user"].iloc[3])
    assert c["revenue"].sum() == 30 + 55  # B's 30 and D's 55: A's revenue belongs to no listed cohort


def test_cohort_revenue_agrees_with_pandas_on_the_demo():
    # an independent brute force in pandas on a small demo log (weekly cohorts)
    from retention_kit.data.datasets import make_demo_log

    raw = make_demo_log(300, seed=3, days=60)
    raw = raw[raw["event"] != "push_sent"]
    log = load(raw, product="d", **MONEY)
    got = cohort_revenue(log, granularity="week")
    day = raw["timestamp"].dt.normalize()
    week = (day - pd.to_timedelta(day.dt.day_of_week, unit="D"))
    start = week.groupby(raw["user_id"]).transform("min")
    age = ((week - start).dt.days // 7)
    expect = raw.assign(cohort=start, age=age).groupby(["cohort", "age"])["revenue"].sum()
    size = raw.assign(cohort=start).groupby("cohort")["user_id"].nunique()
    complete = got[got["complete"]]
    for r in complete.itertuples():
        assert r.revenue == pytest.approx(expect.get((r.cohort, r.period), 0.0)), (r.cohort, r.period)
        assert r.cohort_size == size[r.cohort]


def test_without_revenue():
    log = load(events(LEDGER, columns=REVENUE_COLUMNS, hour=10))
    assert not has_revenue(log)
    for f in (lambda: value_by_period(log), lambda: repurchase(log), lambda: cohort_revenue(log)):
        with pytest.raises(NotEnoughDataError, match="data.revenue"):
            f()
