"""The power-user curve (L-curve): how many days of a month (or of the last 7 or 28 days) each
active user came, and the shape of that curve (a smile or a cliff).

Definitions: see :mod:`.active_users`. Only calendar months lying wholly in the data range are
used: a partial month would push every curve to the left.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
import math
from collections.abc import Sequence

import ibis
import numpy as np
import pandas as pd

from ...core.periods import period_days, period_index, period_index_py, period_start
from ...data.engine import fetch
from ...data.log import EventLog
from ...errors import NotEnoughDataError

if TYPE_CHECKING:  # the breakdown calls back into this module: no import at run time
    from ..segments.assign import Segments

__all__ = ["power_user_curve", "power_user_curve_by_cohort", "trailing_power_user_curve", "trailing_activity", "curve_shape"]


def _complete_months(log: EventLog) -> list[int]:
    """Month indices of the calendar months lying wholly in the data range
    (:meth:`~retention_kit.data.EventLog.complete_periods`); NotEnoughDataError when there is none."""
    lo, hi = log.complete_periods("month")
    return list(range(lo, hi + 1))


def _fill_curve(counts: pd.DataFrame, keys: list[str], n_days: pd.Series | int) -> pd.DataFrame:
    """Add the zero rows (active_days 1..n with no users) and each count's share of its curve."""
    rows = []
    for key, g in counts.groupby(keys, sort=True) if keys else [((), counts)]:
        key = key if isinstance(key, tuple) else (key,)
        n = int(n_days if isinstance(n_days, int) else n_days.loc[key[0]])
        full = g.set_index("active_days")["users"].reindex(range(1, n + 1), fill_value=0)
        part = pd.DataFrame({"active_days": full.index.astype("int64"), "users": full.to_numpy().astype("int64")})
        for k, v in zip(keys, key):
            part.insert(len(part.columns) - 2, k, v)
        part["share"] = part["users"] / max(int(part["users"].sum()), 1)
        rows.append(part)
    if not rows:
        return pd.DataFrame(columns=[*keys, "active_days", "users", "share"])
    return pd.concat(rows, ignore_index=True)


def _user_month_days(log: EventLog, months: list[int]) -> ibis.Table:
    a = log.active_days()
    a = a.mutate(m=period_index(a.day, "month"))
    a = a.filter(a.m.between(months[0], months[-1]))
    return a.group_by(["user_id", "m"]).aggregate(active_days=a.count())


def power_user_curve(log: EventLog, *, by: Segments | None = None) -> pd.DataFrame:
    """The Power User Curve (L-curve) of each complete calendar month.

    Definition: for each calendar month lying wholly in the data range, among the users active at
    least once in it, ``users`` is the number of users with exactly ``active_days`` distinct
    active (local) days in the month, for 1..days in the month, and ``share`` their fraction of
    the month's active users (shares of a month sum to 1). Incomplete first/last months are left
    out: a partial month would push every curve to the left.

    Returns
    -------
    pandas.DataFrame
        ``month`` (first day), ``active_days``, ``users``, ``share``, ``days_in_month``.

    Examples
    --------
    >>> str(log.first_day), str(log.last_day)
    ('2024-01-06', '2024-07-28')
    >>> curve = power_user_curve(log)
    >>> curve.month.dt.strftime("%Y-%m").unique().tolist()  # January and July are partial
    ['2024-02', '2024-03', '2024-04', '2024-05', '2024-06']
    >>> june = curve[curve.month == "2024-06-01"]
    >>> len(june), int(june.active_days.max()), round(float(june.share.sum()), 9)
    (30, 30, 1.0)
    """
    months = _complete_months(log)
    per = _user_month_days(log, months)
    n_days = pd.Series({m: period_days(m, "month") for m in months})
    if by is not None:  # each segment's users alone: the segment is one more group-by key
        per = by.keyed(per)
        counts = fetch(per.group_by(["segment", "m", "active_days"]).aggregate(users=per.count()))
        return by.split(lambda part: _month_curves(part, months, n_days), counts)
    counts = fetch(per.group_by(["m", "active_days"]).aggregate(users=per.count()))
    return _month_curves(counts, months, n_days)


