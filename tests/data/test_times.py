"""Times in every shape an export writes them: epoch numbers in four units (whole, fractional,
as text), text and timestamps without an offset that are UTC (``data.source_timezone``), and the
error that names the unit a numeric column's magnitude suggests. Every expected local time is
worked out by hand: Asia/Shanghai is UTC+8 all year (no daylight saving time)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from retention_kit import DataError
from retention_kit.data import fetch

from tests.factories import load, make_params

SH = "Asia/Shanghai"
# 1709337599 s = 2024-03-01 23:59:59 UTC = 2024-03-02 07:59:59 in Shanghai
T = 1_709_337_599


def _times(df: pd.DataFrame, **data) -> list[str]:
    log = load(df, timezone=SH, **data)
    ev = fetch(log.events, sort=["user_id"])
    return [t.strftime("%Y-%m-%d %H:%M:%S.%f") for t in ev["ts"]]


def _frame(values) -> pd.DataFrame:
    return pd.DataFrame({"user_id": [f"u{i}" for i in range(len(values))], "timestamp": values, "event": "open"})


@pytest.mark.parametrize("unit, values", [
    ("s", [T, T + 1]),
    ("ms", [T * 1000, T * 1000 + 1001]),
    ("us", [T * 1_000_000, T * 1_000_000 + 1_000_001]),
    ("ns", [T * 10**9, T * 10**9 + 1_000_001_000]),
])
def test_epoch_units(unit, values):
    # the second value is one second later (plus a millisecond or microsecond where the unit has one)
    extra = {"s": "000000", "ms": "001000", "us": "000001", "ns": "000001"}[unit]
    assert _times(_frame(values), time_unit=unit) == ["2024-03-02 07:59:59.000000", f"2024-03-02 08:00:00.{extra}"]


def test_epoch_days_follow_the_product_zone():
    # 2024-03-01 15:59:59 UTC is the 1st in Shanghai, 16:00:00 UTC already the 2nd
    log = load(_frame([1_709_308_799, 1_709_308_800]), timezone=SH, time_unit="s")
    days = fetch(log.events, sort=["user_id"])["day"].dt.date.tolist()
    assert days == [dt.date(2024, 3, 1), dt.date(2024, 3, 2)]


def test_fractional_and_text_epochs():
    # Mixpanel-style fractional seconds, and GA4's JSON, which writes INT64 as text
    assert _times(_frame([T + 0.25, T + 0.5]), time_unit="s") == ["2024-03-02 07:59:59.250000",
                                                                  "2024-03-02 07:59:59.500000"]
    text = _frame([str(T * 1_000_000 + 7), f" {T * 1_000_000} "])
    assert _times(text, time_unit="us") == ["2024-03-02 07:59:59.000007", "2024-03-02 07:59:59.000000"]


def test_narrow_integer_epochs_do_not_overflow():
    df = _frame([T, T]).astype({"timestamp": "int32"})
    assert _times(df, time_unit="s")[0] == "2024-03-02 07:59:59.000000"


def test_epochs_counted_from_local_midnight():
    # an export that wrote wall-clock time as if it were UTC (older Mixpanel projects)
    assert _times(_frame([T, T]), time_unit="s", source_timezone="local")[0] == "2024-03-01 23:59:59.000000"


def test_an_epoch_beyond_any_date_does_not_parse_and_is_counted():
    df = _frame([T] * 30 + [T * 1000])  # one millisecond value among seconds
    log = load(df, timezone=SH, time_unit="s")
    assert log.quality.dropped == {"time that does not parse ('timestamp')": 1}
    with pytest.raises(DataError, match=r"1 of 2 rows .* time that does not parse .* data.time_unit"):
        load(_frame([T, T * 1000]), timezone=SH, time_unit="s")


@pytest.mark.parametrize("values, says", [
    ([T, T], "values near 1.7e9 look like seconds: set data.time_unit: s"),
    ([T * 1000, T * 1000], "values near 1.7e12 look like milliseconds: set data.time_unit: ms"),
    ([T * 10**6, T * 10**6], "values near 1.7e15 look like microseconds: set data.time_unit: us"),
    ([T * 10**9, T * 10**9], "values near 1.7e18 look like nanoseconds: set data.time_unit: ns"),
    ([45352.5, 45353.0], "values near 4.5e4 look like Excel serial dates"),
    ([20240301, 20240302], "values near 2e7 look like dates written as numbers (YYYYMMDD)"),
    ([3, 4], "values near 3.5e0 are not epoch times in any unit"),
])
def test_a_numeric_time_without_a_unit_names_the_unit(values, says):
    with pytest.raises(DataError) as e:
        load(_frame(values), timezone=SH)
    assert "column 'timestamp' (data.time) holds numbers" in str(e.value)
    assert says in str(e.value)


def test_the_hint_takes_the_median_so_one_outlier_does_not_decide():
    values = [T * 1000] * 9 + [1]
    with pytest.raises(DataError, match="values near 1.7e12 look like milliseconds"):
        load(_frame(values), timezone=SH)


def test_a_unit_on_a_time_column_that_is_no_number():
    df = _frame(pd.to_datetime(["2024-03-01 10:00", "2024-03-01 11:00"]))
    with pytest.raises(DataError, match=r"has type timestamp.*data.time_unit \(ms\) does not apply; remove data.time_unit"):
        load(df, time_unit="ms")


def test_text_without_an_offset_read_as_utc():
    df = _frame(["2024-03-01 20:00:00", "2024-03-01T20:00:00+02:00", "2024-03-01", "2024-03-01 23:00:00.5Z",
                 "2024-03-01 20:00:00 UTC"])
    # 20:00 UTC = 04:00 next day; the offset +02:00 is honoured (18:00 UTC = 02:00); a date alone is
    # UTC midnight (08:00)
    assert _times(df, source_timezone="UTC") == ["2024-03-02 04:00:00.000000", "2024-03-02 02:00:00.000000",
                                                 "2024-03-01 08:00:00.000000", "2024-03-02 07:00:00.500000",
                                                 "2024-03-02 04:00:00.000000"]
    # without the key the same text is local, and the offset still honoured
    assert _times(df)[:3] == ["2024-03-01 20:00:00.000000", "2024-03-02 02:00:00.000000", "2024-03-01 00:00:00.000000"]


def test_naive_timestamps_read_as_utc():
    df = _frame(pd.to_datetime(["2024-03-01 20:00:00", "2024-03-01 08:30:00.25"], format="ISO8601"))
    assert _times(df, source_timezone="UTC") == ["2024-03-02 04:00:00.000000", "2024-03-01 16:30:00.250000"]


@pytest.mark.parametrize("resolution", ["s", "ms", "us", "ns"])
def test_pandas_datetime_resolutions_read_the_same(resolution):
    # pandas 3 keeps the resolution a datetime column was parsed in; the engine reads any
    df = _frame(pd.to_datetime(["2024-03-01 20:00:00", "2024-03-01 21:00:00"]).astype(f"datetime64[{resolution}]"))
    assert _times(df) == ["2024-03-01 20:00:00.000000", "2024-03-01 21:00:00.000000"]


def test_users_signup_time_in_epoch_milliseconds():
    ev = pd.DataFrame({"user_id": ["a", "b"], "timestamp": pd.to_datetime(["2024-03-05 10:00", "2024-03-05 10:00"]),
                       "event": "open"})
    # 2024-03-01 15:59:59 UTC (the 1st in Shanghai) and 16:00:00 UTC (the 2nd)
    users = pd.DataFrame({"user_id": ["a", "b"], "signup_time": [1_709_308_799_000, 1_709_308_800_000]})
    params = make_params(timezone=SH, users={"source": "(given)", "signup_time_unit": "ms"})
    log = load(ev, users=users, params=params)
    got = fetch(log.original_ids(log.users), sort=["user_id"])["signup_day"].dt.date.tolist()
    assert got == [dt.date(2024, 3, 1), dt.date(2024, 3, 2)]
    with pytest.raises(DataError, match="values near 1.7e12 look like milliseconds: set data.users.signup_time_unit: ms"):
        load(ev, users=users, params=make_params(timezone=SH, users={"source": "(given)"}))
