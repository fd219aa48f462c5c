"""An independent computation of retention from raw event rows, in plain pandas and Python sets:
local days with pandas' timezone conversion, calendar periods with pandas ``Period`` (weeks as
``W-SUN`` / ``W-SAT``), cohorts and returns as sets, each cell counted user by user. It shares no
code with the kit beyond pandas; the tests compare the kit's tables with it."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

FREQ = {"day": "D", "month": "M"}


def _freq(granularity: str, week_start: str) -> str:
    if granularity == "week":
        # pandas names a week by its last day: Monday weeks end on Sunday
        return "W-SUN" if week_start == "monday" else "W-SAT"
    return FREQ[granularity]


def local_days(frame: pd.DataFrame, tz: str) -> pd.Series:
    """Each row's local calendar day in ``tz`` (aware stamps converted, naive ones taken as local)."""
    ts = pd.to_datetime(frame["timestamp"])
    if ts.dt.tz is not None:
        ts = ts.dt.tz_convert(tz).dt.tz_localize(None)
    return ts.dt.normalize()


def reference_cells(frame: pd.DataFrame, *, granularity: str, tz: str = "UTC", week_start: str = "monday",
                    active_events: Sequence[str] | None = None, cohort_type: str = "first",
                    start_event: Sequence[str] | None = None, return_event: Sequence[str] | None = None,
                    signups: dict[str, pd.Timestamp] | None = None, latest_cohorts: int | None = None,
                    max_period: int | None = None) -> dict[tuple[str, pd.Timestamp, int], tuple[int, int]]:
    """``{(mode, cohort first day, k): (cohort_size, active)}`` for every complete cell.

    ``signups`` maps users to their local signup day (first cohorts without ``start_event``).
    """
    df = frame.assign(day=local_days(frame, tz))
    active = df["event"].isin(active_events) if active_events else pd.Series(True, index=df.index)
    # the range of activity analyses: from the first day of activity to the last day of any row
    first, last = df.loc[active, "day"].min(), df["day"].max()
    freq = _freq(granularity, week_start)
    per = lambda d: pd.Period(d, freq=freq)  # noqa: E731
    lo, hi = per(first), per(last)
    complete = [p for p in pd.period_range(lo, hi, freq=freq)
                if p.start_time >= first and p.end_time.normalize() <= last]
    starts = df[df["event"].isin(start_event)] if start_event else df[active]
    rets = df[df["event"].isin(return_event)] if return_event else df[active]
    returns = {u: {per(d) for d in g} for u, g in rets.groupby("user_id")["day"]}
    members: set[tuple[str, pd.Period]] = set()
    if cohort_type == "first":
        first_day = starts.groupby("user_id")["day"].min().to_dict()
        if signups and not start_event:
            first_day = {**first_day, **signups}
        members = {(u, per(d)) for u, d in first_day.items()}
    else:
        members = {(u, per(d)) for u, d in zip(starts["user_id"], starts["day"])}
    if latest_cohorts is not None:
        members = {(u, c) for u, c in members if (hi - c).n < latest_cohorts}
    cells: dict[tuple[str, pd.Timestamp, int], list[int]] = {}
    for u, c in members:
        mine = returns.get(u, set())
        for q in complete:
            k = (q - c).n
            if k < 0 or (max_period is not None and k > max_period):
                continue
            key_on = ("on", c.start_time, k)
            key_after = ("on_or_after", c.start_time, k)
            for key, hit in ((key_on, k == 0 or q in mine), (key_after, k == 0 or any(r >= q for r in mine))):
                size_active = cells.setdefault(key, [0, 0])
                size_active[0] += 1
                size_active[1] += int(hit)
    return {k: (v[0], v[1]) for k, v in cells.items()}


def kit_cells(table: pd.DataFrame) -> dict[tuple[str, pd.Timestamp, int], tuple[int, int]]:
    """The kit's retention table in the shape of :func:`reference_cells`."""
    return {(r.mode, pd.Timestamp(r.cohort), int(r.period)): (int(r.cohort_size), int(r.active))
            for r in table.itertuples()}
