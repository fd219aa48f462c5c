"""Dotted paths into nested fields (records, maps, JSON objects and text, GA4's key/value lists)
in the events and the users table; lists of columns (the first set one counts); a constant event
for tables of one kind of row; and the messages when a path names nothing. Expected values are
the fixtures' own rows, read by hand."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retention_kit import DataError, ParamsError, load_events
from retention_kit.data import fetch

from tests.factories import load, make_params

PROPS = pa.struct([("distinct_id", pa.string()), ("time", pa.int64()), ("plan", pa.string()), ("price", pa.float64())])
KV = pa.struct([("key", pa.string()), ("value", pa.struct([("string_value", pa.string()), ("int_value", pa.int64()),
                                                          ("float_value", pa.float64()), ("double_value", pa.float64())]))])
# 1709287200 = 2024-03-01 10:00:00 UTC; one day later per row
T0 = 1_709_287_200


def _kv(key, *, s=None, i=None, d=None):
    return {"key": key, "value": {"string_value": s, "int_value": i, "float_value": None, "double_value": d}}


@pytest.fixture
def nested(tmp_path):
    """Four rows: a record, a map, JSON text and a key/value list in one Parquet file."""
    table = pa.table({
        "event": ["open", "buy", "open", "buy"],
        "properties": pa.array([{"distinct_id": "a", "time": T0, "plan": "pro", "price": None},
                                {"distinct_id": "a", "time": T0 + 86_400, "plan": "pro", "price": 9.5},
                                {"distinct_id": "b", "time": T0 + 2 * 86_400, "plan": "free", "price": None},
                                {"distinct_id": "b", "time": T0 + 3 * 86_400, "plan": "free", "price": 20.0}], PROPS),
        "tags": pa.array([[("channel", "ads")], [("channel", "ads")], [("channel", "seo")], []],
                         pa.map_(pa.string(), pa.string())),
        "blob": [json.dumps({"$browser": "Chrome", "n": 1}), json.dumps({"$browser": "Safari", "n": 2.5}),
                 json.dumps({"n": "3"}), "not json"],
        "event_params": pa.array([[_kv("page", s="/a")], [_kv("value", d=9.5)], [_kv("page", s="/b")],
                                  [_kv("value", i=20), _kv("page", s="/c")]], pa.list_(KV)),
        "dotted.name": ["x1", "x2", "x3", "x4"],
    })
    path = tmp_path / "nested.parquet"
    pq.write_table(table, path)
    return path


def _load(path, **data):
    return load_events(make_params(source=str(path), **data))


def _column(path, name, **data):
    """The values a path gives, as the event column (one per row, in the file's order)."""
    log = _load(path, user="properties.distinct_id", time="properties.time", time_unit="s", event=name,
                max_dropped_share=1, **data)
    ev = fetch(log.events, sort=["ts"])
    return ev["event"].tolist()


def test_a_record_field_is_the_user_and_the_time(nested):
    log = _load(nested, user="properties.distinct_id", time="properties.time", time_unit="s",
                revenue="properties.price")
    ev = fetch(log.events, sort=["ts"])
    assert ev["user_id"].tolist() == ["a", "a", "b", "b"]
    assert ev["day"].dt.date.tolist() == [dt.date(2024, 3, d) for d in (1, 2, 3, 4)]
    assert ev["revenue"].fillna(0).tolist() == [0, 9.5, 0, 20.0]


def test_map_json_text_and_key_value_paths(nested):
    assert _column(nested, "tags.channel") == ["ads", "ads", "seo"]  # the 4th row has no key: dropped
    # JSON text: '$browser' is a key, not a path; numbers come out as text
    assert _column(nested, "blob.$browser") == ["Chrome", "Safari"]
    assert _column(nested, "blob.n") == ["1", "2.5", "3"]
    # GA4-style lists: the value of the record with that key, whichever value field holds it
    assert _column(nested, "event_params.page") == ["/a", "/b", "/c"]
    assert _column(nested, "event_params.value") == ["9.5", "20"]
    assert _column(nested, "event_params.value.int_value") == ["20"]


def test_key_value_numbers_as_revenue(nested):
    log = _load(nested, user="properties.distinct_id", time="properties.time", time_unit="s",
                revenue="event_params.value")
    ev = fetch(log.events, sort=["ts"])
    assert ev["revenue"].fillna(0).tolist() == [0, 9.5, 0, 20.0]


def test_a_column_named_with_dots_is_found_first(nested):
    assert _column(nested, "dotted.name") == ["x1", "x2", "x3", "x4"]


@pytest.mark.parametrize("name, says", [
    ("properties.plna", "'properties' has no field 'plna'; did you mean 'plan'? Its fields are: distinct_id, time, plan, price."),
    ("event.name", None),  # text that is not JSON: read as JSON text, so it names nothing
    ("distinct_id", "did you mean 'properties.distinct_id'?"),
])
def test_a_path_that_names_nothing(nested, name, says):
    if name == "event.name":
        # a text column is read as JSON text: no row holds JSON, so every row lacks the value
        with pytest.raises(DataError, match=r"4 of 4 rows .*null or blank event name \('event.name'\) "
                                            r"\(no row has a value at event.name: check the path's spelling"):
            _load(nested, user="properties.distinct_id", time="properties.time", time_unit="s", event=name)
        return
    with pytest.raises(DataError) as e:
        _load(nested, user=name, time="properties.time", time_unit="s")
    assert f"column '{name}' (data.user) not found in the event source" in str(e.value)
    assert says in str(e.value)


def test_a_path_below_a_plain_value(nested):
    with pytest.raises(DataError, match=r"'properties.time' holds int64 values, not nested fields, so it has no field 'x'"):
        _load(nested, user="properties.time.x", time="properties.time", time_unit="s")


def test_a_list_that_is_not_key_value(tmp_path):
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"u": ["a"], "t": ["2024-03-01"], "e": ["x"], "items": [[1, 2]]}), path)
    with pytest.raises(DataError, match=r"'items' holds a list of int64, not nested fields"):
        _load(path, user="items.first", time="t", event="e")


