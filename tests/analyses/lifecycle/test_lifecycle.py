"""Lifecycle segments, thresholds, snapshots, flows and at-risk users on hand-worked logs, and the
lifecycle notebook end to end under papermill."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_kit import load_events, load_params
from retention_kit.data import fetch
from retention_kit.errors import NotEnoughDataError, ParamsError
from retention_kit.analyses import lifecycle
from retention_kit.analyses.lifecycle import (
    Thresholds,
    at_risk_summary,
    complete_value_periods,
    observed_cohorts,
    observed_repurchase,
    at_risk_users,
    flows,
    is_purchase_product,
    segments_at,
    snapshot_dates,
    snapshots,
    thresholds,
)
from retention_kit.analyses.lifecycle import cohort_revenue, repurchase, value_by_period

from tests.factories import REPO as ROOT, REVENUE_COLUMNS, events, load, make_params  # noqa: E402
D = dt.date
# The logs here are rows (user, 'YYYY-MM-DD', event[, revenue]) of date-only stamps, loaded at
# noon UTC (events(rows, hour=12)); every event is activity.


def _days(user, days, event="app_open"):
    return [(user, d, event) for d in days]


# ---------------------------------------------------------------- thresholds

def test_thresholds_from_cadence():
    # median gaps: a 1 (days 1,2,3), b 2 (1,3,5), c 3 (1,4), d 4 (1,5), e 10 (1,11); f has one
    # active day (no gap, left out). 80th percentile, linear: position 0.8 * (5 - 1) = 3.2 between
    # the 4th (4) and 5th (10) values: 4 + 0.2 * 6 = 5.2 -> cadence 5 (rounded).
    # silent = 2 x 5 = 10, churned = 4 x 5 = 20, new = 5.
    rows = (_days("a", ["2024-01-01", "2024-01-02", "2024-01-03"]) + _days("b", ["2024-01-01", "2024-01-03", "2024-01-05"])
            + _days("c", ["2024-01-01", "2024-01-04"]) + _days("d", ["2024-01-01", "2024-01-05"])
            + _days("e", ["2024-01-01", "2024-01-11"]) + _days("f", ["2024-01-01"]))
    thr = thresholds(load(events(rows, hour=12)))
    assert thr.cadence_p80 == pytest.approx(5.2)
    assert (thr.cadence_days, thr.new_days, thr.silent_days, thr.churned_days) == (5, 5, 10, 20)
    assert set(thr.derived) == {"new_days", "silent_days", "churned_days"}
    assert "5.2" in thr.describe() and "20 days or more" in thr.describe()
    # given values win; a derived churned below a given silent becomes 2x silent (30 -> 60)
    thr2 = thresholds(load(events(rows, hour=12)), silent_days=30)
    assert (thr2.silent_days, thr2.churned_days, thr2.new_days) == (30, 60, 5)
    # a given churned below the derived silent: silent becomes half of it (7 // 2 = 3)
    thr3 = thresholds(load(events(rows, hour=12)), churned_days=7)
    assert (thr3.silent_days, thr3.churned_days) == (3, 7)
    # and the derived new (5) would not stay below silent (3): half of silent, 3 // 2 = 1
    assert thr3.new_days == 1
    # the case seen on a real log: silent 90 and churned 365 given, the derived new (5 here) stays
    thr4 = thresholds(load(events(rows, hour=12)), silent_days=90, churned_days=365)
    assert (thr4.new_days, thr4.silent_days, thr4.churned_days) == (5, 90, 365)
    # and a given silent of 4 below the derived new of 5: new becomes 4 // 2 = 2
    assert thresholds(load(events(rows, hour=12)), silent_days=4, churned_days=9).new_days == 2


def test_given_thresholds_out_of_order_are_a_params_error():
    with pytest.raises(ParamsError, match="silent_days \\(5\\) must exceed new_days \\(10\\)"):
        make_params(lifecycle={"new_days": 10, "silent_days": 5})
    with pytest.raises(ParamsError, match="churned_days \\(20\\) must exceed new_days \\(30\\)"):
        make_params(lifecycle={"new_days": 30, "churned_days": 20})
    # the analysis, called directly, holds the same rule
    log = load(events(_days("a", ["2024-01-01", "2024-01-03"]), hour=12))
    with pytest.raises(ParamsError, match="break new_days < silent_days < churned_days"):
        thresholds(log, new_days=10, silent_days=10, churned_days=20)


# A purchase product (activity is buying): A buys on days 0, 10 and 30 (gaps 10, 20), B on days 5
# and 45 (gap 40), C once on day 3 (no gap: a one-time buyer never came back), D on days 0, 2, 4
# (gaps 2, 2). Gaps between repeat purchases: 2, 2, 10, 20, 40: median 10 -> silent 10; 90th
# percentile, linear: position 0.9 * 4 = 3.6, 20 + 0.6 * (40 - 20) = 32 -> churned 32; new = half
# the median = 5. The data ends on day 45.
SHOP = [("A", 0, 10.0), ("A", 10, 5.0), ("A", 30, 7.0), ("B", 5, 3.0), ("B", 45, 4.0), ("C", 3, 9.0),
        ("D", 0, 2.0), ("D", 2, 2.0), ("D", 4, 2.0)]


def _shop_log():
    rows = [(u, str(dt.date(2024, 1, 1) + dt.timedelta(days=d)), "purchase", r) for u, d, r in SHOP]
    return load(events(rows, columns=REVENUE_COLUMNS, hour=12), revenue="revenue", purchase_events=["purchase"])


def test_purchase_product_thresholds_come_from_repeat_purchase_gaps():
    log = _shop_log()
    assert is_purchase_product(log)
    thr = thresholds(log)
    assert (thr.basis, thr.basis_users) == ("purchases", 3)
    assert (thr.gap_median, thr.gap_p90) == (10, pytest.approx(32))
    assert (thr.new_days, thr.silent_days, thr.churned_days) == (5, 10, 32)
    text = thr.describe()
    assert "repeat purchases of the 3 customers who bought again" in text and "32 days or more without a purchase" in text
    # as of day 45: A last bought 15 days ago (silent), B today, C 42 and D 41 days ago: churned.
    # D, with 3 purchase days 2 days apart and 41 days of silence, meets the at-risk rule, but a
    # churned customer is churned, never at risk
    seg = fetch(log.original_ids(segments_at(log, log.last_day, thresholds=thr))).set_index("user_id")["segment"]
    assert seg.to_dict() == {"A": "silent", "B": "active", "C": "churned", "D": "churned"}
    assert not {"C", "D"} & set(at_risk_users(log, thresholds=thr)["user_id"])


def test_an_app_with_purchases_is_not_a_purchase_product():
    rows = [("A", "2024-01-01", "app_open", np.nan), ("A", "2024-01-02", "purchase", 5.0),
            ("A", "2024-01-05", "app_open", np.nan)]
    log = load(events(rows, columns=REVENUE_COLUMNS, hour=12), revenue="revenue", purchase_events=["purchase"])
    assert not is_purchase_product(log) and thresholds(log).basis == "activity"


def test_churn_share_is_the_plain_no_purchase_in_n_days_rule_on_a_real_log(shared_data):
    # Online Retail: every event is an invoice line, so activity is buying. At every month end the
    # churned share must equal the share of started customers whose last purchase day is N or
    # more days before it, N the report's churned threshold: computed here in plain pandas.
    log = load_events(load_params(ROOT / "params" / "online_retail.yaml"))
    thr = thresholds(log)
    assert thr.basis == "purchases" and thr.churned_days < (log.last_day - log.first_day).days
    snaps = snapshots(log, thresholds=thr)
    raw = pd.read_csv(shared_data / "online_retail_ii_subset" / "events.csv.gz", parse_dates=["timestamp"])
    days = raw.assign(day=raw["timestamp"].dt.normalize())[["user_id", "day"]].drop_duplicates()
    for date in snaps["date"].unique():
        seen = days[days["day"] <= date].groupby("user_id")["day"].max()
        expected = ((date - seen).dt.days >= thr.churned_days).mean()
        got = snaps[(snaps["date"] == date) & (snaps["segment"] == "churned")]["share"].iloc[0]
        assert got == pytest.approx(expected), date
    last = snaps[snaps["date"] == snaps["date"].max()].set_index("segment")["share"]
    assert last["churned"] > 0.05  # churn is visible, not made to vanish by the thresholds

def test_thresholds_rounding_half_up_and_thin_data():
    # two users, median gaps 2 and 3: p80 = 2 + 0.8 * 1 = 2.8 -> 3; silent 6, churned 12
    rows = _days("a", ["2024-01-01", "2024-01-03"]) + _days("b", ["2024-01-01", "2024-01-04"])
    thr = thresholds(load(events(rows, hour=12)))
    assert (thr.cadence_days, thr.silent_days, thr.churned_days) == (3, 6, 12)
    # gaps 2 and 3 with quantile 0.5: 2.5 rounds half up to 3 (not to even 2)
    assert thresholds(load(events(rows, hour=12)), quantile=0.5).cadence_days == 3
    # nobody with two active days: no cadence unless all thresholds are given
    one = load(events(_days("a", ["2024-01-01"]) + _days("b", ["2024-01-05"]), hour=12))
    with pytest.raises(NotEnoughDataError):
        thresholds(one)
    assert thresholds(one, new_days=1, silent_days=2, churned_days=3) == Thresholds(1, 2, 3)


# ---------------------------------------------------------------- segments

THR = Thresholds(new_days=3, silent_days=5, churned_days=10)


def test_segments_at_edges():
    # as of 2024-01-31 with new 3, silent 5, churned 10 (edges: new if age < 3, active if
    # days since < 5, silent if 5 <= since < 10, churned if since >= 10)
    rows = (
        _days("n1", ["2024-01-29"])                    # age 2 -> new
        + _days("n2", ["2024-01-28"])                  # age 3: not new; since 3 -> active
        + _days("act4", ["2024-01-01", "2024-01-27"])  # since 4 -> active
        + _days("sil5", ["2024-01-01", "2024-01-26"])  # since 5 -> silent (edge)
        + _days("sil9", ["2024-01-01", "2024-01-22"])  # since 9 -> silent
        + _days("chu10", ["2024-01-01", "2024-01-21"])  # since 10 -> churned (edge)
        + _days("later", ["2024-01-10", "2024-02-03"])  # as of Jan 31: last active Jan 10, since 21 -> churned
        + _days("future", ["2024-02-05"])               # starts after D: not counted
    )
    log = load(events(rows, hour=12))
    seg = fetch(log.original_ids(segments_at(log, D(2024, 1, 31), thresholds=THR))).set_index("user_id")
    assert seg["segment"].to_dict() == {"n1": "new", "n2": "active", "act4": "active", "sil5": "silent",
                                        "sil9": "silent", "chu10": "churned", "later": "churned"}
    assert seg.loc["later", "days_since"] == 21 and seg.loc["later", "ref_day"] == pd.Timestamp("2024-01-10")


def test_never_active_user_counts_from_signup():
    # a signed-up user with no events: reference day = signup (2024-01-20): as of 2024-01-31
    # age 11 (not new), since 11 >= 10 -> churned; a signup on 2024-01-30 is new (age 1)
    rows = _days("x", ["2024-01-01", "2024-01-31"])
    users = pd.DataFrame({"user_id": ["x", "ghost", "fresh"],
                          "signup_time": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-30"])})
    lg = load(events(rows, hour=12), users=users)
    seg = fetch(lg.original_ids(segments_at(lg, D(2024, 1, 31), thresholds=THR))).set_index("user_id")
    assert seg["segment"].to_dict() == {"x": "active", "ghost": "churned", "fresh": "new"}
    assert seg.loc["ghost", "days_since"] == 11


def test_signup_only_user_is_never_active():
    # as of 2024-01-31 with new 3, silent 5, churned 10. Users who signed up but have no activity
    # by D count from their signup day and are never "active": new while age < 3, then silent while
    # days since signup < 10, then churned.
    rows = (_days("x", ["2024-01-01", "2024-01-31"])      # active on D: since 0 -> active
            + _days("used", ["2024-01-29"])                # signed up 01-20, active 01-29: since 2 -> active
            + _days("late", ["2024-02-03"]))               # signed up 01-20, first active after D
    users = pd.DataFrame({"user_id": ["x", "s2", "s3", "s4", "s9", "s10", "used", "late"],
                          "signup_time": pd.to_datetime(["2024-01-01", "2024-01-29", "2024-01-28", "2024-01-27",
                                                         "2024-01-22", "2024-01-21", "2024-01-20", "2024-01-20"])})
    lg = load(events(rows, hour=12), users=users)
    seg = fetch(lg.original_ids(segments_at(lg, D(2024, 1, 31), thresholds=THR))).set_index("user_id")
    assert seg["segment"].to_dict() == {
        "x": "active", "used": "active",
        "s2": "new",       # age 2 < 3
        "s3": "silent",    # age 3: not new; never active, so not active although since 3 < 5 (the bug said active)
        "s4": "silent",    # since 4 < 5: still silent, not active (the bug said active)
        "s9": "silent",    # since 9 < 10
        "s10": "churned",  # since 10 >= 10 (edge)
        "late": "churned",  # as of 01-31 never active: since signup 11 >= 10
    }
    assert not seg.loc["s3", "was_active"] and seg.loc["used", "was_active"]
    assert seg.loc["s3", "days_since"] == 3 and seg.loc["s3", "ref_day"] == pd.Timestamp("2024-01-28")
    # the at-risk summary counts the never-active silent users (s3, s4, s9) as silent, none at
    # risk (no active days, so no rhythm); active: x and used (2 and 1 active days, never at risk)
    s = at_risk_summary(lg, thresholds=THR, as_of=D(2024, 1, 31)).set_index("segment")
    assert s.loc["silent", ["users", "at_risk"]].tolist() == [3, 0]
    assert s.loc["active", ["users", "at_risk"]].tolist() == [2, 0]


def test_engine_tables_built_once_per_log_and_thresholds(monkeypatch):
    # snapshots + flows share one segment table, at_risk_users + at_risk_summary one at-risk table
    from retention_kit.analyses.lifecycle import at_risk as risk_mod, segments as seg_mod

    calls = {"seg": 0, "risk": 0}
    build_seg, build_risk = seg_mod.build_segments, risk_mod._build_at_risk

    def seg(*a):
        calls["seg"] += 1
        return build_seg(*a)

    def risk(*a):
        calls["risk"] += 1
        return build_risk(*a)

    monkeypatch.setattr(seg_mod, "build_segments", seg)
    monkeypatch.setattr(risk_mod, "_build_at_risk", risk)
    rows = _days("a", ["2024-01-01", "2024-01-30", "2024-02-28"]) + _days("b", ["2024-01-01", "2024-03-05"])
    log = load(events(rows, hour=12))
    a = snapshots(log, thresholds=THR)
    flows(log, thresholds=THR)
    assert calls["seg"] == 1
    at_risk_users(log, thresholds=THR)
    at_risk_summary(log, thresholds=THR)
    assert calls["risk"] == 1
    # other thresholds or another log: built anew, and the cached result is the same as a fresh one
    n = calls["seg"]  # (the at-risk table builds its own one-day segments inside its cached table)
    other = Thresholds(new_days=3, silent_days=6, churned_days=10)
    snapshots(log, thresholds=other)
    assert calls["seg"] == n + 1
    b = snapshots(load(events(rows, hour=12)), thresholds=THR)
    assert calls["seg"] == n + 2
    pd.testing.assert_frame_equal(a, b)


def test_snapshots_and_flows():
    # data 2024-01-01 .. 2024-03-05: month ends Jan 31 and Feb 29 (Mar 31 is after the data)
    rows = (
        _days("a", ["2024-01-01", "2024-01-30", "2024-02-28"])  # Jan 31 since 1 active; Feb 29 since 1 active
        + _days("b", ["2024-01-01", "2024-01-25"])             # Jan 31 since 6 silent; Feb 29 since 35 churned
        + _days("c", ["2024-01-30"])                           # Jan 31 age 1 new; Feb 29 since 30 churned
        + _days("d", ["2024-02-22", "2024-03-05"])             # not started Jan 31; Feb 29 since 7 silent
        + _days("e", ["2024-01-05"])                           # Jan 31 since 26 churned; Feb 29 churned
    )
    log = load(events(rows, hour=12))
    assert snapshot_dates(log) == [D(2024, 1, 31), D(2024, 2, 29)]
    s = snapshots(log, thresholds=THR)
    jan = s[s["date"] == "2024-01-31"].set_index("segment")
    feb = s[s["date"] == "2024-02-29"].set_index("segment")
    # Jan 31: 4 started (a, b, c, e): new c, active a, silent b, churned e -> 1 each, 25% each
    assert jan["users"].to_dict() == {"new": 1, "active": 1, "silent": 1, "churned": 1}
    assert jan["share"].tolist() == [0.25] * 4
    # Feb 29: 5 started: active a, silent d, churned b, c, e; no new (listed with 0)
    assert feb["users"].to_dict() == {"new": 0, "active": 1, "silent": 1, "churned": 3}
    assert feb.loc["churned", "share"] == pytest.approx(3 / 5)
    f = flows(log, thresholds=THR)
    got = {(r.from_segment, r.to_segment): r.users for r in f.itertuples()}
    assert got == {("(not started)", "silent"): 1, ("new", "churned"): 1, ("active", "active"): 1,
                   ("silent", "churned"): 1, ("churned", "churned"): 1}
    assert set(f["share_of_from"]) == {1.0}


def test_snapshots_need_a_month_end():
    log = load(events(_days("a", ["2024-01-02", "2024-01-05"]), hour=12))
    with pytest.raises(NotEnoughDataError):
        snapshots(log, thresholds=THR)


# ---------------------------------------------------------------- at risk

# as of 2024-03-31 (last day, via the filler); new 3, silent 30, churned 60, factor 2
RISK_ROWS = (
    _days("r1", ["2024-03-01", "2024-03-03", "2024-03-05"])          # gap 2, since 26 > 4 -> at risk (active)
    + _days("edge", ["2024-03-19", "2024-03-22", "2024-03-25"])      # gap 3, since 6 = 2 x 3 -> not at risk
    + _days("edge1", ["2024-03-18", "2024-03-21", "2024-03-24"])     # gap 3, since 7 > 6 -> at risk
    + _days("two", ["2024-03-01", "2024-03-02"])                     # 2 active days: never at risk
    + _days("sil", ["2024-02-01", "2024-02-02", "2024-02-03"])       # since 57: silent, gap 1 -> at risk
    + _days("gone", ["2024-01-01", "2024-01-02", "2024-01-03"])      # since 88 >= 60: churned, not listed
    + _days("fresh", ["2024-03-29", "2024-03-30", "2024-03-31"])     # new (age 2): not listed
    + _days("filler", ["2024-03-31"])
)


RISK_THR = Thresholds(new_days=3, silent_days=30, churned_days=60)


def test_at_risk_users_by_own_rhythm():
    log = load(events(RISK_ROWS, hour=12))
    df = at_risk_users(log, thresholds=RISK_THR, factor=2.0)
    assert df["user_id"].tolist() == ["sil", "r1", "edge1"]  # longest silence first
    r1 = df.set_index("user_id").loc["r1"]
    assert (r1["segment"], r1["days_since_last"], r1["typical_gap_days"], r1["active_days"]) == ("active", 26, 2.0, 3)
    assert r1["last_active"] == pd.Timestamp("2024-03-05") and r1["rule"] == "activity"
    assert df.set_index("user_id").loc["sil", "segment"] == "silent"
    assert df["revenue_to_date"].isna().all()  # no revenue in this log
    # the factor's edge for r1 (since 26, gap 2): 13 x 2 = 26 is not exceeded, 12.9 x 2 is
    assert "r1" not in set(at_risk_users(log, thresholds=RISK_THR, factor=13)["user_id"])
    assert "r1" in set(at_risk_users(log, thresholds=RISK_THR, factor=12.9)["user_id"])
    # as of an earlier day the history is cut there: on 2024-03-10 r1 has since 5 > 4 -> at risk,
    # edge/edge1/fresh have not started, two (since 8, 2 days) is not
    early = at_risk_users(log, thresholds=RISK_THR, factor=2.0, as_of=D(2024, 3, 10))
    assert early["user_id"].tolist() == ["sil", "r1"]


def test_at_risk_summary_counts():
    s = at_risk_summary(load(events(RISK_ROWS, hour=12)), thresholds=RISK_THR, factor=2.0).set_index("segment")
    # active: r1, edge, edge1, two (filler is new) -> 4 users, 2 at risk; silent: sil -> 1 of 1
    assert s.loc["active", ["users", "at_risk"]].tolist() == [4, 2]
    assert s.loc["silent", ["users", "at_risk"]].tolist() == [1, 1]
    assert s.loc["active or silent", ["users", "at_risk"]].tolist() == [5, 3]
    assert s.loc["active", "share_at_risk"] == pytest.approx(0.5)
    assert s["at_risk_revenue_last_90d"].isna().all()


def test_at_risk_by_missed_purchase_intervals():
    # everyone opens the app daily in March (activity gap 1, since 0: never at risk by activity);
    # as of 2024-03-31 with silent 30 / churned 60 / new 3:
    daily = [f"2024-03-{d:02d}" for d in range(1, 32)]
    rows = []
    for u in ("p1", "p2", "p3"):
        rows += [(u, d, "app_open", np.nan) for d in daily]
    # p1 buys on 1, 6, 11 (median gap 5), refund on 12 (not a purchase): 20 days since the last
    # purchase > 2 x 5 -> at risk by purchase; revenue to date 10 + 10 + 10 - 10 = 20
    rows += [("p1", f"2024-03-{d:02d}", "purchase", 10.0) for d in (1, 6, 11)] + [("p1", "2024-03-12", "refund", -10.0)]
    # p2 buys on 11, 16, 21: since 10 = 2 x 5 -> not at risk (edge)
    rows += [("p2", f"2024-03-{d:02d}", "purchase", 10.0) for d in (11, 16, 21)]
    # p3 buys twice only: no purchase rhythm yet
    rows += [("p3", f"2024-03-{d:02d}", "purchase", 10.0) for d in (1, 5)]
    log = load(events(rows, columns=REVENUE_COLUMNS, hour=12), revenue="revenue",
               purchase_events=["purchase", "refund"])
    df = at_risk_users(log, thresholds=RISK_THR)
    assert df["user_id"].tolist() == ["p1"]
    p1 = df.iloc[0]
    assert (p1["rule"], p1["purchases"], p1["typical_purchase_gap_days"], p1["revenue_to_date"]) == ("purchase", 3, 5.0, 20.0)
    s = at_risk_summary(log, thresholds=RISK_THR).set_index("segment")
    # last 90 days (2024-01-02 .. 03-31) revenue of all users: 20 + 30 + 20 = 70; p1 holds 20
    assert s.loc["active", "at_risk_revenue_last_90d"] == pytest.approx(20.0)
    assert s.loc["active", "share_of_revenue_last_90d"] == pytest.approx(20 / 70)
    # as of 03-15: p1's last purchase (03-11) is 4 days back (not > 10), p2 has one purchase, p3
    # two: nobody is at risk, so the at-risk share of revenue to date is 0
    early = at_risk_summary(log, thresholds=RISK_THR, as_of=dt.date(2024, 3, 15)).set_index("segment")
    assert early.loc["active or silent", "at_risk"] == 0
    assert early.loc["active", "share_of_revenue_to_date"] == 0
    assert s.loc["active", "share_of_revenue_to_date"] == pytest.approx(20 / 70)


# ---------------------------------------------------------------- exports and the value sections' data checks

VALUE_CONTRACT = ["granularity", "period", "active_users", "paying_users", "revenue", "arpu", "arppu"]


def test_export_frame_puts_contract_columns_first():
    spec = lifecycle.SPEC
    df = pd.DataFrame({"extra": [1], "share": [0.5], "users": [2], "segment": ["new"], "date": [pd.Timestamp("2024-01-31")]})
    out = spec.export("lifecycle").frame(df)
    assert list(out.columns) == ["date", "segment", "users", "share", "extra"]
    # nothing computed: the header alone, so the CSV still exists
    empty = spec.export("value").frame(None, None)
    assert empty.empty and list(empty.columns) == VALUE_CONTRACT
    # months then weeks stacked
    m = pd.DataFrame({c: [1] for c in VALUE_CONTRACT}).assign(granularity="month")
    w = m.assign(granularity="week")
    assert spec.export("value").frame(m, w)["granularity"].tolist() == ["month", "week"]
    with pytest.raises(ValueError, match="arppu"):
        spec.export("value").frame(m.drop(columns="arppu"))


def test_value_sections_need_complete_periods_and_purchases():
    # data 2024-01-02 .. 01-20: January is not complete (it ends 01-31), so no ARPU month; a's first
    # purchase (01-02) is 18 days before the end, < 30, so nobody is eligible for any window; the
    # January cohort has no complete month
    money = {"revenue": "revenue", "purchase_events": ["purchase"]}  # the data params of the logs here
    thin = load(events([("a", "2024-01-02", "purchase", 10.0), ("a", "2024-01-05", "purchase", 5.0),
                        ("b", "2024-01-20", "app_open", np.nan)], columns=REVENUE_COLUMNS, hour=12), **money)
    with pytest.raises(NotEnoughDataError, match="complete"):
        complete_value_periods(value_by_period(thin, granularity="month"))
    with pytest.raises(NotEnoughDataError, match="30 days"):
        observed_repurchase(repurchase(thin, windows=[30, 60, 90]))
    with pytest.raises(NotEnoughDataError, match="complete"):
        observed_cohorts(cohort_revenue(thin, granularity="month"))
    # data 2024-01-01 .. 03-10 with money only on refunds (a purchase event, as in the demo, but
    # negative: never a purchase): January and February are complete but nobody paid. The January
    # cohort holds everyone already there when the log begins, so it is left out; c starts the
    # first new cohort, February, whose month-0 revenue is -5, so its revenue retention is undefined
    refunds = load(events([("a", "2024-01-01", "refund", -5.0), ("c", "2024-02-03", "refund", -5.0),
                           ("b", "2024-03-10", "app_open", np.nan)], columns=REVENUE_COLUMNS, hour=12),
                   revenue="revenue", purchase_events=["refund"])
    with pytest.raises(NotEnoughDataError, match="no purchase"):
        complete_value_periods(value_by_period(refunds, granularity="month"))
    with pytest.raises(NotEnoughDataError, match="revenue retention"):
        observed_cohorts(cohort_revenue(refunds, granularity="month"))
    # a purchase of 10 on 01-05 (a) and app use by b on 01-01 and 01-06: January complete (updated:
    # the data must start on 01-01 for January to be whole), February (to 02-10) not: one month
    # shown, 2 active users, 1 paying, revenue 10, ARPU 10 / 2 = 5, ARPPU 10
    ok = load(events([("b", "2024-01-01", "app_open", np.nan), ("a", "2024-01-05", "purchase", 10.0),
                      ("b", "2024-01-06", "app_open", np.nan), ("b", "2024-02-10", "app_open", np.nan)],
                     columns=REVENUE_COLUMNS, hour=12), **money)
    done = complete_value_periods(value_by_period(ok, granularity="month"))
    assert done["period"].tolist() == [pd.Timestamp("2024-01-01")]
    assert (done["active_users"].iloc[0], done["paying_users"].iloc[0]) == (2, 1)
    assert (done["arpu"].iloc[0], done["arppu"].iloc[0]) == (5.0, 10.0)
    # a's first purchase 01-05 is 36 days before 02-10: eligible for 30 days only (not 60, 90)
    rates = observed_repurchase(repurchase(ok, windows=[30, 60, 90]))
    assert rates["eligible_buyers"].tolist() == [1, 0, 0]


# ---------------------------------------------------------------- the notebook

def _run(tmp_path: Path, params_path: Path, **extra):
    import papermill as pm

    out = tmp_path / "out.ipynb"
    exp = tmp_path / "exp"
    pm.execute_notebook(str(ROOT / "notebooks" / "lifecycle.ipynb"), str(out),
                        parameters={"params_path": str(params_path), "export_dir": str(exp), **extra},
                        kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    return out, exp


def _html_text(nb_path: Path) -> str:
    """Everything a rendered page would show: code cell outputs except images."""
    import nbformat

    nb = nbformat.read(str(nb_path), as_version=4)
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            parts.append(o.get("text", ""))
            parts += [v for k, v in o.get("data", {}).items() if not k.startswith("image/")]
    return "\n".join(str(p) for p in parts)


EXPORTS = {
    "lifecycle": ["date", "segment", "users", "share"],
    "at_risk_users": ["user_id", "segment", "last_active", "days_since_last", "typical_gap_days", "revenue_to_date"],
    "value": ["granularity", "period", "active_users", "paying_users", "revenue", "arpu", "arppu"],
    "value_cohorts": ["granularity", "cohort", "period", "cohort_size", "revenue", "revenue_retention",
                      "cumulative_revenue_per_user"],
    "repurchase": ["window_days", "eligible_buyers", "repurchasers", "rate"],
}


def _check_exports(exp: Path) -> dict[str, pd.DataFrame]:
    assert sorted(p.name for p in exp.glob("*.csv")) == sorted(f"{n}.csv" for n in EXPORTS)
    out = {}
    for name, cols in EXPORTS.items():
        df = pd.read_csv(exp / f"{name}.csv", dtype={"user_id": str})
        assert list(df.columns[: len(cols)]) == cols, name
        out[name] = df
    lc = out["lifecycle"]
    assert set(lc["segment"]) == {"new", "active", "silent", "churned"}
    assert np.allclose(lc.groupby("date")["share"].sum(), 1.0)
    assert all(pd.Timestamp(d).is_month_end for d in lc["date"])
    return out


@pytest.mark.slow
def test_notebook_demo(tmp_path):
    out, exp = _run(tmp_path, ROOT / "params" / "demo.yaml")
    csv = _check_exports(exp)
    ids = set(csv["at_risk_users"]["user_id"])
    assert len(ids) > 50 and set(csv["value"]["granularity"]) == {"month", "week"}
    assert (csv["repurchase"]["window_days"] == [30, 60, 90]).all()
    text = _html_text(out)
    assert "users are at risk" in text and "Repurchase within 60 days" in text
    # show_user_ids is false in the demo: no user id reaches the page
    assert not re.search(r"\bu\d{5}\b", text)


@pytest.mark.slow
def test_notebook_online_retail(tmp_path):
    out, exp = _run(tmp_path, ROOT / "params" / "online_retail.yaml")
    csv = _check_exports(exp)
    risky = csv["at_risk_users"]
    assert len(risky) > 0 and risky["revenue_to_date"].notna().all()
    text = _html_text(out)
    assert not any(re.search(rf"(?<![\d,.]){re.escape(u)}(?![\d,.])", text) for u in risky["user_id"])


@pytest.mark.slow
def test_notebook_without_revenue_shows_ids_when_allowed(tmp_path):
    # a tiny log without revenue, show_user_ids on: value sections skipped, value CSVs header-only
    rows = (_days("alice", ["2024-01-01", "2024-01-02", "2024-01-03"]) + _days("bob", ["2024-01-01", "2024-01-05"])
            + _days("carol", ["2024-01-10", "2024-01-20", "2024-01-30"]) + _days("dave", ["2024-03-01"]))
    pd.DataFrame(rows, columns=["user_id", "timestamp", "event"]).to_csv(tmp_path / "events.csv", index=False)
    (tmp_path / "p.yaml").write_text("product: tiny\nshow_user_ids: true\ndata:\n  source: events.csv\n"
                                     "  valid_until: 2030-01-01\n")
    out, exp = _run(tmp_path, tmp_path / "p.yaml", silent_days=10, churned_days=60)
    csv = _check_exports(exp)
    assert csv["value"].empty and csv["value_cohorts"].empty and csv["repurchase"].empty
    # as of 2024-03-01 (silent 10, churned 60): alice since 58, gap 1 -> at risk; carol since 31,
    # gap 10 -> 31 > 20 at risk; bob has 2 active days; dave is new
    risky = csv["at_risk_users"].set_index("user_id")
    assert risky["days_since_last"].to_dict() == {"alice": 58, "carol": 31}
    assert risky["revenue_to_date"].isna().all()
    text = _html_text(out)
    assert "no revenue" in text.lower()
    assert "alice" in text and "carol" in text  # show_user_ids: true lists them


@pytest.mark.slow
def test_notebook_thin_revenue_log_notes_instead_of_empty_charts(tmp_path):
    # revenue, but 2024-01-02 .. 01-20 only: no month end (no snapshot), no complete month (no
    # ARPU), no buyer 30 days before the end (no repurchase), no complete cohort month
    rows = ([("a", f"2024-01-{d:02d}", "purchase", 10.0) for d in (2, 5, 8)]
            + [("b", f"2024-01-{d:02d}", "app_open", None) for d in (3, 6, 20)])
    pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "revenue"]).to_csv(tmp_path / "events.csv", index=False)
    (tmp_path / "p.yaml").write_text("product: thin\ndata:\n  source: events.csv\n  revenue: revenue\n"
                                     "  purchase_events: [purchase]\n  valid_until: 2030-01-01\n")
    out, exp = _run(tmp_path, tmp_path / "p.yaml")
    for name, cols in EXPORTS.items():
        assert list(pd.read_csv(exp / f"{name}.csv").columns[: len(cols)]) == cols, name
    text = _html_text(out)
    for section in ("Lifecycle snapshots", "Value: revenue per user", "Value: repurchase", "Value: revenue by cohort"):
        assert f"{section}: not enough data" in text, section
    assert "Repurchase within 60 days" not in text  # no sentence about a rate nobody is eligible for


def test_snapshots_and_at_risk_agree_with_pandas_brute_force():
    # an independent computation in plain pandas on a small demo log (no users table: start =
    # first active day; every remaining event is activity)
    from retention_kit.data.datasets import make_demo_log

    raw = make_demo_log(400, seed=11, days=100)
    raw = raw[raw["event"] != "push_sent"]
    log = load(raw, product="d")
    thr = Thresholds(new_days=4, silent_days=9, churned_days=21)
    days = raw.assign(day=raw["timestamp"].dt.normalize())[["user_id", "day"]].drop_duplicates()
    by_user = days.groupby("user_id")["day"].apply(sorted).to_dict()

    def seg(u, d):
        past = [x for x in by_user[u] if x <= d]
        if not past:
            return None
        age, since = (d - past[0]).days, (d - past[-1]).days
        return ("new" if age < 4 else "active" if since < 9 else "silent" if since < 21 else "churned"), past

    got = snapshots(log, thresholds=thr)
    for d in got["date"].unique():
        counts = pd.Series([s[0] for u in by_user if (s := seg(u, pd.Timestamp(d)))]).value_counts()
        mine = got[got["date"] == d].set_index("segment")["users"]
        assert all(mine[k] == counts.get(k, 0) for k in ("new", "active", "silent", "churned")), d

    last = pd.Timestamp(log.last_day)
    expect = set()
    for u in by_user:
        s = seg(u, last)
        if s and s[0] in ("active", "silent") and len(s[1]) >= 3:
            gaps = np.diff([x.value for x in s[1]]) / 86_400e9
            if (last - s[1][-1]).days > 2 * np.median(gaps):
                expect.add(u)
    assert set(at_risk_users(log, thresholds=thr, factor=2.0)["user_id"]) == expect and expect
