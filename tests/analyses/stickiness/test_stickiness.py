"""Stickiness metrics on the hand-worked log (see tests/analyses/stickiness/logs.py), property
tests on random logs, an independent brute force on real data, and the notebook under papermill."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from retention_kit import NotEnoughDataError, load_events, load_params
from retention_kit.analyses import stickiness as stk
from tests.analyses.stickiness.logs import RANDOM, TINY, day, random_logs, tiny_frame
from tests.factories import REPO, load


# ---------------------------------------------------------------- active users (DAU/WAU/MAU)

def test_active_users_by_hand():
    au = stk.active_users(load(tiny_frame(), **TINY), mau_window=28)
    # a row for every day of the data range, days 0..34 (updated: rows used to start on day 27)
    assert list(au["date"]) == [day(n) for n in range(0, 35)]
    by = au.set_index(au["date"].map(lambda t: (t - day(0)).days))
    # active sets: 0 {a} 1 {a} 5 {b} 6 {c} 20 {b} 27 {a} 28 {a} 33 {d}
    # DAU on every day; a on 27 and 28 (28 via the UTC timestamp that is Jan 29 local), d on 33
    dau = [0] * 35
    for n in (0, 1, 5, 6, 20, 27, 28, 33):
        dau[n] = 1
    assert list(by["dau"]) == dau
    # WAU from day 6 (window 0..6 = {a, b, c}); day 8 (2..8) drops a, day 12 (6..12) keeps only c,
    # days 13..19 nobody, day 20..26 b; day 27 window 21..27 holds only a (b's day 20 is outside);
    # a stays counted through day 34 (28 + 6); d joins on 33
    assert by.loc[:5, "wau"].isna().all()
    assert list(by.loc[6:, "wau"]) == [3, 3, 2, 2, 2, 2, 1] + [0] * 7 + [1] * 7 + [1, 1, 1, 1, 1, 1, 2, 2]
    # MAU d-27..d from day 27: days 27..32 hold a, b, c; day 33 (window 6..33) adds d and still holds c
    # (day 6 is the window's first day); day 34 (window 7..34) drops c
    assert by.loc[:26, "mau"].isna().all() and by.loc[:26, ["dau_mau", "wau_mau"]].isna().all().all()
    assert list(by.loc[27:, "mau"]) == [3, 3, 3, 3, 3, 3, 4, 3]
    assert by.loc[27, "dau_mau"] == pytest.approx(1 / 3)
    assert by.loc[33, "wau_mau"] == pytest.approx(2 / 4)
    assert by.loc[30, "dau_mau"] == 0


def test_active_users_mau_30():
    au = stk.active_users(load(tiny_frame(), **TINY), mau_window=30)
    by = au.set_index(au["date"].map(lambda t: (t - day(0)).days))
    # MAU from day 29 (window 0..29); c (day 6) stays in through day 35, so 34 (5..34) has 4
    assert by["mau"].first_valid_index() == 29
    assert list(by.loc[29:, "mau"]) == [3, 3, 3, 3, 4, 4]


def test_timezone_shift_moves_the_event_to_its_local_day():
    # read in UTC, a's late event lands on Jan 30 (day 29) instead of day 28
    au = stk.active_users(load(tiny_frame(), **{**TINY, "timezone": "UTC"}), mau_window=28)
    by = au.set_index(au["date"].map(lambda t: (t - day(0)).days))
    assert by.loc[28, "dau"] == 0 and by.loc[29, "dau"] == 1


def test_a_short_log_has_dau_every_day_and_wau_from_the_7th():
    # 20 days (updated: this used to be a NotEnoughDataError, "DAU/WAU/MAU needs at least 28 days")
    df = pd.DataFrame({"user_id": ["a", "b"], "timestamp": ["2024-01-01 10:00", "2024-01-20 10:00"], "event": ["x", "x"]})
    au = stk.active_users(load(df))
    assert len(au) == 20 and au["dau"].tolist() == [1] + [0] * 18 + [1]
    # the 7th day (Jan 7) is the first with a whole 7-day window: a is still in it, not on Jan 8
    assert au["wau"].iloc[:6].isna().all() and au["wau"].iloc[6:9].tolist() == [1, 0, 0]
    assert au["mau"].isna().all() and au["dau_mau"].isna().all() and au["wau_mau"].isna().all()


def _brute_active_users(pairs: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp, window: int) -> pd.DataFrame:
    """Independent method: expand each (user, active day) to the days whose windows contain it,
    then count distinct users per day; WAU and MAU only from the day their window is whole."""
    out = {}
    for name, w in (("dau", 1), ("wau", 7), ("mau", window)):
        spread = pd.concat([pairs.assign(day=pairs["day"] + pd.Timedelta(days=o)) for o in range(w)])
        counts = spread.drop_duplicates().groupby("day")["user_id"].nunique()
        days = pd.date_range(first, last, freq="D")
        col = counts.reindex(days, fill_value=0).astype("float64")
        col[days < first + pd.Timedelta(days=w - 1)] = np.nan
        out[name] = col
    return pd.DataFrame(out)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_logs(min_span=30))
def test_active_users_properties(case):
    frame, week_start = case
    log = load(frame, week_start=week_start, **RANDOM)
    au = stk.active_users(log, mau_window=28)
    full = au.dropna()
    assert (full["dau"] <= full["wau"]).all() and (full["wau"] <= full["mau"]).all()
    assert au["dau_mau"].dropna().between(0, 1).all() and au["wau_mau"].dropna().between(0, 1).all()
    # a ratio exactly where both of its parts exist (and MAU is above zero)
    assert (au["dau_mau"].notna() == (au["mau"].fillna(0) > 0)).all()
    act = frame[frame["event"] == "open"]
    pairs = pd.DataFrame({"user_id": act["user_id"], "day": act["timestamp"].dt.normalize()}).drop_duplicates()
    # the range of activity analyses: from the first day of activity to the last day of any event
    brute = _brute_active_users(pairs, pairs["day"].min(), frame["timestamp"].dt.normalize().max(), 28)
    assert list(au["date"]) == list(brute.index)
    for c in ("dau", "wau", "mau"):
        assert au[c].astype("float64").fillna(-1).tolist() == brute[c].fillna(-1).tolist()


# ---------------------------------------------------------------- power-user curve

def test_power_user_curve_by_hand():
    pc = stk.power_user_curve(load(tiny_frame(), **TINY))
    # only January is complete (the data ends Feb 4); its active users: a 4 days, b 2, c 1
    assert set(pc["month"]) == {pd.Timestamp("2024-01-01")}
    assert list(pc["active_days"]) == list(range(1, 32))
    users = pc.set_index("active_days")["users"]
    assert users[1] == 1 and users[2] == 1 and users[4] == 1 and users.sum() == 3
    assert pc["share"].sum() == pytest.approx(1.0)
    assert pc.set_index("active_days").loc[4, "share"] == pytest.approx(1 / 3)


def test_trailing_curves_by_hand():
    l7 = stk.trailing_power_user_curve(load(tiny_frame(), **TINY), days=7)
    # days 28..34: a on 28, d on 33 -> two users with one active day
    assert l7["users"].tolist() == [2, 0, 0, 0, 0, 0, 0]
    l28 = stk.trailing_power_user_curve(load(tiny_frame(), **TINY), days=28)
    # days 7..34: a on 27 and 28 (2 days), b on 20, d on 33 (1 day each); c's day 6 is outside
    assert l28["users"].tolist()[:3] == [2, 1, 0] and l28["users"].sum() == 3
    assert l28["share"].tolist()[:2] == pytest.approx([2 / 3, 1 / 3])


def test_power_user_curve_by_cohort():
    pc = stk.power_user_curve_by_cohort(load(tiny_frame(), **TINY))
    # a, b, c all started in January: one cohort holding the January curve
    assert set(pc["cohort"]) == {pd.Timestamp("2024-01-01")}
    assert pc["users"].sum() == 3 and pc["share"].sum() == pytest.approx(1.0)


def test_no_complete_month():
    df = pd.DataFrame({"user_id": ["a", "a"], "timestamp": ["2024-01-05", "2024-02-20"], "event": ["x", "x"]})
    log = load(df)
    with pytest.raises(NotEnoughDataError, match="does not cover one complete month"):
        stk.power_user_curve(log)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_logs(min_span=65))
def test_power_user_curve_shares_sum_to_one(case):
    frame, week_start = case
    log = load(frame, week_start=week_start, **RANDOM)
    pc = stk.power_user_curve(log)
    sums = pc.groupby("month")["share"].sum()
    assert np.allclose(sums, 1.0)
    assert (pc.groupby("month")["active_days"].max() == pc.groupby("month")["days_in_month"].first()).all()


def test_curve_shape_reader():
    n = np.arange(1, 31)
    cliff = 0.5 ** n / (0.5 ** n).sum()
    assert stk.curve_shape(pd.Series(n), pd.Series(cliff))["shape"] == "cliff"
    # a second hump around day 22: 10% there against ~1% in the trough
    smile = np.where(n == 1, 0.4, 0.01) + np.where(abs(n - 22) <= 2, 0.06, 0)
    out = stk.curve_shape(pd.Series(n), pd.Series(smile / smile.sum()))
    assert out["shape"] == "smile"
    assert stk.curve_shape(pd.Series(n), pd.Series(np.full(30, 1 / 30)))["shape"] == "flat"
    # at least half the days = 15..30: a quarter of users on each of days 15 and 30
    half = np.zeros(30)
    half[[0, 13, 14, 29]] = 0.25
    assert stk.curve_shape(pd.Series(n), pd.Series(half))["half_share"] == pytest.approx(0.5)


# ---------------------------------------------------------------- usage cadence

def test_cadence_by_hand():
    log = load(tiny_frame(), **TINY)
    dist = stk.cadence_distribution(log)
    # a: gaps 1, 26, 1 -> median 1; b: gap 15; c and d have one active day (no gap)
    counts = dist.set_index("gap_days")["users"]
    assert counts[1] == 1 and counts[15] == 1 and counts.sum() == 2
    prof = stk.cadence_profile(log)
    # the median of 1 and 15 is 8 days: a weekly product, judged by WAU/MAU
    assert prof["typical_gap"] == pytest.approx(8.0)
    assert prof["cadence"] == "weekly" and prof["judge_by"] == "WAU/MAU"
    assert prof["one_day_users"] == 2 and prof["users_with_gap"] == 2


# ---------------------------------------------------------------- real data, independent computation

def test_active_users_match_brute_force_on_stackexchange(shared_data):
    path = shared_data / "stackexchange_martialarts" / "events.csv.gz"
    log = load_events(load_params(REPO / "params" / "stackexchange_martialarts.yaml"))
    au = stk.active_users(log, mau_window=28)
    raw = pd.read_csv(path, usecols=["user_id", "timestamp"], parse_dates=["timestamp"])
    # timestamps are naive UTC and the product's timezone is UTC: the local day is the date
    pairs = pd.DataFrame({"user_id": raw["user_id"], "day": raw["timestamp"].dt.normalize()}).drop_duplicates()
    brute = _brute_active_users(pairs, pairs["day"].min(), pairs["day"].max(), 28)
    assert len(au) == len(brute) > 4000
    assert (au["date"].to_numpy() == brute.index.to_numpy()).all()
    for c in ("dau", "wau", "mau"):
        assert (au[c].astype("float64").fillna(-1).to_numpy() == brute[c].fillna(-1).to_numpy()).all(), c


# ---------------------------------------------------------------- the notebook, end to end

CONTRACT = {
    "active_users.csv": ["date", "dau", "wau", "mau", "dau_mau", "wau_mau"],
    "power_user_curve.csv": ["month", "active_days", "users", "share"],
    "growth_accounting.csv": ["granularity", "period", "active", "new", "retained", "resurrected", "churned", "quick_ratio"],
    "retention.csv": ["granularity", "mode", "cohort", "period", "cohort_size", "active", "retention", "ci_low", "ci_high",
                      "new_cohort", "cohort_type", "start_event", "return_event"],
    "retention_brackets.csv": ["granularity", "cohort", "bracket", "first_day", "last_day", "cohort_size", "active",
                               "retention", "ci_low", "ci_high"],
    "trailing_activity.csv": ["days", "active_days", "users", "share"],
}
#: Words a page must never show (no silent wrong numbers, nothing but the report).
NEVER_ON_A_PAGE = ("nan%", ">nan<", " nan ", "None", "inf%", "Traceback", "Warning:")


def _page_text(html: str) -> str:
    import html as h
    import re

    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    body = re.sub(r"<img[^>]*>", " ", body)
    return h.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def _run(params_file: Path, out: Path) -> tuple[Path, str]:
    from retention_kit.reporting.runner import EXIT_OK, run

    res = run([params_file], out=out, notebooks=["stickiness"], jobs=1, progress=False)
    assert res.exit_code == EXIT_OK, [st.message for st in res.statuses]
    product = load_params(params_file).product
    return out / product / "data", _page_text((out / product / "stickiness.html").read_text())


def _check_exports(data: Path, *, brackets: bool) -> dict[str, pd.DataFrame]:
    frames = {}
    for name, cols in CONTRACT.items():
        df = pd.read_csv(data / name)
        assert list(df.columns[: len(cols)]) == cols, name
        assert not df.columns.str.startswith("Unnamed").any()
        if name != "retention_brackets.csv" or brackets:
            assert len(df) > 0 or name == "power_user_curve.csv", name
        frames[name] = df
    ret = frames["retention.csv"]
    assert ret["retention"].between(0, 1).all() and set(ret["mode"]) == {"on", "on_or_after"}
    assert (ret.loc[ret["period"] == 0, "retention"] == 1).all()
    ga = frames["growth_accounting.csv"]
    assert (ga["active"] == ga["new"] + ga["retained"] + ga["resurrected"]).all()
    au = frames["active_users.csv"]
    dates = pd.to_datetime(au["date"], format="%Y-%m-%d")
    # a row for every day of the data range; DAU on every one of them
    assert (dates.diff().dropna() == pd.Timedelta(days=1)).all() and au["dau"].notna().all()
    return frames


@pytest.mark.slow
@pytest.mark.parametrize("params_file", ["demo.yaml", "stackexchange_martialarts.yaml", "online_retail.yaml"])
def test_runs_end_to_end_through_the_runner(params_file, tmp_path, shared_data):
    data, text = _run(REPO / "params" / params_file, tmp_path / "out")
    frames = _check_exports(data, brackets=False)
    ret = frames["retention.csv"]
    # every granularity (issue 12), whatever the configured one; the defaults' columns
    assert set(ret["granularity"]) == {"day", "week", "month"}
    assert set(ret["cohort_type"]) == {"first"} and ret["start_event"].isna().all() and ret["return_event"].isna().all()
    day = ret[ret["granularity"] == "day"]
    assert day["period"].max() <= 90 and day["cohort"].nunique() <= 90
    assert set(frames["growth_accounting.csv"]["granularity"]) == {"day", "week", "month"}
    assert set(frames["trailing_activity.csv"]["days"]) == {7, 28}
    assert "In short" in text and not any(w in text for w in NEVER_ON_A_PAGE)
    # the D1/D7/D30 headline quotes pooled cohorts of at least 100 users (each log has more)
    assert "Day-N retention" in text and "D1 " in text


@pytest.mark.slow
def test_a_two_week_log_end_to_end(tmp_path):
    from retention_kit.data.datasets import make_demo_log

    df = make_demo_log(1500, seed=3, days=14).drop(columns=["revenue"])
    df.to_csv(tmp_path / "events.csv", index=False)
    (tmp_path / "two_weeks.yaml").write_text(
        "product: two_weeks\ndata:\n  source: events.csv\n  exclude_events: [push_sent]\n"
        "stickiness:\n  granularity: day\n  retention:\n    brackets: [[1, 1], [2, 7]]\n")
    data, text = _run(tmp_path / "two_weeks.yaml", tmp_path / "out")
    frames = _check_exports(data, brackets=True)
    au = frames["active_users.csv"]
    assert len(au) == 14 and au["wau"].iloc[:6].isna().all() and au["wau"].iloc[6:].notna().all()
    assert au["mau"].isna().all()
    assert set(frames["trailing_activity.csv"]["days"]) == {7}  # L28 is longer than the data
    assert frames["power_user_curve.csv"].empty  # no complete month: header only
    b = frames["retention_brackets.csv"]
    assert set(b["bracket"]) == {"1-1", "2-7"} and set(b["granularity"]) >= {"day"}
    # the page shows what a short log can show and is not judged by a ratio it lacks
    assert "DAU/MAU and WAU/MAU cannot be shown yet" in text and "judged by DAU/MAU" not in text
    assert "Day-N retention" in text and "L28: the data covers 14 days" in text
    assert not any(w in text for w in NEVER_ON_A_PAGE)


# ---------------------------------------------------------------- summary and charts

def _tiny_frames(log):
    from retention_kit.analyses import stickiness as growth, stickiness as retention
    from retention_kit.data.params import StickinessParams

    cells = retention.cohort_retention(log, granularity="week", modes=("on",))
    return dict(active=stk.active_users(log), curve=stk.power_user_curve(log),
                growth=growth.growth_accounting(log, granularity="week"), cells=cells,
                avg=retention.average_retention(cells), cadence=stk.cadence_profile(log),
                params=StickinessParams())


def test_summary_sentences_by_hand():
    from retention_kit.analyses.stickiness import summary_sentences

    s = summary_sentences(**_tiny_frames(load(tiny_frame(), **TINY)))
    # the page leads with its granularity (week): week-1 retention first. Updated: the W0 cohort
    # {a, b, c} used to be quoted; it is left-censored (no users table), W4 {d} has no week 1
    assert s[0] == "Week-1 retention cannot be shown yet: no new cohort has been observed for a complete week after its own."
    assert s[1] == ("In the last complete week (2024-01-29) 2 users were active: 1 new, 1 retained, 0 resurrected; "
                    "0 churned.")
    # a weekly product (typical gap 8 days) is judged by WAU/MAU; no calendar month is wholly
    # reported (days Jan 28..Feb 4), so the last 8 days: (6 x 1/3 + 2/4 + 2/3) / 8 = 39.6%
    assert s[2] == "WAU/MAU averaged 40% over the last 8 reported days."
    # January: a 4 days, b 2, c 1; nobody on 16+ of 31 days; no hump on the right
    assert s[3].startswith("0% of January's active users were active on 16 or more of its 31 days (the curve is a cliff")
    assert s[4] == ("Users' typical gap between active days is 8 days (over only 35 days of data, so longer gaps "
                    "cannot show yet): a weekly product, so its stickiness is judged by WAU/MAU, not by DAU/MAU.")


def test_week_one_is_quoted_only_for_a_cohort_of_the_minimum_size():
    from retention_kit.analyses.stickiness import summary_sentences
    from tests.analyses.stickiness.logs import SIGNUPS_SECTION
    from tests.factories import make_params

    # signups on each user's first active day: W0 {a, b, c} is a real cohort, W4 {d} too
    users = pd.DataFrame({"user_id": ["a", "b", "c", "d"],
                          "signup_time": ["2024-01-01 07:00", "2024-01-06 07:00", "2024-01-07 07:00", "2024-02-03 07:00"]})
    log = load(tiny_frame(), users=users, params=make_params(users=SIGNUPS_SECTION, **TINY))
    frames = _tiny_frames(log)
    # the log has 4 users, fewer than min_cohort_size (100): the minimum is all 4; W0 has 3
    assert stk.minimum_cohort(log, 100) == 4
    s = summary_sentences(**frames, min_size=stk.minimum_cohort(log, 100))
    assert s[0] == ("Week-1 retention cannot be quoted yet: no new cohort with a complete week 1 has 4 users (the "
                    "largest has 3; stickiness.min_cohort_size).")
    # with a minimum of 3 it is quoted: W0, nobody in W1; Wilson upper end for 0/3 is 56%; only
    # one cohort reached period 1, so there is no average to compare with
    s = summary_sentences(**frames, min_size=3)
    assert s[0] == "Week-1 retention of the latest complete cohort (week of 2024-01-01, 3 users) is 0% [0%, 56%]."


def test_headline_never_quotes_a_small_cohort():
    # cells by hand: daily cohorts of 30, 50 and 80 users, D1 returns 3, 10, 8; the oldest is left-censored
    days = pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"])
    cells = pd.DataFrame({"granularity": "day", "mode": "on", "cohort": days, "period": 1,
                          "cohort_size": [500, 30, 50, 80], "active": [400, 3, 10, 8],
                          "new_cohort": [False, True, True, True]})
    h = stk.retention_headline(cells, periods=(1,), min_size=100).iloc[0]
    # newest first: 80 (Mar 4) is too small, 80 + 50 = 130 reaches 100; the 30 and the censored 500 stay out
    assert h["quoted"] and h["cohorts"] == 2 and h["cohort_size"] == 130 and h["active"] == 18
    assert (h["first_cohort"], h["last_cohort"]) == (days[2], days[3])
    assert h["retention"] == pytest.approx(18 / 130)
    # one cohort at a time: none of the new ones has 100 users, so nothing is quoted
    single = stk.retention_headline(cells, periods=(1,), min_size=100, pool=False).iloc[0]
    assert not single["quoted"] and np.isnan(single["retention"]) and single["largest"] == 80
    assert stk.retention_headline(cells, periods=(1,), min_size=50, pool=False).iloc[0]["last_cohort"] == days[3]
    # all new cohorts together hold 160: a minimum of 200 is not met, and the frame says how close
    h = stk.retention_headline(cells, periods=(1, 7), min_size=200)
    assert h["quoted"].tolist() == [False, False] and h["available"].tolist() == [160, 0]


def test_summary_compares_months():
    from retention_kit.data.params import StickinessParams
    from retention_kit.analyses.stickiness import ratio_by_month, summary_sentences

    days = pd.date_range("2024-01-01", "2024-03-10", freq="D")
    ratio = np.where(days.month == 1, 0.10, np.where(days.month == 2, 0.13, 0.5))
    active = pd.DataFrame({"date": days, "dau": 1, "wau": 2, "mau": 10, "dau_mau": ratio, "wau_mau": 0.4})
    # March is not wholly reported and is left out of the monthly means
    assert ratio_by_month(active)["month"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    s = summary_sentences(active=active, curve=None, growth=None, cells=None, avg=None, cadence=None,
                          params=StickinessParams())
    assert s == ["DAU/MAU averaged 13% in February 2024, up 3 points on January (WAU/MAU 40%)."]


def test_charts_are_titled_and_labelled():
    import matplotlib.pyplot as plt

    from retention_kit.plots import stickiness as plots

    f = _tiny_frames(load(tiny_frame(), week_start="sunday", **TINY))
    axes = [
        plots.active_users(f["active"]), plots.stickiness_ratios(f["active"]), plots.power_user_curve(f["curve"]),
        plots.power_user_curve_by_cohort(stk.power_user_curve_by_cohort(load(tiny_frame(), **TINY))),
        plots.trailing_power_user_curve(stk.trailing_power_user_curve(load(tiny_frame(), **TINY), days=7)),
        plots.growth_accounting(f["growth"]), plots.retention_heatmap(f["cells"]),
        plots.average_retention(f["avg"]),
        plots.cadence(stk.cadence_distribution(load(tiny_frame(), **TINY)), typical_gap=8.0),
    ]
    tiny = load(tiny_frame(), **TINY)
    day_cells = stk.cohort_retention(tiny, granularity="day", modes=("on",), max_period=10)
    axes += [
        plots.trailing_activity(stk.trailing_activity(tiny, days=[7, 28]), days=28),
        plots.retention_heatmap(day_cells), plots.average_retention(stk.average_retention(day_cells), granularity="day"),
        plots.growth_accounting(stk.growth_accounting(tiny, granularity="day")),
        plots.retention_brackets(stk.average_brackets(stk.retention_brackets(tiny, brackets=[(1, 1), (2, 7)]))),
        plots.active_users(stk.active_users(load(tiny_frame().head(2), **TINY))),  # two days: DAU only
    ]
    for ax in axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert axes[-5].get_title().startswith("Daily retention by cohort")
    # percent axes show percents
    assert axes[1].yaxis.get_major_formatter()(0.25, 0) == "25%"
    # the triangle: cohorts S0 (periods 1-4: S0 itself starts Dec 31, before the data), S1 (0-3),
    # S4 (0): 9 complete cells annotated, the incomplete ones left blank (updated: was 10, counting
    # S0's partial week as complete)
    texts = [t.get_text() for t in axes[6].texts]
    assert sum(bool(t) for t in texts) == 9
    plt.close("all")
