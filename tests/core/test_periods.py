"""Complete periods of a data range and the first really new cohort, worked out on a calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from retention_kit.core.periods import (
    complete_range,
    first_new_cohort,
    period_end,
    period_index_py,
    period_start,
)

D = dt.date
# Monday 2024-01-01 is epoch day 19723; Monday weeks count from Monday 1970-01-05 (epoch day 4):
# (19723 - 4) / 7 = 2817 exactly, so the week of 2024-01-01 has index 2817.
W_JAN1 = 2817
# Sunday weeks count from Sunday 1970-01-04 (epoch day 3): the Sunday week of Dec 31, 2023
# (epoch day 19722) is (19722 - 3) / 7 = 2817 as well.
S_DEC31 = 2817
JAN_2024 = 2024 * 12 + 0


def test_week_index_by_hand():
    assert period_index_py(D(2024, 1, 1), "week") == W_JAN1
    assert period_index_py(D(2023, 12, 31), "week", "sunday") == S_DEC31


def _dates(r, gran, ws="monday"):
    return None if r is None else (period_start(r[0], gran, ws), period_end(r[1], gran, ws))


def test_partial_first_week_is_left_out():
    # the demo's shape: data from Saturday Jan 6 to Sunday Feb 4. The Monday week of Jan 1-7 holds
    # only 2 days of data (Sat, Sun): incomplete. Complete: Jan 8-14, 15-21, 22-28, Jan 29-Feb 4.
    r = complete_range(D(2024, 1, 6), D(2024, 2, 4), "week")
    assert r == (W_JAN1 + 1, W_JAN1 + 4)
    assert _dates(r, "week") == (D(2024, 1, 8), D(2024, 2, 4))


def test_partial_last_week_is_left_out():
    # Monday Jan 1 to Saturday Feb 3: the week of Jan 29 ends Sunday Feb 4, after the data
    assert _dates(complete_range(D(2024, 1, 1), D(2024, 2, 3), "week"), "week") == (D(2024, 1, 1), D(2024, 1, 28))


def test_sunday_weeks():
    # Saturday Jan 6 to Sunday Feb 4 with Sunday weeks: Dec 31-Jan 6 holds one day (incomplete);
    # Jan 7-13 .. Jan 28-Feb 3 are complete; Feb 4-10 holds one day (incomplete)
    r = complete_range(D(2024, 1, 6), D(2024, 2, 4), "week", "sunday")
    assert r == (S_DEC31 + 1, S_DEC31 + 4)
    assert _dates(r, "week", "sunday") == (D(2024, 1, 7), D(2024, 2, 3))


def test_months():
    # Jan 2 to Apr 30: January misses its first day; Feb, Mar, Apr are complete
    assert complete_range(D(2024, 1, 2), D(2024, 4, 30), "month") == (JAN_2024 + 1, JAN_2024 + 3)
    # Jan 1 to Mar 30: March misses its last day; Jan and Feb (29 days in 2024) are complete
    assert complete_range(D(2024, 1, 1), D(2024, 3, 30), "month") == (JAN_2024, JAN_2024 + 1)
    # Feb 1 to Feb 29, 2024 (leap year): exactly one complete month
    assert complete_range(D(2024, 2, 1), D(2024, 2, 29), "month") == (JAN_2024 + 1, JAN_2024 + 1)


def test_no_complete_period():
    # Tuesday to the next Monday: 7 days, but no Monday-Sunday week inside them
    assert complete_range(D(2024, 1, 2), D(2024, 1, 8), "week") is None
    # Jan 2 to Feb 28, 2024: January misses its first day, February its last (the 29th)
    assert complete_range(D(2024, 1, 2), D(2024, 2, 28), "month") is None
    # a single day is a complete day period
    assert complete_range(D(2024, 1, 2), D(2024, 1, 2), "day") == (19724, 19724)


@pytest.mark.parametrize(
    "first_day, signups, expect",
    [
        # data starts on a Monday: with signups, that week's cohort is fully observed; without,
        # it holds everyone already active, so the first real cohort is the next week
        (D(2024, 1, 1), True, W_JAN1),
        (D(2024, 1, 1), False, W_JAN1 + 1),
        # data starts on a Saturday: the week of Jan 1 is partly before the data either way
        (D(2024, 1, 6), True, W_JAN1 + 1),
        (D(2024, 1, 6), False, W_JAN1 + 1),
    ],
)
def test_first_new_cohort(first_day, signups, expect):
    assert first_new_cohort(first_day, "week", signups_known=signups) == expect


def test_first_new_cohort_months():
    # data from Dec 9, 2009 without signups: December is left-censored and partial; January 2010
    assert first_new_cohort(D(2009, 12, 9), "month", signups_known=False) == 2010 * 12
    assert first_new_cohort(D(2009, 12, 1), "month", signups_known=True) == 2009 * 12 + 11
