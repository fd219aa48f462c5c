"""Segments: hand-worked logs per segment kind, (other) grouping, a one-user segment, the
comparison worked out by hand, and an independent pandas check on the Stack Exchange log."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from retention_kit import DataError, ParamsError, load_events, load_params
from retention_kit.analyses import stickiness as stk
from retention_kit.analyses.segments import (MISSING, NOT_OVER, OTHER, compare_segments, comparison_summary,
                                             segments, stickiness_breakdown)
from retention_kit.data import fetch
from retention_kit.data.params import BreakdownParams

from tests.factories import D0, REPO, day_events, load, make_params


def _assignment(seg) -> dict[str, str]:
    df = fetch(seg.log.original_ids(seg.table))
    return dict(zip(df["user_id"], df["segment"]))


# ---- users-table attribute -----------------------------------------------------------------------

# Weekly log (Monday D0). a1, a2 (pro) start in week 0, a1 returns in week 1; b1, b2, b3 (free)
# start in week 0, none returns; c1 has no users-table row. Week 2 closes the data.
ROWS = [("a1", 0, "open", 1), ("a1", 8, "open", 1), ("a2", 1, "open", 1),
        ("b1", 0, "open", 1), ("b2", 2, "open", 1), ("b3", 3, "open", 1), ("c1", 4, "open", 1),
        ("b1", 20, "push", 1)]
USERS = pd.DataFrame({"user_id": ["a1", "a2", "b1", "b2", "b3"], "plan": ["pro", "pro", "free", "free", "free"]})


def _attr_log():
    return load(day_events(ROWS), users=USERS, params=make_params(users={"source": "(given)", "attributes": ["plan"]}))


def test_attribute_segments_by_hand():
    log = _attr_log()
    seg = segments(log, BreakdownParams(by="plan"))
    assert seg.kind == "attribute"
    assert _assignment(seg) == {"a1": "pro", "a2": "pro", "b1": "free", "b2": "free", "b3": "free", "c1": MISSING}
    assert seg.names == ("free", "pro", MISSING) and seg.sizes == {"free": 3, "pro": 2, MISSING: 1}


def test_retention_by_attribute_by_hand_and_base_columns():
    log = _attr_log()
    seg = segments(log, BreakdownParams(by="plan"))
    r = stk.cohort_retention(log, granularity="week", modes=("on",), by=seg)
    base = stk.cohort_retention(log, granularity="week", modes=("on",))
    assert r.columns.tolist() == ["breakdown", "segment", *base.columns]
    w1 = r[(r["period"] == 1)].set_index("segment")
    # pro: a1 of {a1, a2} back in week 1; free: nobody of 3; (missing): c1 alone, not back
    assert (w1.loc["pro", "active"], w1.loc["pro", "cohort_size"]) == (1, 2)
    assert (w1.loc["free", "active"], w1.loc["free", "cohort_size"]) == (0, 3)
    assert (w1.loc[MISSING, "active"], w1.loc[MISSING, "cohort_size"]) == (0, 1)
    # the segments add up to the whole log's cell
    whole = base[base["period"] == 1].iloc[0]
    assert w1["active"].sum() == whole["active"] and w1["cohort_size"].sum() == whole["cohort_size"]
    assert set(r["breakdown"]) == {"plan"}


def test_top_groups_the_rest_as_other():
    log = _attr_log()
    seg = segments(log, BreakdownParams(by="plan", top=1))
    assert seg.names == ("free", OTHER) and seg.sizes == {"free": 3, OTHER: 3}
    assert _assignment(seg)["a1"] == OTHER and _assignment(seg)["c1"] == OTHER


def test_an_attribute_the_users_table_lacks_is_a_clear_error():
    with pytest.raises(ParamsError, match=r"breakdown.by: 'plna'.*did you mean 'plan'"):
        make_params(users={"source": "(given)", "attributes": ["plan"]}, top={"breakdown": {"by": "plna"}})
    log = load(day_events(ROWS))  # no users table
    with pytest.raises(DataError, match="no users table"):
        segments(log, BreakdownParams(by="plan"))


# ---- first-event property ------------------------------------------------------------------------

def test_first_event_property_by_hand():
    # u1's first event is on web (an earlier row in time, though listed last), u2's on ios; u3's first event
    # has no platform: (missing)
    ev = pd.DataFrame({
        "user_id": ["u1", "u1", "u2", "u2", "u3"],
        "timestamp": pd.to_datetime(["2024-01-02 10:00", "2024-01-01 09:00", "2024-01-01 08:00", "2024-01-03 08:00",
                                     "2024-01-01 07:00"]),
        "event": ["open", "open", "open", "open", "open"],
        "platform": ["ios", "web", "ios", "android", None]})
    log = load(ev, params=make_params(properties=["platform"]))
    seg = segments(log, BreakdownParams(by="first.platform"))
    assert seg.kind == "first_property"
    assert _assignment(seg) == {"u1": "web", "u2": "ios", "u3": MISSING}


def test_first_property_must_be_listed():
    with pytest.raises(ParamsError, match=r"'first.platform'.*not listed in data.properties"):
        make_params(top={"breakdown": {"by": "first.platform"}})


# ---- behaviour cohort ----------------------------------------------------------------------------

def test_behaviour_cohort_by_hand_with_a_property_filter():
    # invited_2: at least 2 invite events with amount >= 5 in the first 3 days (days 0..2 since the start).
    # u1: 2 qualifying invites on days 0 and 2 -> in; u2: 2 invites but one has amount 1 -> not;
    # u3: 2 qualifying invites but the second on day 3 (outside the window) -> not;
    # u4 starts 1 day before the last day of data: its window is not over.
    def at(d, h=10):
        return pd.Timestamp(D0 + dt.timedelta(days=d)) + pd.Timedelta(hours=h)
    rows = [("u1", at(0), "invite", 5.0), ("u1", at(2), "invite", 9.0),
            ("u2", at(0), "invite", 5.0), ("u2", at(1), "invite", 1.0),
            ("u3", at(0), "invite", 6.0), ("u3", at(3), "invite", 6.0),
            ("u4", at(9), "invite", 7.0), ("u1", at(10), "open", None)]
    ev = pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "amount"])
    cohort = {"name": "invited_2", "when": {"event": "invite", "min": 2, "where": {"amount": {"gte": 5}}},
              "window_days": 3}
    params = make_params(properties=["amount"], top={"breakdown": {"by": "invited_2", "cohorts": [cohort]}})
    log = load(ev, params=params)
    seg = segments(log, params.breakdown_for("stickiness"))
    assert seg.kind == "cohort"
    assert _assignment(seg) == {"u1": "invited_2", "u2": "not invited_2", "u3": "not invited_2", "u4": NOT_OVER}


# ---- a one-user segment and the comparison -------------------------------------------------------

def test_a_one_user_segment_is_computed_greyed_and_never_named():
    # signups on each user's first active day: without them, the first week's cohort would be
    # left-censored (users already active when the log began) and nothing would be compared
    first = {"a1": 0, "a2": 1, "b1": 0, "b2": 2, "b3": 3}
    users = USERS.assign(signup_time=[pd.Timestamp(D0 + dt.timedelta(days=first[u])) for u in USERS["user_id"]])
    log = load(day_events(ROWS), users=users,
               params=make_params(users={"source": "(given)", "signup_time": "signup_time", "attributes": ["plan"]}))
    params = make_params(users={"source": "(given)", "attributes": ["plan"]},
                         stickiness={"granularity": "week", "min_cohort_size": 2},
                         top={"breakdown": {"by": "plan"}})
    bd = stickiness_breakdown(log, params.stickiness, params.breakdown_for("stickiness"))
    c = bd.comparisons[bd.comparisons["period"] == 1].set_index("segment")
    one = c.loc[MISSING]
    # (missing) holds c1 alone: 0 of 1 back in week 1, against 1 of 5 for the rest
    assert (one["users"], one["value"], one["rest_value"]) == (1, 0.0, 0.2) and bool(one["small"])
    text = comparison_summary(bd.comparisons, bd.segments, granularity="week", min_size=bd.min_size).text
    assert "(missing) (" not in text and "Too small to compare (under 2 users): (missing)" in text


def test_comparison_interval_and_p_value_by_hand():
    # 5/10 against 2/10, z = 1.959964. Wilson: center (p + z^2/2n) / (1 + z^2/n), half-width
    # z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n): 5/10 -> (0.236593, 0.763407); 2/10 -> (0.056682, 0.509838).
    # Newcombe: low = 0.3 - sqrt((0.5 - 0.236593)^2 + (0.509838 - 0.2)^2) = 0.3 - 0.406672 = -0.106672
    #           high = 0.3 + sqrt((0.763407 - 0.5)^2 + (0.2 - 0.056682)^2) = 0.3 + 0.299872 = 0.599872
    # z-test: pooled p = 0.35, se = sqrt(0.35 * 0.65 * (1/10 + 1/10)) = 0.213307, z = 1.406422,
    # p = 2 * (1 - Phi(1.406422)) = 0.159599; BH over the two equal p-values: q = p.
    f = pd.DataFrame({"segment": ["a", "b"], "period": [1, 1], "active": [5, 2], "cohort_size": [10, 10]})
    c = compare_segments(f, analysis="retention_week", min_size=10).set_index("segment")
    a = c.loc["a"]
    assert a["difference"] == pytest.approx(0.3)
    assert a["ci_low"] == pytest.approx(-0.106672, abs=2e-6) and a["ci_high"] == pytest.approx(0.599872, abs=2e-6)
    assert a["p_value"] == pytest.approx(0.159599, abs=2e-6) and a["q_value"] == pytest.approx(a["p_value"])
    assert not a["small"] and c.loc["b", "difference"] == pytest.approx(-0.3)


def test_bh_runs_over_every_cell_shown():
    # three cells with p-values p1 <= p2 <= p3: q = min over j >= i of m p(j) / j
    f = pd.DataFrame({"segment": ["a", "b", "a", "b", "a", "b"], "period": [1, 1, 2, 2, 3, 3],
                      "active": [30, 10, 20, 12, 15, 14], "cohort_size": [50, 50, 50, 50, 50, 50]})
    c = compare_segments(f, analysis="x", min_size=1)
    p = c["p_value"].to_numpy()
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    expected = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, m * p[i] / rank)
        expected[i] = running
    assert c["q_value"].tolist() == pytest.approx(expected)


# ---- the demo's planted effect and the exports ---------------------------------------------------

@pytest.mark.slow  # the whole demo, twice (about 25 s)
def test_demo_pro_users_retain_better():
    demo = load_params(REPO / "params" / "demo_segments.yaml")
    log = load_events(demo)
    bd = stickiness_breakdown(log, demo.stickiness, demo.breakdown_for("stickiness"))
    w1 = bd.comparisons[bd.comparisons["period"] == 1].set_index("segment")
    assert w1.loc["pro", "difference"] > 0.2 and w1.loc["pro", "ci_low"] > 0 and w1.loc["pro", "q_value"] < 0.001
    text = comparison_summary(bd.comparisons, bd.segments, granularity="week", min_size=bd.min_size).text
    assert text.startswith("pro (")
    # channel is drawn independently of everything: no segment differs beyond chance in week 1
    ch = stickiness_breakdown(log, demo.stickiness, BreakdownParams(by="channel"))
    assert "No segment of channel differs" in comparison_summary(ch.comparisons, ch.segments, granularity="week",
                                                                 min_size=ch.min_size).text
    for name, frame in bd.exports.items():
        assert frame is not None and not frame.empty, name


# ---- an independent check on a real log ----------------------------------------------------------

@pytest.mark.slow  # nine segments of a real log (about 20 s)
def test_stackexchange_retention_by_attribute_equals_pandas(shared_data):
    """Monthly 'on' retention per reputation value (top 8, the rest (other)) against plain pandas."""
    raw_users = pd.read_csv(shared_data / "stackexchange_martialarts" / "users.csv.gz")
    raw_events = pd.read_csv(shared_data / "stackexchange_martialarts" / "events.csv.gz")
    params = load_params(REPO / "params" / "stackexchange_martialarts.yaml")
    params = params.model_copy(update={"data": params.data.model_copy(update={
        "users": params.data.users.model_copy(update={"attributes": ["reputation"]})})})
    log = load_events(params)
    seg = segments(log, BreakdownParams(by="reputation", top=8))
    kit = stk.cohort_retention(log, granularity="month", modes=("on",), by=seg)
    kit = kit[kit["period"] >= 1]

    # pandas: each user's segment, start month and active months, from the raw files
    ev = raw_events.assign(ts=pd.to_datetime(raw_events["timestamp"]))
    ev["m"] = ev["ts"].dt.year * 12 + ev["ts"].dt.month - 1
    u = raw_users.assign(signup=pd.to_datetime(raw_users["created_at"]))
    u["value"] = u["reputation"].astype("Int64").astype(str).where(u["reputation"].notna(), MISSING)
    everyone = pd.Index(sorted(set(ev["user_id"]) | set(u["user_id"])), name="user_id")
    value = u.set_index("user_id")["value"].reindex(everyone).fillna(MISSING)
    sizes = value.value_counts()
    sizes = sizes.sort_index().sort_values(ascending=False, kind="stable")  # by users, ties by name
    keep = list(sizes.index[:8])
    segment = value.where(value.isin(keep), OTHER)
    start = u.set_index("user_id")["signup"].reindex(everyone)
    first_event = ev.groupby("user_id")["ts"].min().reindex(everyone)
    start = start.fillna(first_event)
    start_m = (start.dt.year * 12 + start.dt.month - 1).astype("int64")
    members = pd.DataFrame({"user_id": everyone, "segment": segment.to_numpy(), "c": start_m.to_numpy()})
    pairs = ev[["user_id", "m"]].drop_duplicates()
    j = members.merge(pairs, on="user_id")
    back = j.assign(k=j["m"] - j["c"]).groupby(["segment", "c", "k"]).size()
    size = members.groupby(["segment", "c"]).size()

    checked = 0
    for r in kit.itertuples():
        c = r.cohort.year * 12 + r.cohort.month - 1
        expected = (int(size.get((r.segment, c), 0)), int(back.get((r.segment, c, r.period), 0)))
        assert (r.cohort_size, r.active) == expected, (r.segment, r.cohort, r.period)
        checked += 1
    assert checked > 500 and kit["segment"].nunique() == 9


# ---- the ladder and value by segment -------------------------------------------------------------

def test_value_by_segment_by_hand():
    from retention_kit.analyses import lifecycle
    from tests.factories import REVENUE_COLUMNS, events
    # January 2024: a1 (pro) buys 10; b1 and b2 (free) buy 5 and 7; c1 (no row) only opens
    ev = events([("a1", "2024-01-01 10:00", "buy", 10.0), ("b1", "2024-01-03 10:00", "buy", 5.0),
                 ("b2", "2024-01-04 10:00", "buy", 7.0), ("c1", "2024-01-05 10:00", "open", None),
                 ("a1", "2024-01-31 10:00", "open", None)], columns=REVENUE_COLUMNS)
    log = load(ev, users=USERS, params=make_params(users={"source": "(given)", "attributes": ["plan"]},
                                                   revenue="revenue", purchase_events=["buy"]))
    seg = segments(log, BreakdownParams(by="plan"))
    v = lifecycle.value_by_period(log, granularity="month", by=seg)
    jan = v[v["period"] == pd.Timestamp("2024-01-01")].set_index("segment")
    assert (jan.loc["pro", "revenue"], jan.loc["pro", "paying_users"], jan.loc["pro", "active_users"]) == (10.0, 1, 1)
    assert (jan.loc["free", "revenue"], jan.loc["free", "paying_users"], jan.loc["free", "active_users"]) == (12.0, 2, 2)
    assert (jan.loc[MISSING, "revenue"], jan.loc[MISSING, "paying_users"]) == (0.0, 0)


def test_ladder_by_segment_partitions_the_users():
    from retention_kit.analyses import ladder as L
    log = _attr_log()
    seg = segments(log, BreakdownParams(by="plan"))
    lad = make_params(ladder={"period": "week"}).ladder
    base = L.composition(log, ladder=lad)
    by = L.composition(log, ladder=lad, by=seg)
    keys = ["period", "scope", "rung"]
    assert by.columns.tolist() == ["breakdown", "segment", *base.columns]
    summed = by.groupby(keys)["users"].sum()
    assert summed.to_dict() == base.set_index(keys)["users"].to_dict()
    t = L.transitions(log, ladder=lad, by=seg)
    assert t.groupby("segment")["users"].sum().sum() == L.transitions(log, ladder=lad)["users"].sum()


# ---- lifecycle by segment ------------------------------------------------------------------------

# January to March 2024, thresholds new 3, silent 10, churned 20 (given). Each plan's users alone
# span the same data range (1 January to 31 March), so a load of their rows alone is comparable.
LC_ROWS = [("p1", "2024-01-01", "open"), ("p1", "2024-01-25", "open"), ("p1", "2024-03-31", "open"),
           ("p2", "2024-01-05", "open"),
           ("f1", "2024-01-01", "open"), ("f1", "2024-02-28", "open"),
           ("f2", "2024-01-03", "open"), ("f2", "2024-03-31", "open"),
           ("f3", "2024-03-30", "open")]
LC_USERS = pd.DataFrame({"user_id": ["p1", "p2", "f1", "f2", "f3"], "plan": ["pro", "pro", "free", "free", "free"]})
LC_THR = dict(new_days=3, silent_days=10, churned_days=20)


def _lc_params():
    return make_params(users={"source": "(given)", "attributes": ["plan"]})


def test_lifecycle_by_segment_by_hand_and_equal_to_each_segment_alone():
    from retention_kit.analyses import lifecycle
    from tests.factories import events
    ev = events(LC_ROWS, hour=12)
    log = load(ev, users=LC_USERS, params=_lc_params())
    thr = lifecycle.thresholds(log, **LC_THR)
    seg = segments(log, BreakdownParams(by="plan"))
    by = lifecycle.snapshots(log, thresholds=thr, by=seg)
    base = lifecycle.snapshots(log, thresholds=thr)
    assert by.columns.tolist() == ["breakdown", "segment", "date", "lifecycle_segment", "users", "share"]
    assert base.columns.tolist() == ["date", "segment", "users", "share"]  # lifecycle.csv unchanged
    cell = by.set_index(["segment", "date", "lifecycle_segment"])["users"]
    # 31 Jan: p1 last active 25 Jan (6 days: active), p2 5 Jan (26: churned); f1 1 Jan (30) and
    # f2 3 Jan (28) churned; f3 not started
    jan, feb, mar = pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-29"), pd.Timestamp("2024-03-31")
    assert (cell["pro", jan, "active"], cell["pro", jan, "churned"]) == (1, 1)
    assert (cell["free", jan, "active"], cell["free", jan, "churned"]) == (0, 2)
    # 29 Feb: p1 35 days since 25 Jan: churned; f1 active the day before
    assert (cell["pro", feb, "active"], cell["pro", feb, "churned"]) == (0, 2)
    assert (cell["free", feb, "active"], cell["free", feb, "churned"]) == (1, 1)
    # 31 Mar: p1 and f2 active that day, f3 started the day before (new), f1 32 days: churned
    assert (cell["pro", mar, "active"], cell["pro", mar, "churned"]) == (1, 1)
    assert [cell["free", mar, s] for s in ("new", "active", "silent", "churned")] == [1, 1, 0, 1]
    shares = by.set_index(["segment", "date", "lifecycle_segment"])["share"]
    assert shares["free", mar, "active"] == pytest.approx(1 / 3)
    # the same as each plan's rows loaded alone, with the same thresholds
    for plan in ("pro", "free"):
        ids = set(LC_USERS.loc[LC_USERS["plan"] == plan, "user_id"])
        alone_log = load(ev[ev["user_id"].isin(ids)], users=LC_USERS[LC_USERS["user_id"].isin(ids)],
                         params=_lc_params())
        alone = lifecycle.snapshots(alone_log, thresholds=thr).rename(columns={"segment": "lifecycle_segment"})
        mine = by[by["segment"] == plan].drop(columns=["breakdown", "segment"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone, check_dtype=False)


# ---- usage cadence and breadth / depth by segment -----------------------------------------------

def _small_plan_log(rows, plans):
    users = pd.DataFrame({"user_id": list(plans), "plan": list(plans.values())})
    return load(day_events(rows), users=users, params=make_params(users={"source": "(given)", "attributes": ["plan"]}))


def test_cadence_by_segment_by_hand():
    # pro: a1 on days 0, 2, 4 (median gap 2), a2 on 0, 1 (gap 1); free: b1 on 0, 7 (gap 7), b2 once
    rows = [("a1", d, "open", 1) for d in (0, 2, 4)] + [("a2", d, "open", 1) for d in (0, 1)]
    rows += [("b1", d, "open", 1) for d in (0, 7)] + [("b2", 3, "open", 1)]
    log = _small_plan_log(rows, {"a1": "pro", "a2": "pro", "b1": "free", "b2": "free"})
    seg = segments(log, BreakdownParams(by="plan"))
    dist = stk.cadence_distribution(log, cap=10, by=seg)
    assert dist.columns.tolist() == ["breakdown", "segment", "gap_days", "users", "share"]
    got = dist[dist["users"] > 0].set_index(["segment", "gap_days"])["users"].to_dict()
    assert got == {("free", 7): 1, ("pro", 1): 1, ("pro", 2): 1}
    prof = stk.cadence_profile(log, by=seg).set_index("segment")
    assert prof.loc["pro", "typical_gap"] == 1.5 and prof.loc["pro", "cadence"] == "daily"
    assert (prof.loc["free", "typical_gap"], prof.loc["free", "users_with_gap"], prof.loc["free", "one_day_users"]) == (7, 1, 1)
    assert prof.loc["free", "cadence"] == "weekly"


def test_breadth_and_depth_by_segment_by_hand():
    from retention_kit.analyses import key_behaviors as kb
    # power = at least 2 active days in the user's last 28. pro: a1 does x twice on day 0 and y on
    # day 1 (power), a2 y on day 3 (occasional); free: b1 x on days 0 and 3 (power). Four days of
    # data: nobody is eligible for the outcome, so only the last-28-day segments exist.
    rows = [("a1", 0, "x", 2), ("a1", 1, "y", 1), ("a2", 3, "y", 1), ("b1", 0, "x", 1), ("b1", 3, "x", 1)]
    log = _small_plan_log(rows, {"a1": "pro", "a2": "pro", "b1": "free"})
    seg = segments(log, BreakdownParams(by="plan"))
    by = kb.behavior_segments(log, power_user_days=2, by=seg)
    base = kb.behavior_segments(log, power_user_days=2)
    assert by.columns.tolist() == ["breakdown", "segment", "behavior_segment", *base.columns[1:]]
    cell = by.set_index(["segment", "behavior_segment", "event"])
    assert cell.loc[("pro", "power", "x"), ["segment_users", "doers", "breadth", "depth_median"]].tolist() == [1, 1, 1.0, 2.0]
    assert cell.loc[("pro", "power", "y"), ["breadth", "depth_median"]].tolist() == [1.0, 1.0]
    assert cell.loc[("pro", "occasional", "x"), "doers"] == 0 and pd.isna(cell.loc[("pro", "occasional", "x"), "depth_median"])
    assert cell.loc[("free", "power", "x"), ["segment_users", "breadth", "depth_median"]].tolist() == [1, 1.0, 2.0]
    assert set(by.loc[by["segment"] == "free", "behavior_segment"]) == {"power"}  # free has no occasional user


def test_a_behaviour_cohort_on_an_event_the_log_lacks_is_an_error():
    # through the Python API too (a params file is checked at load): never a silent "not <name>" for all
    log = load(day_events(ROWS))
    b = BreakdownParams(by="pushed", cohorts=[{"name": "pushed", "when": {"event": "psuh"}, "window_days": 7}])
    with pytest.raises(DataError, match=r"breakdown.cohorts\['pushed'\].when: 'psuh' matches no event \(nearest: 'push'\)"):
        segments(log, b)


def test_two_segments_name_the_larger_one_when_the_one_above_is_too_small():
    # 0 of 695 back against 8 of 35: the segment above the rest has 35 users, under the minimum of
    # 100, so the sentence names the other one (below the rest), never "no segment differs"
    from retention_kit.analyses.segments import compare_segments
    from retention_kit.analyses.segments.pages import _curves
    from retention_kit.plots.segments import segment_points

    log = _attr_log()
    seg = segments(log, BreakdownParams(by="plan", top=1))
    f = pd.DataFrame({"segment": ["free", OTHER], "period": [1, 1], "active": [0, 8], "cohort_size": [695, 35]})
    cmp = compare_segments(f, analysis="retention_month", min_size=100)
    text = comparison_summary(cmp, seg, granularity="month", min_size=100).text
    assert text.startswith("free (695 users) differs from the rest in month 1: 0.0% against 22.9%")
    assert "Too small to compare (under 100 users): (other)" in text
    curves = _curves(f)
    assert curves.loc[0, "ci_low"] == 0.0  # exactly 0 at a share of 0, so error bars are never negative
    segment_points(curves.assign(period=1), order=["free", OTHER], small=[OTHER])
