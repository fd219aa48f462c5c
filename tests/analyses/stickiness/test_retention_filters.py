"""Start and return events with property filters (``stickiness.retention.start_event: [{event:
purchase, where: {amount: {gte: 50}}}]``): only the events that pass the filter start a cohort or
count as a return. Values worked out by hand from the rows below, and by plain pandas."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from retention_kit import DataError, ParamsError
from retention_kit.analyses import stickiness as stk

from tests.factories import D0, load, make_params

BIG = {"event": "purchase", "where": {"amount": {"gte": 50}}}


def _at(day: int) -> pd.Timestamp:
    return pd.Timestamp(D0 + dt.timedelta(days=day)) + pd.Timedelta(hours=10)


# Weeks from Monday D0; the data runs to day 20 (a Sunday), so weeks 0, 1 and 2 are complete.
# a: a big purchase on day 0 and an open on day 8 (week 1);
# b: a small purchase on day 1 (not a start), a big one on day 9 (start in week 1), an open on day 15;
# c: small purchases only (never starts); it opens on day 8;
# d: a big purchase on day 3 and nothing after; e opens on day 20 (the end of the data).
ROWS = [("a", 0, "purchase", 80.0), ("a", 8, "open", None),
        ("b", 1, "purchase", 10.0), ("b", 9, "purchase", 60.0), ("b", 15, "open", None),
        ("c", 2, "purchase", 20.0), ("c", 8, "open", None), ("c", 10, "purchase", 5.0),
        ("d", 3, "purchase", 55.0), ("e", 20, "open", None)]


def _log(**stickiness):
    frame = pd.DataFrame([(u, _at(d), e, a) for u, d, e, a in ROWS], columns=["user_id", "timestamp", "event", "amount"])
    return load(frame, params=make_params(properties=["amount"], stickiness=stickiness or None))


def _cells(r: pd.DataFrame) -> dict[tuple[str, int], tuple[int, int]]:
    r = r[r["mode"] == "on"]
    return {(str(c.date()), int(k)): (int(n), int(a)) for c, k, n, a in zip(r["cohort"], r["period"], r["cohort_size"], r["active"])}


def test_a_filtered_start_event_starts_only_on_events_that_pass():
    log = _log()
    r = stk.cohort_retention(log, granularity="week", modes=("on",), start_event=[BIG], return_event=["open"])
    # week 0: a (day 0) and d (day 3); b's day-1 purchase is 10, so b starts on day 9 (week 1); c never
    assert _cells(r) == {("2024-01-01", 0): (2, 2), ("2024-01-01", 1): (2, 1), ("2024-01-01", 2): (2, 0),
                         ("2024-01-08", 0): (1, 1), ("2024-01-08", 1): (1, 1)}
    assert set(r["start_event"]) == {"purchase (amount ≥ 50)"} and set(r["return_event"]) == {"open"}


def test_a_filtered_return_event_counts_only_events_that_pass():
    log = _log()
    r = stk.cohort_retention(log, granularity="week", modes=("on", "on_or_after"), return_event=[BIG])
    # starts are first active days: a, b, c, d in week 0; e in week 2. Big purchases after week 0:
    # b on day 9 (week 1). c's purchase on day 10 is 5: not a return.
    on = _cells(r)
    assert on[("2024-01-01", 1)] == (4, 1) and on[("2024-01-01", 2)] == (4, 0)
    after = r[(r["mode"] == "on_or_after") & (r["cohort"] == "2024-01-01")].set_index("period")["active"]
    assert after.to_dict() == {0: 4, 1: 1, 2: 0}


def test_filtered_events_equal_plain_pandas_over_the_raw_rows():
    log = _log()
    r = stk.cohort_retention(log, granularity="day", modes=("on",), start_event=[BIG], return_event=["open", BIG])
    raw = pd.DataFrame(ROWS, columns=["user", "day", "event", "amount"])
    big = (raw["event"] == "purchase") & (raw["amount"] >= 50)
    start = raw[big].groupby("user")["day"].min()
    back = raw[(raw["event"] == "open") | big][["user", "day"]].drop_duplicates()
    j = back.join(start.rename("s"), on="user", how="inner")
    j = j[j["day"] > j["s"]].assign(k=lambda x: x["day"] - x["s"])
    expect = {}
    for user, s in start.items():
        for k in range(0, 20 - s + 1):
            key = (str(D0 + dt.timedelta(days=int(s))), k)
            n, a = expect.get(key, (0, 0))
            hit = k == 0 or ((j["user"] == user) & (j["k"] == k)).any()
            expect[key] = (n + 1, a + int(hit))
    assert _cells(r) == expect


def test_params_take_filters_and_refuse_bad_ones():
    p = make_params(properties=["amount"], stickiness={"retention": {"start_event": BIG, "return_event": ["open", BIG, "open"]}})
    rp = p.stickiness.retention
    assert [e.label for e in rp.start_event] == ["purchase (amount ≥ 50)"] and len(rp.return_event) == 2
    assert stk.retention_options(p.stickiness, "week")["start_event"] == rp.start_event
    with pytest.raises(ParamsError, match=r"stickiness.retention.start_event\[0\]: the filter reads property 'amout'"):
        make_params(properties=["amount"], stickiness={"retention": {"start_event": [{"event": "purchase", "where": {"amout": 5}}]}})
    with pytest.raises(ParamsError, match="start_event"):
        make_params(properties=["amount"], stickiness={"retention": {"start_event": [{"event": "purchase", "min": 2}]}})


def test_a_filter_on_an_event_the_log_lacks_names_the_nearest():
    log = _log()
    with pytest.raises(DataError, match=r"'purchse' matches no event \(nearest: 'purchase'\)"):
        stk.cohort_retention(log, granularity="week", start_event=[{"event": "purchse", "where": {"amount": 1}}])


def test_the_page_definitions_write_the_filter():
    p = make_params(properties=["amount"], stickiness={"retention": {"start_event": [BIG], "return_event": ["open"]}})
    words = " ".join(stk.definitions(p.stickiness).values())
    assert "purchase (amount ≥ 50)" in words