def _month_curves(counts: pd.DataFrame, months: list[int], n_days: pd.Series) -> pd.DataFrame:
    out = _fill_curve(counts, ["m"], n_days)
    out = out[out["m"].isin(months)]
    out.insert(0, "month", pd.to_datetime([period_start(m, "month") for m in out["m"]]).astype("datetime64[ns]"))
    out["days_in_month"] = out["m"].map(n_days).astype("int64")
    return out.drop(columns="m").reset_index(drop=True)


def power_user_curve_by_cohort(log: EventLog, *, month: dt.date | None = None) -> pd.DataFrame:
    """The power-user curve of one complete month split by signup cohort.

    Definition: as :func:`power_user_curve`, for the users active in ``month`` (default: the
    latest complete month), grouped by their cohort = calendar month of their start day (signup
    day from the users table when given, else first active day; see ``EventLog.starts``). Shares
    sum to 1 within each cohort. A cohort starting inside ``month`` is included but has had fewer
    days to be active.

    Returns
    -------
    pandas.DataFrame
        ``month``, ``cohort`` (first day), ``active_days``, ``users``, ``share``, ``cohort_users``.

    Examples
    --------
    >>> by_cohort = power_user_curve_by_cohort(log)  # the latest complete month, June
    >>> by_cohort.month.nunique(), bool(by_cohort.groupby("cohort").share.sum().round(9).eq(1).all())
    (1, True)
    """
    months = _complete_months(log)
    m = months[-1] if month is None else period_index_py(month, "month")
    if m not in months:
        raise ValueError(f"month {month} is not a complete month of the data")
    per = _user_month_days(log, [m, m])
    st = log.starts()
    st = st.select("user_id", cohort=period_index(st.start_day, "month"))
    j = per.join(st, "user_id", how="left")
    counts = fetch(j.group_by(["cohort", "active_days"]).aggregate(users=j.count()))
    counts["cohort"] = counts["cohort"].fillna(m).astype("int64")
    counts = counts.groupby(["cohort", "active_days"], as_index=False)["users"].sum()
    out = _fill_curve(counts, ["cohort"], period_days(m, "month"))
    out["cohort_users"] = out.groupby("cohort")["users"].transform("sum").astype("int64")
    out["cohort"] = pd.to_datetime([period_start(c, "month") for c in out["cohort"]]).astype("datetime64[ns]")
    out.insert(0, "month", pd.Timestamp(period_start(m, "month")))
    out["month"] = out["month"].astype("datetime64[ns]")
    return out


def trailing_power_user_curve(log: EventLog, *, days: int = 28) -> pd.DataFrame:
    """The trailing L-curve as of the last day of data (L7 with ``days=7``, L28 with 28).

    Definition: among users active at least once in the ``days`` local days ending on the last
    day of data, the number with exactly 1..``days`` distinct active days in that window and
    their share (sums to 1).

    Returns
    -------
    pandas.DataFrame
        ``as_of``, ``window_days``, ``active_days``, ``users``, ``share``.

    Examples
    --------
    >>> l7 = trailing_power_user_curve(log, days=7)
    >>> l7.active_days.tolist(), round(float(l7.share.sum()), 9)
    ([1, 2, 3, 4, 5, 6, 7], 1.0)
    >>> l7.as_of.iloc[0].date() == log.last_day
    True
    """
    span = (log.last_day - log.first_day).days + 1
    if span < days:
        raise NotEnoughDataError(f"The data covers {span} days; the L{days} curve needs {days}")
    lo = log.last_day - dt.timedelta(days=days - 1)
    a = log.active_days()
    a = a.filter(a.day >= lo)
    per = a.group_by("user_id").aggregate(active_days=a.count())
    counts = fetch(per.group_by("active_days").aggregate(users=per.count()))
    out = _fill_curve(counts, [], days)
    out.insert(0, "window_days", days)
    out.insert(0, "as_of", pd.Timestamp(log.last_day))
    out["as_of"] = out["as_of"].astype("datetime64[ns]")
    return out