def test_users_table_paths_and_messages(tmp_path):
    events = pd.DataFrame({"user_id": ["a", "b"], "timestamp": pd.to_datetime(["2024-03-05 10:00", "2024-03-06 10:00"]),
                           "event": "open"})
    users = tmp_path / "users.parquet"
    pq.write_table(pa.table({
        "pseudo_user_id": ["a", "b"],
        "user_info": pa.array([{"first_touch_timestamp": 1_709_287_200_000_000}, {"first_touch_timestamp": 1_709_373_600_000_000}],
                              pa.struct([("first_touch_timestamp", pa.int64())])),
        "user_properties": pa.array([[_kv("plan", s="pro")], [_kv("plan", s="free"), _kv("age", i=30)]], pa.list_(KV)),
    }), users)
    up = {"source": str(users), "user": "pseudo_user_id", "signup_time": "user_info.first_touch_timestamp",
          "signup_time_unit": "us", "attributes": ["user_properties.plan", "user_properties.age"]}
    log = load(events, params=make_params(users=up))
    got = fetch(log.original_ids(log.users), sort=["user_id"])
    assert got["signup_day"].dt.date.tolist() == [dt.date(2024, 3, 1), dt.date(2024, 3, 2)]
    assert got["user_properties.plan"].tolist() == ["pro", "free"]
    assert got["user_properties.age"].fillna("-").tolist() == ["-", "30"]
    with pytest.raises(DataError, match=r"column 'user_info.first_touch' \(data.users.signup_time\) not found in the "
                                        r"users table: 'user_info' has no field 'first_touch'"):
        load(events, params=make_params(users={**up, "signup_time": "user_info.first_touch"}))
    with pytest.raises(DataError, match=r"column 'pseudo_id' \(data.users.user\) not found in the users table; "
                                        r"did you mean 'pseudo_user_id'\?"):
        load(events, params=make_params(users={**up, "user": "pseudo_id"}))


def test_the_first_set_column_of_a_list_is_the_user():
    df = pd.DataFrame({"userId": ["u1", None, "", None], "anonymousId": ["x9", "a1", "a2", None],
                       "timestamp": pd.to_datetime(["2024-03-01 10:00"] * 4), "event": "open"})
    log = load(df, user=["userId", "anonymousId"], max_dropped_share=0.5)
    assert sorted(fetch(log.events)["user_id"]) == ["a1", "a2", "u1"]
    # the fourth row has neither: one dropped row, named by both columns
    assert log.quality.dropped == {"null or blank user id ('userId, anonymousId')": 1}


def test_the_first_set_column_of_a_list_is_the_event():
    df = pd.DataFrame({"user_id": ["u1", "u1"], "timestamp": pd.to_datetime(["2024-03-01 10:00", "2024-03-02 10:00"]),
                       "event": ["Signed Up", None], "type": ["track", "page"]})
    log = load(df, event=["event", "type"])
    assert fetch(log.events, sort=["ts"])["event"].tolist() == ["Signed Up", "page"]


def test_a_constant_event_for_a_transactions_table():
    # an orders table: no event column; every row is a purchase with an amount
    orders = pd.DataFrame({"customer": ["c1", "c2", "c1"], "ordered_at": pd.to_datetime(["2024-03-01 10:00", "2024-03-01 12:00",
                                                                                          "2024-03-08 09:00"]),
                           "amount": [12.5, 3.0, 7.25]})
    log = load(orders, user="customer", time="ordered_at", event={"constant": "purchase"}, revenue="amount")
    d = fetch(log.original_ids(log.daily), sort=["user_id", "day"])
    assert d[["user_id", "event", "n", "revenue"]].values.tolist() == [["c1", "purchase", 1, 12.5], ["c1", "purchase", 1, 7.25],
                                                                      ["c2", "purchase", 1, 3.0]]
    assert log.quality.event_types == 1
    with pytest.raises(DataError, match=r"data.active_events: 'open' matches no event .*column 'constant 'purchase''"):
        load(orders, user="customer", time="ordered_at", event={"constant": "purchase"}, active_events=["open"])


def test_column_lists_and_constants_are_validated():
    with pytest.raises(ParamsError, match="'data.event.constant': String should have at least 1 character"):
        make_params(event={"constant": ""})
    with pytest.raises(ParamsError, match="give it as a column name, or a non-empty list of column names"):
        make_params(user=[])
    with pytest.raises(ParamsError, match="but 'ts' is both user and time"):
        make_params(user=["id", "ts"], time="ts")
    with pytest.raises(ParamsError, match="unknown key 'data.event.constnt'"):
        make_params(event={"constnt": "purchase"})
