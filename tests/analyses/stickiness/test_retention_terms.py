"""Retention on the analyst's terms (issue 12), worked by hand: day-N retention, start and return
events, recurring cohorts, "on" and "on or after", brackets, Sunday and Monday weeks, a US
timezone across a daylight-saving change, daily growth accounting, a 10-day log; and the kit
against an independent pandas computation over the raw rows (tests/analyses/stickiness/reference.py)
on random logs for every combination of options."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from retention_kit import DataError, NotEnoughDataError
from retention_kit.analyses import stickiness as stk
from retention_kit.data.params import StickinessParams
from tests.analyses.stickiness.logs import RANDOM, random_logs
from tests.analyses.stickiness.reference import kit_cells, local_days, reference_cells
from tests.factories import D0, day_events, events, load


def _cells(r: pd.DataFrame, mode: str, cohort: str | pd.Timestamp) -> dict[int, int]:
    d = r[(r["mode"] == mode) & (r["cohort"] == pd.Timestamp(cohort))]
    return dict(zip(d["period"], d["active"]))


def _d(n: int) -> pd.Timestamp:
    return pd.Timestamp(D0 + dt.timedelta(days=n))


# ---------------------------------------------------------------- start and return events (days)

def shop_frame() -> pd.DataFrame:
    """Days since Monday 2024-01-01, UTC, every event active; data range days 0..13.

        u1: signup 0, open 1, purchase 2, open 9
        u2: signup 0, purchase 0 (the same day), signup again 3, purchase 12
        u3: signup 1
        u4: open 0, purchase 5 (never signs up)
        u5: signup 2, open 4, purchase 13
    """
    return day_events([
        ("u1", 0, "signup", 1), ("u1", 1, "open", 1), ("u1", 2, "purchase", 1), ("u1", 9, "open", 1),
        ("u2", 0, "signup", 1), ("u2", 0, "purchase", 1), ("u2", 3, "signup", 1), ("u2", 12, "purchase", 1),
        ("u3", 1, "signup", 1),
        ("u4", 0, "open", 1), ("u4", 5, "purchase", 1),
        ("u5", 2, "signup", 1), ("u5", 4, "open", 1), ("u5", 13, "purchase", 1),
    ])


def test_return_event_different_from_the_start_event():
    log = load(shop_frame())
    r = stk.cohort_retention(log, granularity="day", start_event=["signup"], return_event=["purchase"])
    # cohorts by first signup: day 0 {u1, u2}, day 1 {u3}, day 2 {u5}; u4 never signs up
    sizes = r[r["period"] == 0].groupby("cohort")["cohort_size"].first()
    assert sizes.to_dict() == {_d(0): 2, _d(1): 1, _d(2): 1}
    # "on", day-0 cohort: D2 u1's purchase; D12 u2's; u2's second signup on day 3 is not a return,
    # nor is u2's purchase on day 0 (the start day is D0, 100% by definition); D1..D13 inside the data
    on0 = _cells(r, "on", _d(0))
    assert on0 == {0: 2, **{k: 0 for k in range(1, 14)}, 2: 1, 12: 1}
    assert set(_cells(r, "on", _d(1)).values()) == {0, 1} and _cells(r, "on", _d(1))[0] == 1
    assert _cells(r, "on", _d(2)) == {0: 1, **{k: 0 for k in range(1, 11)}, 11: 1}
    # "on or after": D1 and D2 both (u1's last purchase is day 2, u2's day 12), D3..D12 u2 only, D13 nobody
    assert _cells(r, "on_or_after", _d(0)) == {0: 2, 1: 2, 2: 2, **{k: 1 for k in range(3, 13)}, 13: 0}
    assert _cells(r, "on_or_after", _d(2)) == {0: 1, **{k: 1 for k in range(1, 12)}}
    # the lists as text; the day-1 cohort {u3} never purchases
    assert set(r["start_event"]) == {"signup"} and set(r["return_event"]) == {"purchase"}
    assert set(r["cohort_type"]) == {"first"}
    assert sum(_cells(r, "on_or_after", _d(1)).values()) == 1  # D0 only


def test_start_events_count_as_returns_when_no_return_event_is_set():
    r = stk.cohort_retention(load(shop_frame()), granularity="day", start_event=["signup"], modes=("on",))
    # returns are any activity now: u2's second signup (day 3) is a return, u1's open on day 1 too
    on0 = _cells(r, "on", _d(0))
    assert (on0[1], on0[2], on0[3], on0[9], on0[12]) == (1, 1, 1, 1, 1)
    assert r["return_event"].eq("").all()


def test_default_start_with_a_return_event():
    r = stk.cohort_retention(load(shop_frame()), granularity="day", return_event=["purchase"], modes=("on",))
    # start = first active day: day 0 {u1, u2, u4}, day 1 {u3}, day 2 {u5}; u4's purchase is D5
    assert _cells(r, "on", _d(0))[0] == 3 and _cells(r, "on", _d(0))[5] == 1
    assert r["start_event"].eq("").all() and set(r["return_event"]) == {"purchase"}


def test_day_cohorts_and_max_day_keep_the_latest_cells():
    r = stk.cohort_retention(load(shop_frame()), granularity="day", start_event=["signup"],
                             latest_cohorts=13, max_period=5, modes=("on_or_after",))
    # cohorts starting in the last 13 days (days 1..13): day 1 {u3} and day 2 {u5}; cells D0..D5
    assert sorted(r["cohort"].unique()) == [_d(1), _d(2)] and r["period"].max() == 5
    # "on or after" still counts u5's purchase on day 13, after D5
    assert _cells(r, "on_or_after", _d(2)) == {k: 1 for k in range(0, 6)}


def test_brackets_by_hand():
    log = load(shop_frame())
    spans = [(1, 1), (2, 7), (8, 14)]
    b = stk.retention_brackets(log, brackets=spans, start_event=["signup"], return_event=["purchase"])
    got = {(c.date().day - 1, br): (n, a) for c, br, n, a in zip(b["cohort"], b["bracket"], b["cohort_size"], b["active"])}
    # day-0 cohort {u1, u2}: day 1 nobody purchases; days 2-7 u1 (day 2); days 8-14 end on day 14,
    # after the data (day 13): not listed. Day 1 {u3}, day 2 {u5}: nothing in 1-1 or 2-7
    # (u5 buys on day 13 = its day 11). Later days have no cohort.
    assert got == {(0, "1-1"): (2, 0), (0, "2-7"): (2, 1), (1, "1-1"): (1, 0), (1, "2-7"): (1, 0),
                   (2, "1-1"): (1, 0), (2, "2-7"): (1, 0)}
    assert b[["first_day", "last_day"]].drop_duplicates().values.tolist() == [[1, 1], [2, 7]]
    # weekly cohorts, days since each user's own start: W0 {u1 (day 0), u2 (0), u3 (1), u5 (2)};
    # 1-1 ends by W0's last day (6) + 1 = 7 <= 13: nobody; 2-7 by 13: u1 (day 2); 8-14 by 20: no
    w = stk.retention_brackets(log, brackets=spans, granularity="week", start_event=["signup"], return_event=["purchase"])
    assert w[["bracket", "cohort_size", "active"]].values.tolist() == [["1-1", 4, 0], ["2-7", 4, 1]]
    avg = stk.average_brackets(b)
    # pooled over new cohorts: day 0 is left-censored (the first day of data, no users table)
    assert avg[["bracket", "cohorts", "cohort_size", "active"]].values.tolist() == [["1-1", 2, 2, 0], ["2-7", 2, 2, 0]]
    with pytest.raises(NotEnoughDataError, match="no day cohort has a complete bracket"):
        stk.retention_brackets(log, brackets=[(20, 30)])


# ---------------------------------------------------------------- recurring cohorts, Monday and Sunday weeks

def recurring_frame() -> pd.DataFrame:
    """Days since Monday 2024-01-01, UTC; data range days 0..34 (Mon Jan 1 to Sun Feb 4).

        x: active on days 6 (Sun Jan 7), 7 (Mon Jan 8), 23
        y: days 1, 15
        z: day 12
        w: days 0, 34
    """
    return day_events([("x", 6, "open", 1), ("x", 7, "open", 1), ("x", 23, "open", 1), ("y", 1, "open", 1),
                       ("y", 15, "open", 1), ("z", 12, "open", 1), ("w", 0, "open", 1), ("w", 34, "open", 1)])


def test_recurring_cohorts_monday_weeks():
    r = stk.cohort_retention(load(recurring_frame()), granularity="week", cohort_type="recurring")
    # Monday weeks W0 (days 0-6) .. W4 (28-34), all complete. Active weeks: x W0 W1 W3, y W0 W2,
    # z W1, w W0 W4. x belongs to the cohorts W0, W1 and W3, each followed on its own.
    sizes = r[r["period"] == 0].groupby("cohort")["cohort_size"].first()
    assert sizes.tolist() == [3, 2, 1, 1, 1]  # W0 {x, y, w}, W1 {x, z}, W2 {y}, W3 {x}, W4 {w}
    w0, w1 = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")
    # W0: k1 x (W1), k2 y (W2), k3 x (W3), k4 w (W4)
    assert _cells(r, "on", w0) == {0: 3, 1: 1, 2: 1, 3: 1, 4: 1}
    # W1: k1 (W2) nobody, k2 (W3) x, k3 (W4) nobody
    assert _cells(r, "on", w1) == {0: 2, 1: 0, 2: 1, 3: 0}
    # on or after: W0 last weeks x W3, y W2, w W4 -> 3, 3, 2, 1; W1: x (W3) -> 1, 1, 0 (z never returns)
    assert _cells(r, "on_or_after", w0) == {0: 3, 1: 3, 2: 3, 3: 2, 4: 1}
    assert _cells(r, "on_or_after", w1) == {0: 2, 1: 1, 2: 1, 3: 0}
    assert set(r["cohort_type"]) == {"recurring"} and r["new_cohort"].all()


def test_recurring_cohorts_sunday_weeks():
    log = load(recurring_frame(), week_start="sunday")
    r = stk.cohort_retention(log, granularity="week", cohort_type="recurring")
    # Sunday weeks S0 (Dec 31-Jan 6: starts before the data, incomplete) .. S4 (Jan 28-Feb 3);
    # S5 (Feb 4-10) ends after the data. x's days 6 and 7 are one week now (S1), day 23 is S3;
    # y: S0, S2; z: S1; w: S0, S5.
    s0, s1 = pd.Timestamp("2023-12-31"), pd.Timestamp("2024-01-07")
    # S0 {y, w}: no period-0 cell (S0 is incomplete) and not a fully observed cohort
    assert _cells(r, "on", s0) == {1: 0, 2: 1, 3: 0, 4: 0}
    assert not r.loc[r["cohort"] == s0, "new_cohort"].any()
    # on or after reaches into the incomplete S5: w's day 34 counts for every k up to 4
    assert _cells(r, "on_or_after", s0) == {1: 2, 2: 2, 3: 1, 4: 1}
    # S1 {x, z}: k1 (S2) nobody, k2 (S3) x, k3 (S4) nobody
    assert _cells(r, "on", s1) == {0: 2, 1: 0, 2: 1, 3: 0}
    assert _cells(r, "on_or_after", s1) == {0: 2, 1: 1, 2: 1, 3: 0}
    # w's S5 membership lies after the last complete week: no cohort
    assert r["cohort"].max() == pd.Timestamp("2024-01-21")


def test_recurring_start_event():
    frame = pd.concat([recurring_frame(), day_events([("z", 14, "share", 1), ("z", 22, "share", 1), ("x", 22, "share", 1)])])
    r = stk.cohort_retention(load(frame), granularity="week", cohort_type="recurring", start_event=["share"],
                             modes=("on",))
    # start = a share: W2 {z} (day 14), W3 {z, x} (day 22); returns are any activity (share included)
    assert r[r["period"] == 0].set_index("cohort")["cohort_size"].to_dict() == {
        pd.Timestamp("2024-01-15"): 1, pd.Timestamp("2024-01-22"): 2}
    # W2 {z}: W3 z shares (a return: no return_event is set) -> 1; W4 nobody
    assert _cells(r, "on", "2024-01-15") == {0: 1, 1: 1, 2: 0}
    # W3 {z, x}: W4 nobody (w is not in it)
    assert _cells(r, "on", "2024-01-22") == {0: 2, 1: 0}


def test_daily_growth_accounting_by_hand():
    ga = stk.growth_accounting(load(recurring_frame()), granularity="day")
    assert len(ga) == 35 and ga["period"].iloc[0] == _d(0)
    by = ga.set_index(ga["period"].map(lambda t: (t - _d(0)).days))
    # day 0 w new; day 1 y new, w churns; day 2 y churns; day 6 x new, day 7 x retained, day 8 x churns;
    # day 12 z new, 13 z churns; 15 y resurrected, 16 y churns; 23 x resurrected; 34 w resurrected
    rows = {0: [1, 1, 0, 0, 0], 1: [1, 1, 0, 0, 1], 2: [0, 0, 0, 0, 1], 6: [1, 1, 0, 0, 0], 7: [1, 0, 1, 0, 0],
            8: [0, 0, 0, 0, 1], 15: [1, 0, 0, 1, 0], 16: [0, 0, 0, 0, 1], 23: [1, 0, 0, 1, 0], 34: [1, 0, 0, 1, 0]}
    for n, want in rows.items():
        assert by.loc[n, ["active", "new", "retained", "resurrected", "churned"]].tolist() == want, n
    # a day with nobody active still has its row, with the churned users of the day before
    assert by.loc[2, "churned_new"] == 1 and by.loc[2, "quick_ratio"] == 0


def test_daily_growth_matches_sets_of_users():
    """Independent method: per-day sets of users, straight from the rows."""
    frame = recurring_frame()
    ga = stk.growth_accounting(load(frame), granularity="day")
    days = local_days(frame, "UTC")
    sets = frame.assign(day=days).groupby("day")["user_id"].agg(set)
    seen: set = set()
    prev: set = set()
    rows = []
    for d in pd.date_range(days.min(), days.max()):
        cur = sets.get(d, set())
        rows.append([len(cur), len(cur - seen), len(cur & prev), len((cur - prev) & seen), len(prev - cur)])
        seen |= cur
        prev = cur
    assert ga[["active", "new", "retained", "resurrected", "churned"]].values.tolist() == rows


# ---------------------------------------------------------------- a US timezone across the DST change

def dst_frame() -> pd.DataFrame:
    """America/New_York moves from EST (UTC-5) to EDT (UTC-4) at 02:00 on Sunday 2024-03-10.

        p: 2024-03-09 04:30Z = Fri Mar 8 23:30 EST (start); 2024-03-10 04:10Z = Sat Mar 9 23:10 EST (D1);
           2024-03-11 03:50Z = Sun Mar 10 23:50 EDT (D2); 2024-03-12 04:30Z = Tue Mar 12 00:30 EDT (D4;
           a fixed UTC-5 would put it on Mon Mar 11, D3)
        q: 2024-03-10 05:30Z = Sun Mar 10 00:30 EST (start); 2024-03-11 04:10Z = Mon Mar 11 00:10 EDT
           (D1, only 22h40 later: the day of the change has 23 hours)
        r: 2024-03-11 03:30Z = Sun Mar 10 23:30 EDT (start); 2024-03-11 13:00Z = Mon Mar 11 09:00 EDT (D1;
           in UTC both are on Mar 11)
    """
    rows = [("p", "2024-03-09 04:30"), ("p", "2024-03-10 04:10"), ("p", "2024-03-11 03:50"), ("p", "2024-03-12 04:30"),
            ("q", "2024-03-10 05:30"), ("q", "2024-03-11 04:10"), ("r", "2024-03-11 03:30"), ("r", "2024-03-11 13:00")]
    return events([(u, pd.Timestamp(t, tz="UTC"), "open") for u, t in rows])


def test_day_n_across_a_dst_change():
    log = load(dst_frame(), timezone="America/New_York")
    assert (log.first_day, log.last_day) == (dt.date(2024, 3, 8), dt.date(2024, 3, 12))
    r = stk.cohort_retention(log, granularity="day", modes=("on",))
    assert _cells(r, "on", "2024-03-08") == {0: 1, 1: 1, 2: 1, 3: 0, 4: 1}
    assert _cells(r, "on", "2024-03-10") == {0: 2, 1: 2, 2: 0}
    au = stk.active_users(log)
    # Mar 10 holds p (23:50 EDT), q (00:30 EST) and r (23:30 EDT)
    assert au["dau"].tolist() == [1, 1, 3, 2, 1]
    # the same log read in UTC gives other days: p's returns are its D1, D2, D3, r's is D0
    utc = stk.cohort_retention(load(dst_frame()), granularity="day", modes=("on",))
    assert _cells(utc, "on", "2024-03-09") == {0: 1, 1: 1, 2: 1, 3: 1}
    # and the independent computation (pandas' own timezone conversion) agrees in both zones
    for tz, table in (("America/New_York", r), ("UTC", utc)):
        want = {k: v for k, v in reference_cells(dst_frame(), granularity="day", tz=tz).items() if k[0] == "on"}
        assert kit_cells(table) == want, tz


# ---------------------------------------------------------------- a 10-day log

def ten_day_frame() -> pd.DataFrame:
    """Days 0..9 (Mon Jan 1 to Wed Jan 10), UTC: a every day, b days 0 and 7, c days 3 and 4, d day 9."""
    return day_events([("a", n, "open", 1) for n in range(10)]
                      + [("b", 0, "open", 1), ("b", 7, "open", 1), ("c", 3, "open", 1), ("c", 4, "open", 1),
                         ("d", 9, "open", 1)])


def test_a_ten_day_log():
    log = load(ten_day_frame())
    au = stk.active_users(log)
    assert au["dau"].tolist() == [2, 1, 1, 2, 2, 1, 1, 2, 1, 2]
    # WAU from the 7th day: window 0..6 {a, b, c}, 1..7 and 2..8 the same, 3..9 adds d
    assert au["wau"].iloc[:6].isna().all() and au["wau"].iloc[6:].tolist() == [3, 3, 3, 4]
    assert au["mau"].isna().all() and au["dau_mau"].isna().all()
    # L7 (days 3..9): a on 7 days, c on 2, b and d on 1; L28 is longer than the data and left out
    t = stk.trailing_activity(log, days=[7, 28])
    assert set(t["days"]) == {7}
    assert t.set_index("active_days")["users"].to_dict() == {1: 2, 2: 1, 3: 0, 4: 0, 5: 0, 6: 0, 7: 1}
    assert t["share"].tolist()[:2] == [0.5, 0.25]
    with pytest.raises(NotEnoughDataError, match="covers 10 days"):
        stk.trailing_activity(log, days=[28])
    with pytest.raises(NotEnoughDataError, match="complete month"):
        stk.power_user_curve(log)
    # daily retention: day 0 {a, b} (left-censored), day 3 {c}: D1 c; day 9 {d}: D0 only
    r = stk.cohort_retention(log, granularity="day", modes=("on",))
    assert _cells(r, "on", _d(3)) == {0: 1, 1: 1, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0}
    assert _cells(r, "on", _d(0)) == {0: 2, **{k: 1 for k in range(1, 10)}, 7: 2}
    assert _cells(r, "on", _d(9)) == {0: 1}


def test_a_ten_day_log_is_summed_up_by_what_it_can_show():
    log = load(ten_day_frame())
    sp = StickinessParams(granularity="day")
    day_cells = stk.cohort_retention(log, granularity="day", modes=("on",), latest_cohorts=90, max_period=90)
    s = stk.summary_sentences(active=stk.active_users(log), curve=None, growth=stk.growth_accounting(log, granularity="day"),
                              cells=day_cells, avg=stk.average_retention(day_cells), cadence=stk.cadence_profile(log),
                              params=sp, day_cells=day_cells, min_size=stk.minimum_cohort(log, 100))
    # the minimum is the log's 4 users; the new cohorts with a complete D1 hold 1 (c); none has a D7 or D30
    assert s[0] == ("D1 cannot be quoted: of the daily cohorts kept (the last 90 days, stickiness.retention.day_cohorts), "
                    "only 1 new user has a complete day 1, fewer than the 4 a headline needs "
                    "(stickiness.min_cohort_size). D7/D30 cannot be shown yet: no new daily cohort has a complete "
                    "day 7 in the data.")
    assert s[1] == ("On the last day of data (2024-01-10) 2 users were active: 1 new, 1 retained, 0 resurrected; "
                    "0 churned.")
    # DAU over days 3..9: 11 / 7 = 1.6
    assert s[2] == ("The data covers 10 days, fewer than the 28 one MAU needs, so DAU/MAU and WAU/MAU cannot be "
                    "shown yet; DAU averaged 1.6 over the last 7 days and WAU was 4 on the last day.")
    # gaps: a 1 (every day), b 7, c 1 -> typical 1: a daily product, but no DAU/MAU to judge it by
    assert s[3] == ("Users' typical gap between active days is 1 days (over only 10 days of data, so longer gaps "
                    "cannot show yet): a daily product, so its stickiness is judged by daily retention (D1, D7) "
                    "and the L7 curve, for now.")
    assert not any("judged by DAU/MAU" in x for x in s)


# ---------------------------------------------------------------- names that match no event

def test_unknown_start_or_return_events_are_errors_naming_the_nearest():
    log = load(shop_frame(), exclude_events=["open"])
    with pytest.raises(DataError, match=r"stickiness.retention.start_event: 'sign_up' matches no event "
                                        r"\(nearest: 'signup'\)"):
        stk.cohort_retention(log, granularity="day", start_event=["sign_up"])
    with pytest.raises(DataError, match=r"stickiness.retention.return_event: 'Purchase' matches no event "
                                        r"\(nearest: 'purchase'\) in column 'event' of the 10 valid rows"):
        stk.retention_brackets(log, brackets=[(1, 1)], return_event=["Purchase"])
    with pytest.raises(DataError, match="'open' is removed by data.exclude_events"):
        stk.cohort_retention(log, granularity="week", return_event=["purchase", "open"])


# ---------------------------------------------------------------- against the independent computation

OPTIONS = [
    {},
    {"cohort_type": "recurring"},
    {"start_event": ["push"]},
    {"return_event": ["push"]},
    {"cohort_type": "recurring", "start_event": ["push"], "return_event": ["open", "push"]},
    {"start_event": ["open"], "return_event": ["push"]},
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_logs(min_span=35))
def test_matches_the_pandas_reference_on_random_logs(case):
    frame, week_start = case
    log = load(frame, week_start=week_start, **RANDOM)
    has_push = (frame["event"] == "push").any()
    for opts in OPTIONS:
        if not has_push and ("push" in (opts.get("start_event") or []) or "push" in (opts.get("return_event") or [])):
            with pytest.raises(DataError, match="'push' matches no event"):
                stk.cohort_retention(log, granularity="day", **opts)
            continue
        for gran, extra in (("day", {"latest_cohorts": 20, "max_period": 12}), ("week", {}), ("month", {})):
            want = reference_cells(frame, granularity=gran, week_start=week_start, active_events=["open"], **opts, **extra)
            try:
                got = kit_cells(stk.cohort_retention(log, granularity=gran, **opts, **extra))
            except NotEnoughDataError:
                got = {}
            assert got == want, (gran, opts)