def trailing_activity(log: EventLog, *, days: Sequence[int] = (7, 28)) -> pd.DataFrame:
    """The active-days histogram over each trailing window of ``days`` (``stickiness.trailing_days``:
    L7, L28, any n), as of the last day of data (PostHog's stickiness over a chosen range).

    Definition: for a window of n days ending on the last day of data, among users active at least
    once in it, ``users`` with exactly ``active_days`` = 1..n distinct active days in it and their
    ``share`` (sums to 1 per window); :func:`trailing_power_user_curve`. Windows longer than the
    data range are left out (they would count days before the data as inactive).

    Returns
    -------
    pandas.DataFrame
        ``days`` (window length), ``active_days``, ``users``, ``share``, ``as_of`` (the last day).

    Raises
    ------
    NotEnoughDataError
        When every window is longer than the data range.

    Examples
    --------
    >>> t = trailing_activity(log, days=[7, 28])
    >>> t.groupby("days").active_days.max().to_dict(), t.groupby("days").share.sum().round(9).tolist()
    ({7: 7, 28: 28}, [1.0, 1.0])
    """
    span = (log.last_day - log.first_day).days + 1
    fit = sorted({int(n) for n in days if 0 < int(n) <= span})
    if not fit:
        raise NotEnoughDataError(
            f"The data covers {span} days; the shortest trailing window asked for (stickiness.trailing_days: "
            f"{', '.join(str(int(n)) for n in sorted(days))}) needs {min(int(n) for n in days)}"
        )
    parts = [trailing_power_user_curve(log, days=n) for n in fit]
    out = pd.concat(parts, ignore_index=True).rename(columns={"window_days": "days"})
    return out[["days", "active_days", "users", "share", "as_of"]].astype({"days": "int64"})


def curve_shape(active_days: pd.Series, share: pd.Series) -> dict[str, object]:
    """Read the shape of one power-user curve.

    Definition, with n = the curve's number of days and shares s(1..n):

    - ``half_share``: share of users active on at least half the days (``active_days >= n/2``,
      rounded up);
    - ``shape`` is ``"flat"`` when no day count holds more than twice the uniform share 1/n;
      otherwise ``"smile"`` when a second hump rises in the right half of the curve: on the
      curve smoothed by a centred 3-day mean, the highest share at ``active_days > n/2`` is at
      least 1.5 times, and at least 0.5 points above, the lowest share between day 2 and that
      peak; otherwise ``"cliff"`` (the curve falls from the left with no second hump).

    Examples
    --------
    >>> curve_shape(pd.Series([1, 2, 3, 4]), pd.Series([0.7, 0.2, 0.1, 0.0]))["shape"]
    'cliff'
    """
    s = pd.Series(np.asarray(share, dtype="float64"), index=np.asarray(active_days, dtype="int64")).sort_index()
    n = int(s.index.max()) if len(s) else 0
    if n < 4 or not np.isfinite(s).all() or s.sum() <= 0:
        return {"shape": "unknown", "half_share": float("nan"), "days": n}
    half = float(s[s.index >= math.ceil(n / 2)].sum())
    sm = s.rolling(3, center=True, min_periods=1).mean()
    right = sm[sm.index > n / 2]
    peak_at = int(right.idxmax())
    trough = float(sm[(sm.index >= 2) & (sm.index <= peak_at)].min())
    peak = float(right.max())
    if s.max() <= 2.0 / n:
        shape = "flat"
    elif peak >= 1.5 * trough and peak - trough >= 0.005:
        shape = "smile"
    else:
        shape = "cliff"
    return {"shape": shape, "half_share": half, "days": n}
