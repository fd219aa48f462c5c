"""Daily, weekly and monthly active users and the stickiness ratios DAU/MAU and WAU/MAU.

Definitions in force for the whole stickiness family (:mod:`.power_users`, :mod:`.growth`,
:mod:`.retention`, :mod:`.cadence`):

- Days, weeks (``data.week_start``) and months are calendar periods in the product's timezone
  (``EventLog.daily.day`` is already the local day).
- A user is **active** on a day with at least one event that counts as activity
  (``data.active_events`` / ``data.exclude_events``).
- The **data range** runs from the first to the last day with any event. A metric whose window
  or period does not lie wholly inside it is not reported (empty), never reported as zero.
- Day-N retention counts calendar days in the product's timezone: day 1 is the local calendar day
  after the start day, whatever the hour of either event (and across a daylight-saving change).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

import ibis
import pandas as pd

from ...core.periods import day_index, period_index_py, period_start
from ...data.engine import fetch
from ...data.log import EventLog

if TYPE_CHECKING:  # the breakdown calls back into this module: no import at run time
    from ..segments.assign import Segments

__all__ = ["active_users", "ratio_by_month"]


def active_users(log: EventLog, *, mau_window: Literal[28, 30] = 28, by: Segments | None = None) -> pd.DataFrame:
    """Daily, weekly and monthly active users with the stickiness ratios, for every day of the
    data range.

    Definition: DAU(d) = distinct users active on local day d; WAU(d) = distinct users active on
    any of the 7 days d-6..d; MAU(d) = distinct users active on any of the ``mau_window`` days
    ending on d (d-27..d, or d-29..d). ``dau_mau`` = DAU/MAU and ``wau_mau`` = WAU/MAU (fractions).
    There is a row for every day of the data range: DAU on every day; WAU from the 7th day of data
    on and MAU from the ``mau_window``-th, empty (``<NA>``) before, where their window is not
    wholly inside the data range; each ratio only where both of its parts exist and MAU is above
    0. Days without activity inside the range are real zeros.

    The trailing distinct counts need no window-by-window join: each active day of a user opens
    an interval that keeps the user counted until ``day + window`` or the user's next active day
    (whichever comes first, via LEAD), so a user's intervals never overlap; the count on a day is
    the running sum of interval starts minus interval ends.

    Returns
    -------
    pandas.DataFrame
        ``date``, ``dau`` (int64), ``wau``, ``mau`` (nullable Int64), ``dau_mau``, ``wau_mau``
        (float, NaN where not defined), one row per day of the data range.

    Examples
    --------
    >>> import datetime as dt
    >>> au = active_users(log, mau_window=28)
    >>> au.columns.tolist()
    ['date', 'dau', 'wau', 'mau', 'dau_mau', 'wau_mau']
    >>> au.date.iloc[0].date() == log.first_day, au.date.iloc[-1].date() == log.last_day
    (True, True)
    >>> int(au.wau.first_valid_index()), int(au.mau.first_valid_index())  # the 7th and the 28th day
    (6, 27)
    >>> full = au.dropna()
    >>> bool(((full.dau <= full.wau) & (full.wau <= full.mau)).all())
    True
    """
    if mau_window not in (28, 30):
        raise ValueError(f"mau_window must be 28 or 30, got {mau_window!r}")
    a = log.active_days()
    if by is not None:  # each segment's users alone: the segment is one more group-by key
        a = by.keyed(a)
    keys = [] if by is None else ["segment"]
    a = a.select(*keys, di=day_index(a.day), user_id=a.user_id)
    nxt = a.di.lead().over(ibis.window(group_by="user_id", order_by="di"))
    a = a.mutate(nxt=nxt)

    def end(width: int) -> ibis.Expr:
        cap = a.di + width
        return ibis.ifelse(a.nxt.notnull() & (a.nxt < cap), a.nxt, cap)

    zero, one, minus = ibis.literal(0, "int64"), ibis.literal(1, "int64"), ibis.literal(-1, "int64")
    starts = a.select(*keys, d=a.di, dau=one, wau=one, mau=one)
    ends = [
        a.select(*keys, d=end(1), dau=minus, wau=zero, mau=zero),
        a.select(*keys, d=end(7), dau=zero, wau=minus, mau=zero),
        a.select(*keys, d=end(mau_window), dau=zero, wau=zero, mau=minus),
    ]
    deltas = starts.union(*ends, distinct=False)
    per_day = deltas.group_by([*keys, "d"]).aggregate(dau=deltas.dau.sum(), wau=deltas.wau.sum(), mau=deltas.mau.sum())
    df = fetch(per_day, sort=[*keys, "d"])
    if by is not None:
        return by.split(lambda part: _daily_counts(part, log, mau_window), df)
    return _daily_counts(df, log, mau_window)


def _daily_counts(df: pd.DataFrame, log: EventLog, mau_window: int) -> pd.DataFrame:
    """The table of :func:`active_users` from the per-day deltas ``d``, ``dau``, ``wau``, ``mau``."""
    first, last = log.first_day, log.last_day
    d0, d1 = period_index_py(first, "day"), period_index_py(last, "day")
    lo = min(d0, int(df["d"].min())) if len(df) else d0
    counts = df.set_index("d")[["dau", "wau", "mau"]].reindex(range(lo, d1 + 1), fill_value=0).cumsum()
    counts = counts.loc[d0:d1].astype("int64")
    out = pd.DataFrame({"date": pd.to_datetime([period_start(int(i), "day") for i in counts.index]).astype("datetime64[ns]")})
    out["dau"] = counts["dau"].to_numpy()
    age = counts.index.to_numpy() - d0  # 0 on the first day of data
    for c, width in (("wau", 7), ("mau", mau_window)):
        # a window that starts before the data would count only part of its days
        out[c] = pd.array(counts[c].to_numpy(), dtype="Int64")
        out.loc[age < width - 1, c] = pd.NA
    mau = out["mau"].astype("float64").where(out["mau"].fillna(0) > 0)
    out["dau_mau"] = (out["dau"] / mau).astype("float64")
    out["wau_mau"] = (out["wau"].astype("float64") / mau).astype("float64")
    return out


def ratio_by_month(active: pd.DataFrame) -> pd.DataFrame:
    """Mean of the daily DAU/MAU and WAU/MAU ratios per calendar month, for months whose every
    day has its MAU (its whole MAU window lies in the data): ``month``, ``days``, ``dau_mau``,
    ``wau_mau``."""
    d = active[active["mau"].notna()]
    d = d.assign(month=d["date"].dt.to_period("M").dt.to_timestamp())
    g = d.groupby("month", as_index=False).agg(days=("date", "size"), dau_mau=("dau_mau", "mean"), wau_mau=("wau_mau", "mean"))
    full = g["month"].dt.days_in_month
    return g[g["days"] == full].reset_index(drop=True)
