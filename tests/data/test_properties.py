"""Event properties (data.properties), property filters (where:) and the users table without a
signup time: hand-worked logs."""

from __future__ import annotations

import pandas as pd
import pytest

from retention_kit import ParamsError
from retention_kit.data import fetch

from tests.factories import day_events, load, make_params

# u1 buys twice on day 1 (10 and 60, on ios and web), u2 once (80 on android) on day 2; opens have no amount.
ROWS = [
    ("u1", "2024-01-01 09:00", "open", None, "ios"),
    ("u1", "2024-01-01 10:00", "buy", 10.0, "ios"),
    ("u1", "2024-01-01 11:00", "buy", 60.0, "web"),
    ("u2", "2024-01-02 09:00", "buy", 80.0, "android"),
    ("u2", "2024-01-02 10:00", "open", None, "web"),
]
COLUMNS = ("user_id", "timestamp", "event", "amount", "platform")


def _log(**kw):
    frame = pd.DataFrame(ROWS, columns=list(COLUMNS)).assign(timestamp=lambda d: pd.to_datetime(d.timestamp))
    return load(frame, params=make_params(properties=["amount", "platform"], **kw))


def _counts(log, leaf) -> dict:
    df = fetch(log.original_ids(log.filtered_daily(leaf)))
    return {(r.user_id, str(pd.Timestamp(r.day).date())): int(r.n) for r in df.itertuples()}


def test_a_filter_excludes_the_rows_that_fail_it():
    log = _log()
    # amount >= 50: u1's 10 is left out, the opens (no amount) never pass
    assert _counts(log, {"event": "buy", "where": {"amount": {"gte": 50}}}) == {
        ("u1", "2024-01-01"): 1, ("u2", "2024-01-02"): 1}
    assert _counts(log, {"event": "buy", "where": {"platform": ["ios", "android"]}}) == {
        ("u1", "2024-01-01"): 1, ("u2", "2024-01-02"): 1}
    assert _counts(log, {"event": "buy", "where": {"platform": "web", "amount": {"lt": 50}}}) == {}
    # a null property is not "ios": ne keeps it
    assert _counts(log, {"event": "open", "where": {"amount": {"ne": 5}}}) == {
        ("u1", "2024-01-01"): 1, ("u2", "2024-01-02"): 1}


def test_properties_are_carried_as_read():
    log = _log()
    assert {"amount", "platform"} <= set(log.events.columns)
    assert log.events.amount.type().is_numeric()


def test_a_filter_on_an_unlisted_property_is_refused_naming_the_key():
    with pytest.raises(ParamsError, match=r"ladder.rungs\['big'\].when.*'amount'.*data.properties"):
        make_params(ladder={"rungs": [{"name": "big", "when": {"event": "buy", "where": {"amount": {"gte": 50}}}},
                                      {"name": "any", "when": {"active_days": 1}}]})


def test_a_property_naming_no_column_fails_at_load():
    from retention_kit import DataError
    frame = pd.DataFrame(ROWS, columns=list(COLUMNS)).assign(timestamp=lambda d: pd.to_datetime(d.timestamp))
    with pytest.raises(DataError, match="data.properties"):
        load(frame, params=make_params(properties=["amout"]))


def test_users_table_of_attributes_alone_keeps_the_earliest_rows_value():
    # no signup_time column: users start on their first active day; u1's rows say "pro" first
    # (in time), then "free": the earliest row wins, not the alphabetical minimum ("free")
    users = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "plan": ["free", "pro", "basic"],
                          "timestamp": pd.to_datetime(["2024-01-05", "2024-01-01", "2024-01-02"])})
    frame = pd.DataFrame(ROWS, columns=list(COLUMNS)).assign(timestamp=lambda d: pd.to_datetime(d.timestamp))
    log = load(frame, users=users, params=make_params(users={"source": "(given)", "attributes": ["plan"]}))
    u = fetch(log.original_ids(log.users)).set_index("user_id")
    assert u.loc["u1", "plan"] == "pro" and u.loc["u2", "plan"] == "basic"
    assert u["signup_day"].isna().all()
    s = fetch(log.original_ids(log.starts())).set_index("user_id")["start_day"].map(lambda d: str(pd.Timestamp(d).date())).to_dict()
    assert s == {"u1": "2024-01-01", "u2": "2024-01-02"}


def test_users_table_of_attributes_alone_does_not_make_the_first_cohort_new():
    # a users table without signups says nothing about when users really started: the cohort of
    # the first day of data still holds everyone already active when the log began (left-censored)
    from retention_kit.analyses import stickiness as stk

    rows = [(u, d, "open", 1) for u, d in (("a", 0), ("a", 8), ("b", 1), ("c", 7), ("c", 15), ("d", 9))]
    frame = day_events(rows)
    users = pd.DataFrame({"user_id": ["a", "b", "c", "d"], "plan": ["pro", "free", "free", "pro"]})
    log = load(frame, users=users, params=make_params(users={"source": "(given)", "attributes": ["plan"]}))
    assert not log.signups_known
    r = stk.cohort_retention(log, granularity="week", modes=("on",))
    # week of 2024-01-01 holds a and b (first active days 0 and 1): not new; week 2 holds c and d
    new = r.groupby("cohort")["new_cohort"].first().to_dict()
    assert new == {pd.Timestamp("2024-01-01"): False, pd.Timestamp("2024-01-08"): True}
    with_signups = users.assign(signup_time=pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-08", "2024-01-10"]))
    log2 = load(frame, users=with_signups,
                params=make_params(users={"source": "(given)", "signup_time": "signup_time", "attributes": ["plan"]}))
    assert log2.signups_known
    r2 = stk.cohort_retention(log2, granularity="week", modes=("on",))
    assert r2.groupby("cohort")["new_cohort"].first().all()
