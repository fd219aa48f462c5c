"""Stickiness: how often people come back (DAU/WAU/MAU), how many days a month they use the
product (the power-user curve) and their own rhythm (usage cadence).

Definitions in force (shared with :mod:`retention_kit.growth` and :mod:`retention_kit.retention`):

- Days, weeks (``data.week_start``) and months are calendar periods in the product's timezone
  (``EventLog.daily.day`` is already the local day).
- A user is **active** on a day with at least one event that counts as activity
  (``data.active_events`` / ``data.exclude_events``).
- The **data range** runs from the first to the last day with any event. A metric whose window
  or period does not lie wholly inside it is not reported (empty), never reported as zero.

Growth accounting lives in :mod:`retention_kit.growth`, cohort retention in
:mod:`retention_kit.retention`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

import ibis
import numpy as np
import pandas as pd

from .cadence import user_cadence
from .engine import fetch
from .errors import NotEnoughDataError
from .events import EventLog
from .periods import complete_range, day_index, period_days, period_index, period_index_py, period_start

__all__ = [
    "active_users",
    "complete_months",
    "power_user_curve",
    "power_user_curve_by_cohort",
    "trailing_power_user_curve",
    "curve_shape",
    "cadence_distribution",
    "cadence_profile",
]

_EPOCH = dt.date(1970, 1, 1)


def active_users(log: EventLog, *, mau_window: Literal[28, 30] = 28) -> pd.DataFrame:
    """Daily, weekly and monthly active users with the stickiness ratios.

    Definition: DAU(d) = distinct users active on local day d; WAU(d) = distinct users active on
    any of the 7 days d-6..d; MAU(d) = distinct users active on any of the ``mau_window`` days
    ending on d (d-27..d, or d-29..d). ``dau_mau`` = DAU/MAU and ``wau_mau`` = WAU/MAU (fractions,
    NaN where MAU is 0). A day is reported only if its whole MAU window lies in the data range,
    so the first row is ``first_day + mau_window - 1``; days without activity inside the range are
    real zeros.

    The trailing distinct counts need no window-by-window join: each active day of a user opens
    an interval that keeps the user counted until ``day + window`` or the user's next active day
    (whichever comes first, via LEAD), so a user's intervals never overlap; the count on a day is
    the running sum of interval starts minus interval ends.

    Returns
    -------
    pandas.DataFrame
        ``date``, ``dau``, ``wau``, ``mau``, ``dau_mau``, ``wau_mau``, one row per reported day.

    Raises
    ------
    NotEnoughDataError
        When the data range is shorter than ``mau_window`` days.

    Examples
    --------
    >>> au = active_users(log, mau_window=28)  # doctest: +SKIP
    >>> au[["date", "dau", "mau", "dau_mau"]].tail(1)  # doctest: +SKIP
    """
    if mau_window not in (28, 30):
        raise ValueError(f"mau_window must be 28 or 30, got {mau_window!r}")
    first, last = log.first_day, log.last_day
    span = (last - first).days + 1
    if span < mau_window:
        raise NotEnoughDataError(
            f"The data covers {span} days; DAU/WAU/MAU needs at least {mau_window} days so that one "
            f"day has its whole {mau_window}-day window in the data"
        )
    a = log.active_days()
    a = a.select(di=day_index(a.day), user_id=a.user_id)
    nxt = a.di.lead().over(ibis.window(group_by="user_id", order_by="di"))
    a = a.mutate(nxt=nxt)

    def end(width: int) -> ibis.Expr:
        cap = a.di + width
        return ibis.ifelse(a.nxt.notnull() & (a.nxt < cap), a.nxt, cap)

    zero, one, minus = ibis.literal(0, "int64"), ibis.literal(1, "int64"), ibis.literal(-1, "int64")
    starts = a.select(d=a.di, dau=one, wau=one, mau=one)
    ends = [
        a.select(d=end(1), dau=minus, wau=zero, mau=zero),
        a.select(d=end(7), dau=zero, wau=minus, mau=zero),
        a.select(d=end(mau_window), dau=zero, wau=zero, mau=minus),
    ]
    deltas = starts.union(*ends, distinct=False)
    per_day = deltas.group_by("d").aggregate(dau=deltas.dau.sum(), wau=deltas.wau.sum(), mau=deltas.mau.sum())
    df = fetch(per_day, sort=["d"])
    d0, d1 = (first - _EPOCH).days, (last - _EPOCH).days
    counts = df.set_index("d")[["dau", "wau", "mau"]].reindex(range(min(d0, int(df["d"].min())), d1 + 1), fill_value=0).cumsum()
    counts = counts.loc[d0 + mau_window - 1 : d1].astype("int64")
    out = pd.DataFrame({"date": pd.to_datetime([_EPOCH + dt.timedelta(days=int(i)) for i in counts.index]).astype("datetime64[ns]")})
    for c in ("dau", "wau", "mau"):
        out[c] = counts[c].to_numpy()
    mau = out["mau"].where(out["mau"] > 0)
    out["dau_mau"] = out["dau"] / mau
    out["wau_mau"] = out["wau"] / mau
    return out


def complete_months(log: EventLog) -> list[int]:
    """Month indices (see :mod:`retention_kit.periods`) of the calendar months lying wholly in
    the data range (first day of the month >= first day of data, last day <= last day of data).

    Examples
    --------
    >>> [period_start(m, "month") for m in complete_months(log)][-1]  # doctest: +SKIP
    datetime.date(2024, 6, 1)
    """
    rng = complete_range(log.first_day, log.last_day, "month")
    return [] if rng is None else list(range(rng[0], rng[1] + 1))


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


def power_user_curve(log: EventLog) -> pd.DataFrame:
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
    >>> curve = power_user_curve(log)  # doctest: +SKIP
    >>> curve[curve.month == curve.month.max()].head()  # doctest: +SKIP
    """
    months = complete_months(log)
    if not months:
        raise NotEnoughDataError(
            f"The data ({log.first_day} to {log.last_day}) holds no complete calendar month"
        )
    per = _user_month_days(log, months)
    counts = fetch(per.group_by(["m", "active_days"]).aggregate(users=per.count()))
    n_days = pd.Series({m: period_days(m, "month") for m in months})
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
    >>> power_user_curve_by_cohort(log).groupby("cohort").share.sum()  # doctest: +SKIP
    """
    months = complete_months(log)
    if not months:
        raise NotEnoughDataError(f"The data ({log.first_day} to {log.last_day}) holds no complete calendar month")
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
    >>> trailing_power_user_curve(log, days=7)  # doctest: +SKIP
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


_CADENCE_CAP = 60


def cadence_distribution(log: EventLog, *, cap: int = _CADENCE_CAP) -> pd.DataFrame:
    """Distribution of users' median gap between consecutive active days.

    Definition: per user with at least two active days, the median of the gaps in days between
    consecutive distinct active days (:func:`retention_kit.cadence.user_cadence`); users are
    counted by that median rounded down to whole days, with every median of ``cap`` days or more
    in the last bucket (``gap_days == cap``). ``share`` divides by users with two or more active
    days; users with one active day have no gap and are left out.

    Returns
    -------
    pandas.DataFrame
        ``gap_days`` (1..cap), ``users``, ``share``.

    Examples
    --------
    >>> cadence_distribution(log).head()  # doctest: +SKIP
    """
    c = user_cadence(log)
    c = c.filter(c.median_gap.notnull())
    b = c.mutate(gap_days=ibis.least(c.median_gap.floor().cast("int64"), cap))
    counts = fetch(b.group_by("gap_days").aggregate(users=b.count()))
    full = counts.set_index("gap_days")["users"].reindex(range(1, cap + 1), fill_value=0)
    out = pd.DataFrame({"gap_days": full.index.astype("int64"), "users": full.to_numpy().astype("int64")})
    out["share"] = out["users"] / max(int(out["users"].sum()), 1)
    return out


def cadence_profile(log: EventLog) -> dict[str, object]:
    """Classify the product's natural usage cadence and say which ratio judges its stickiness.

    Definition: ``typical_gap`` is the median, over users with at least two active days, of each
    user's median gap between consecutive active days. A typical gap of up to 3 days makes a
    **daily** product (judge it by DAU/MAU), up to 14 days a **weekly** product (judge it by
    WAU/MAU), longer a **monthly** product (judge it by monthly retention, not by DAU/MAU). The
    bounds sit near the geometric means of 1, 7 and 30 days.

    Returns
    -------
    dict
        ``typical_gap`` (days), ``p25``, ``p75``, ``users_with_gap``, ``one_day_users``,
        ``cadence`` (daily|weekly|monthly), ``judge_by`` (plain words).

    Examples
    --------
    >>> cadence_profile(log)["cadence"]  # doctest: +SKIP
    'weekly'
    """
    c = user_cadence(log)
    g = c.filter(c.median_gap.notnull())
    r = fetch(g.aggregate(
        typical_gap=g.median_gap.median(),
        p25=g.median_gap.quantile(0.25),
        p75=g.median_gap.quantile(0.75),
        users_with_gap=g.count(),
    )).iloc[0]
    one_day = int(fetch(c.filter(c.median_gap.isnull()).aggregate(n=ibis._.count()))["n"].iloc[0])
    if not int(r["users_with_gap"]):
        raise NotEnoughDataError("No user was active on two different days, so no cadence can be measured")
    gap = float(r["typical_gap"])
    cadence, judge = (("daily", "DAU/MAU") if gap <= 3 else ("weekly", "WAU/MAU") if gap <= 14
                      else ("monthly", "monthly retention"))
    return {"typical_gap": gap, "p25": float(r["p25"]), "p75": float(r["p75"]),
            "users_with_gap": int(r["users_with_gap"]), "one_day_users": one_day,
            "cadence": cadence, "judge_by": judge}
