"""Properties of the data layer on random, messy logs (hypothesis).

Whatever the rows, loading either fails with a DataError (nothing valid left) or accounts for
every row: rows kept + dropped + excluded == rows read; the daily table holds exactly the kept
rows; the dropped counts per reason match an independent pandas computation of the rules; the
active days are a subset of the daily table's days; the range and user counts agree with it.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retention_kit import DataError
from retention_kit.data import fetch

from tests.factories import load, make_params

USERS = ["u1", "u2", "u3", "42", None, "", "   "]
TIMES = ["2024-03-01 10:00:00", "2024-03-01 23:59:59", "2024-03-02 00:00:00", "2024-03-09 08:30:00",
         "2024-04-15", "2024-03-05T12:00:00+02:00", None, "garbage", "31/12/2024", "1970-01-01 00:00:00",
         "2199-01-01 00:00:00"]
EVENTS = ["open", "save", "share", "push", None, "", "<b>x</b>"]

row = st.tuples(st.sampled_from(USERS), st.sampled_from(TIMES), st.sampled_from(EVENTS))


def _expected(df: pd.DataFrame, exclude: list[str]) -> dict[str, int]:
    """The loading rules, written independently in pandas (in rule order: user, time, range,
    event, exclusion), counting each row once under its first failing rule."""
    user_bad = df["user_id"].isna() | (df["user_id"].fillna("").str.strip() == "")
    time_null = df["timestamp"].isna()
    parsed = pd.to_datetime(df["timestamp"], errors="coerce", format="ISO8601", utc=True)
    time_bad = ~time_null & parsed.isna()
    local = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    until = pd.Timestamp(dt.date.today() + dt.timedelta(days=2))
    early = parsed.notna() & (local < pd.Timestamp("1990-01-01"))
    late = parsed.notna() & (local >= until)
    event_bad = df["event"].isna() | (df["event"].fillna("").str.strip() == "")
    excluded = df["event"].isin(exclude)
    return {
        "user": int(user_bad.sum()),
        # a row is counted once, under the first rule it fails
        "time_null": int((time_null & ~user_bad).sum()),
        "time_bad": int((time_bad & ~user_bad).sum()),
        "early": int((early & ~user_bad).sum()),
        "late": int((late & ~user_bad).sum()),
        "event": int((event_bad & ~user_bad & parsed.notna() & ~early & ~late).sum()),
        "excluded": int((excluded & ~user_bad & parsed.notna() & ~early & ~late).sum()),
        "kept": int((~user_bad & parsed.notna() & ~early & ~late & ~event_bad & ~excluded).sum()),
        # an excluded name must occur among the rows that pass the rules (else it is a params error)
        "unknown_excluded": int(sum(name not in set(df.loc[~user_bad & parsed.notna() & ~early & ~late & ~event_bad,
                                                            "event"]) for name in exclude)),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row, min_size=1, max_size=40), exclude=st.sampled_from([[], ["push"], ["push", "share"]]))
def test_every_row_is_accounted_for(rows, exclude):
    df = pd.DataFrame(rows, columns=["user_id", "timestamp", "event"]).astype("object")
    want = _expected(df, exclude)
    try:
        log = load(df, exclude_events=exclude, max_dropped_share=1.0)
    except DataError:
        # only when nothing valid is left (or no time parses at all), or an excluded name matches no row
        assert want["kept"] == 0 or want["unknown_excluded"]
        return
    assert not want["unknown_excluded"]
    q = log.quality
    assert q.rows_read == len(df)
    assert q.rows_kept + q.dropped_total + q.excluded == q.rows_read
    assert q.rows_kept == want["kept"] and q.excluded == want["excluded"]
    by = {k.split(" (")[0].split(" ('")[0]: v for k, v in q.dropped.items()}
    assert by.get("null or blank user id", 0) == want["user"]
    assert by.get("null time", 0) == want["time_null"]
    assert by.get("time that does not parse", 0) == want["time_bad"]
    assert sum(v for k, v in by.items() if k.startswith("time before")) == want["early"]
    assert sum(v for k, v in by.items() if k.startswith("time after")) == want["late"]
    assert by.get("null or blank event name", 0) == want["event"]
    assert all(v > 0 for v in q.dropped.values())  # reasons with no rows are not listed

    daily = fetch(log.daily)
    assert int(daily["n"].sum()) == q.rows_kept
    assert not daily.duplicated(["user_id", "day", "event"]).any()
    assert daily["user_id"].nunique() == q.users and daily["event"].nunique() == q.event_types
    assert daily["day"].min().date() == q.first_day and daily["day"].max().date() == q.last_day
    active = fetch(log.active_days())
    pairs = set(zip(daily["user_id"], daily["day"]))
    assert set(zip(active["user_id"], active["day"])) <= pairs
    assert len(active) == len(daily[daily["active"]][["user_id", "day"]].drop_duplicates())


@settings(max_examples=15, deadline=None)
@given(rows=st.lists(row, min_size=5, max_size=30))
def test_loading_is_deterministic_and_leaves_the_frame_alone(rows):
    df = pd.DataFrame(rows, columns=["user_id", "timestamp", "event"]).astype("object")
    before = df.copy()
    params = make_params(max_dropped_share=1.0)
    try:
        a = load(df, params=params)
    except DataError:
        return
    b = load(df, params=params)
    assert a.quality == b.quality
    pd.testing.assert_frame_equal(fetch(a.daily, sort=["user_id", "day", "event"]),
                                  fetch(b.daily, sort=["user_id", "day", "event"]))
    pd.testing.assert_frame_equal(df, before)


def test_a_null_event_with_exclusions_is_a_clear_error_not_a_crash():
    # found by the property above: isin() on a null event is null, and a sum of nulls is null
    df = pd.DataFrame([("u1", "2024-03-01 10:00:00", None)], columns=["user_id", "timestamp", "event"]).astype("object")
    try:
        load(df, exclude_events=["push"], max_dropped_share=1.0)
    except DataError as e:
        assert "no events left after filters: 1 rows read, 1 dropped as invalid, 0 removed" in str(e)
    else:
        raise AssertionError("expected a DataError")
