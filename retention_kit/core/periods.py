"""Calendar periods as integers, so period arithmetic ("cohort period + k") is plain integer math
on every engine.

A day's index is its number of days since 1970-01-01. A week's index counts weeks from the week
containing 1970-01-01 that starts on the configured weekday; a month's index is ``year * 12 +
month - 1``. :func:`period_start` turns an index back into the period's first day.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Literal

import ibis.expr.types as ir

__all__ = [
    "Granularity",
    "day_index",
    "period_index",
    "period_index_py",
    "period_start",
    "period_end",
    "period_days",
    "complete_range",
    "first_new_cohort",
]

Granularity = Literal["day", "week", "month"]
_EPOCH = dt.date(1970, 1, 1)
# 1970-01-01 was a Thursday: the first Monday is epoch day 4, the first Sunday epoch day 3
_WEEK_OFFSET = {"monday": 4, "sunday": 3}


def day_index(day: ir.DateValue) -> ir.IntegerValue:
    """Days since 1970-01-01 of a date expression."""
    return day.epoch_days().cast("int64")


def period_index(day: ir.DateValue, granularity: Granularity, week_start: str = "monday") -> ir.IntegerValue:
    """Integer index of the calendar period containing ``day`` (see module docstring)."""
    if granularity == "day":
        return day_index(day)
    if granularity == "week":
        return ((day_index(day) - _WEEK_OFFSET[week_start]) // 7).cast("int64")
    if granularity == "month":
        return (day.year().cast("int64") * 12 + day.month().cast("int64") - 1).cast("int64")
    raise ValueError(f"unknown granularity {granularity!r}; use day, week or month")


def period_index_py(day: dt.date, granularity: Granularity, week_start: str = "monday") -> int:
    """:func:`period_index` for a Python date (used for the data range's bounds)."""
    d = (day - _EPOCH).days
    if granularity == "day":
        return d
    if granularity == "week":
        return (d - _WEEK_OFFSET[week_start]) // 7
    return day.year * 12 + day.month - 1


def period_start(index: int, granularity: Granularity, week_start: str = "monday") -> dt.date:
    """First day of the period with this index."""
    index = int(index)
    if granularity == "day":
        return _EPOCH + dt.timedelta(days=index)
    if granularity == "week":
        return _EPOCH + dt.timedelta(days=_WEEK_OFFSET[week_start] + 7 * index)
    return dt.date(index // 12, index % 12 + 1, 1)


def period_end(index: int, granularity: Granularity, week_start: str = "monday") -> dt.date:
    """Last day of the period with this index."""
    if granularity == "month":
        start = period_start(index, granularity)
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    return period_start(index, granularity, week_start) + dt.timedelta(days=0 if granularity == "day" else 6)


def period_days(index: int, granularity: Granularity, week_start: str = "monday") -> int:
    """Number of days in the period."""
    return (period_end(index, granularity, week_start) - period_start(index, granularity, week_start)).days + 1


def complete_range(first_day: dt.date, last_day: dt.date, granularity: Granularity,
                   week_start: str = "monday") -> tuple[int, int] | None:
    """First and last index of the *complete* periods of the data range, or None when there is none.

    A period is complete when it lies entirely within the data range ``[first_day, last_day]``:
    it starts on or after ``first_day`` and ends on or before ``last_day``. So a partial first
    period (the data starts mid-week or mid-month) is as incomplete as a partial last one: both
    would look like a dip only because part of them was not observed.

    Examples
    --------
    >>> complete_range(dt.date(2024, 1, 6), dt.date(2024, 2, 4), "week")  # Sat .. Sun
    (2818, 2821)
    >>> [str(period_start(i, "week")) for i in (2818, 2821)]
    ['2024-01-08', '2024-01-29']
    >>> complete_range(dt.date(2024, 1, 2), dt.date(2024, 1, 31), "month") is None
    True
    """
    lo = period_index_py(first_day, granularity, week_start)
    if period_start(lo, granularity, week_start) < first_day:
        lo += 1
    hi = period_index_py(last_day, granularity, week_start)
    if period_end(hi, granularity, week_start) > last_day:
        hi -= 1
    return (lo, hi) if lo <= hi else None


def first_new_cohort(first_day: dt.date, granularity: Granularity, week_start: str = "monday", *,
                     signups_known: bool) -> int:
    """Index of the earliest start cohort whose users are really new and fully observed.

    With signup days from a users table (``signups_known``) that is the first period starting on
    or after ``first_day``: an earlier cohort's first period is partly before the data. Without
    one, a user's start is their first active day in the data, so the cohort whose period holds
    ``first_day`` also holds every user already active when the log began (left-censored): the
    earliest real cohort is the period after it.

    Examples
    --------
    >>> first_new_cohort(dt.date(2024, 1, 1), "week", signups_known=True)  # a Monday
    2817
    >>> first_new_cohort(dt.date(2024, 1, 1), "week", signups_known=False)
    2818
    """
    p = period_index_py(first_day, granularity, week_start)
    if not signups_known or period_start(p, granularity, week_start) < first_day:
        p += 1
    return p
