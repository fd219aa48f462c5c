"""Customer value: ARPU, ARPPU, repurchase, purchase frequency and revenue by cohort.

Definitions (all in the product's timezone, calendar days/weeks/months, see
:mod:`retention_kit.periods`):

- **Revenue** is the net sum of ``data.revenue`` over every event (refunds are negative, so they
  reduce the period's and the cohort's revenue on the day they happen).
- **Purchase**: a (user, day) on which the user has a purchase event (``data.purchase_events``;
  default: any event carrying a non-zero revenue) with positive revenue that day. Refunds and
  cancellations (negative revenue) are revenue, never purchases. Several purchases on one day
  count as one purchase (an order proxy: logs of invoice lines have many rows per order).
- **Paying user** of a period: a user with at least one purchase in it. **Active user**: a user
  with at least one active day in it (as everywhere in the kit).
- **Incomplete periods**: a period not lying entirely within the data range
  (:func:`retention_kit.core.periods.complete_range`): the period holding the last day of the data when
  it ends after it, and the period holding the first day when it starts before it, is reported
  with empty values (never zero); nothing is extrapolated beyond the data.
- **Cohorts** (:func:`cohort_revenue`) start at :func:`retention_kit.core.periods.first_new_cohort`:
  without a users table the cohort holding the first day of data is left-censored (everyone
  already active when the log began), and with one, cohorts that signed up before the data have
  unobserved early periods; both are left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import datetime as dt

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ...core import i18n
from ...data.engine import fetch
from ...errors import NotEnoughDataError
from ...data.log import EventLog
from ...core.periods import (
    Granularity,
    complete_range,
    day_index,
    first_new_cohort,
    period_end,
    period_index,
    period_index_py,
    period_start,
)
from ...core.portable import count_true

if TYPE_CHECKING:  # the breakdown calls back into this module: no import at run time
    from ..segments.assign import Segments

__all__ = [
    "has_revenue",
    "purchase_days",
    "value_by_period",
    "repurchase",
    "repurchase_trend",
    "cohort_revenue",
    "complete_value_periods",
    "observed_repurchase",
    "observed_cohorts",
]


def has_revenue(log: EventLog) -> bool:
    """Whether the log carries money (``data.revenue`` is set)."""
    return "revenue" in log.daily.columns


def _need_revenue(log: EventLog) -> None:
    if not has_revenue(log):
        raise NotEnoughDataError("the log has no revenue; set data.revenue in the params to the money column")


def purchase_days(log: EventLog, *, until: dt.date | None = None) -> ir.Table:
    """Purchases as an engine table: ``user_id``, ``day``, ``purchase_revenue`` (positive).

    A purchase is a (user, day) with positive revenue from purchase events that day (see the
    module docstring); ``until`` keeps days on or before it.

    Examples
    --------
    >>> days = purchase_days(log)
    >>> days.columns
    ('user_id', 'day', 'purchase_revenue')
    >>> df = days.execute()
    >>> bool((df.purchase_revenue > 0).all()), bool(df.duplicated(["user_id", "day"]).any())
    (True, False)
    """
    _need_revenue(log)
    d = log.revenue_rows()
    if until is not None:
        d = d.filter(d.day <= until)
    events = log.params.purchase_events
    # without purchase_events, every row that carries revenue is a purchase (all of these rows)
    p = d.filter(d.event.isin(events) & (d.revenue > 0)) if events else d.filter(d.revenue > 0)
    return p.group_by(["user_id", "day"]).aggregate(purchase_revenue=p.revenue.sum())


def _periods(log: EventLog, granularity: Granularity) -> pd.DataFrame:
    """Every period touching the data range with its start, end and completeness (lying entirely
    within the data range: a partial first period is as incomplete as a partial last one)."""
    ws = log.params.week_start
    lo = period_index_py(log.first_day, granularity, ws)
    hi = period_index_py(log.last_day, granularity, ws)
    idx = list(range(lo, hi + 1))
    ends = [period_end(i, granularity, ws) for i in idx]
    rng = complete_range(log.first_day, log.last_day, granularity, ws)
    return pd.DataFrame({
        "p": idx,
        "period": pd.to_datetime([period_start(i, granularity, ws) for i in idx]).astype("datetime64[ns]"),
        "period_end": pd.to_datetime(ends).astype("datetime64[ns]"),
        "complete": [rng is not None and rng[0] <= i <= rng[1] for i in idx],
    })


def value_by_period(log: EventLog, *, granularity: Granularity = "month", by: Segments | None = None) -> pd.DataFrame:
    """Revenue per active and per paying user, per calendar period.

    Per period: ``active_users`` (distinct users with an active day in it), ``paying_users``
    (distinct users with a purchase in it), ``purchases`` (purchase user-days), ``revenue`` (net,
    refunds included), ``arpu`` = revenue / active users, ``arppu`` = revenue / paying users,
    ``purchase_frequency`` = purchases / paying users. Every period of the data range is listed;
    periods without activity show 0 users and 0 revenue (ratios empty); a period not entirely
    within the data range (``complete`` false: still running at the end of the data, or begun
    before its first day) shows every value empty.

    Returns
    -------
    DataFrame: granularity, period (first day), period_end, complete, active_users, paying_users,
    purchases, revenue, arpu, arppu, purchase_frequency.

    Examples
    --------
    >>> v = value_by_period(log, granularity="week")
    >>> v.columns.tolist()
    ['granularity', 'period', 'period_end', 'complete', 'active_users', 'paying_users', 'purchases',
     'revenue', 'arpu', 'arppu', 'purchase_frequency']
    >>> done = v[v.complete]
    >>> bool((done.arpu == done.revenue / done.active_users).all())
    True
    >>> bool(v.loc[~v.complete, "revenue"].isna().all())  # the partial first week: empty, not 0
    True
    """
    _need_revenue(log)
    ws = log.params.week_start
    a, d, pu = log.active_days(), log.revenue_rows(), purchase_days(log)
    if by is not None:  # each segment's users alone: the segment is one more group-by key
        a, d, pu = by.keyed(a), by.keyed(d), by.keyed(pu)
    keys = [] if by is None else ["segment"]
    a = a.mutate(p=period_index(a.day, granularity, ws))
    act = fetch(a.group_by([*keys, "p"]).aggregate(active_users=a.user_id.nunique()))
    d = d.mutate(p=period_index(d.day, granularity, ws))
    rev = fetch(d.group_by([*keys, "p"]).aggregate(revenue=d.revenue.sum()))
    pu = pu.mutate(p=period_index(pu.day, granularity, ws))
    pay = fetch(pu.group_by([*keys, "p"]).aggregate(paying_users=pu.user_id.nunique(), purchases=pu.count()))
    if by is not None:
        return by.split(lambda *parts: _value_table(log, granularity, *parts), act, pay, rev)
    return _value_table(log, granularity, act, pay, rev)


def _value_table(log: EventLog, granularity: str, act: pd.DataFrame, pay: pd.DataFrame, rev: pd.DataFrame) -> pd.DataFrame:
    out = _periods(log, granularity)
    for part in (act, pay, rev):
        out = out.merge(part, on="p", how="left")
    out = out.fillna({"active_users": 0, "paying_users": 0, "purchases": 0, "revenue": 0.0})
    with np.errstate(divide="ignore", invalid="ignore"):
        out["arpu"] = out["revenue"] / out["active_users"].where(out["active_users"] > 0)
        out["arppu"] = out["revenue"] / out["paying_users"].where(out["paying_users"] > 0)
        out["purchase_frequency"] = out["purchases"] / out["paying_users"].where(out["paying_users"] > 0)
    counts = ["active_users", "paying_users", "purchases"]
    out[counts] = out[counts].astype("Int64")
    inc = ~out["complete"]
    out.loc[inc, counts] = pd.NA
    out.loc[inc, ["revenue", "arpu", "arppu", "purchase_frequency"]] = np.nan
    out.insert(0, "granularity", granularity)
    return out.drop(columns="p")[[
        "granularity", "period", "period_end", "complete", "active_users", "paying_users", "purchases",
        "revenue", "arpu", "arppu", "purchase_frequency"]]


def _first_second(log: EventLog) -> ir.Table:
    """Per buyer: ``fi`` (day index of the first purchase) and ``si`` (of the next purchase on a
    later day, null when none)."""
    p = purchase_days(log)
    p = p.mutate(di=day_index(p.day))
    w = ibis.window(group_by="user_id", order_by="di")
    p = p.mutate(rank=ibis.row_number().over(w))
    first = p.filter(p["rank"] == 0).select("user_id", fi="di")
    second = p.filter(p["rank"] == 1).select("user_id", si="di")
    return first.left_join(second, "user_id").select("user_id", "fi", "si")


def repurchase(log: EventLog, *, windows: tuple[int, ...] | list[int] = (30, 60, 90)) -> pd.DataFrame:
    """Share of buyers who buy again within ``w`` days of their first purchase.

    A buyer's first purchase is on day f; they *repurchase within w days* with a purchase on a
    later day s with ``s - f <= w`` (a second purchase on day f itself does not count). Only
    buyers *eligible* for w count: observed for w full days after f, i.e. ``f + w <=`` the last
    day of the data. ``rate`` = repurchasers / eligible buyers (empty with no eligible buyer).

    Returns
    -------
    DataFrame: window_days, eligible_buyers, repurchasers, rate.

    Examples
    --------
    >>> rep = repurchase(log, windows=[30, 60, 90])
    >>> rep.columns.tolist()
    ['window_days', 'eligible_buyers', 'repurchasers', 'rate']
    >>> bool((rep.rate == rep.repurchasers / rep.eligible_buyers).all())
    True
    >>> bool(rep.eligible_buyers.is_monotonic_decreasing)  # a longer window needs a longer watch
    True
    """
    t = _first_second(log)
    last = period_index_py(log.last_day, "day")
    aggs = {}
    for w in windows:
        elig = t.fi + w <= last
        aggs[f"e{w}"] = count_true(elig)
        aggs[f"r{w}"] = count_true(elig & t.si.notnull() & (t.si - t.fi <= w))
    row = fetch(t.aggregate(**aggs)).iloc[0]
    rows = []
    for w in windows:
        e = int(row[f"e{w}"]) if pd.notna(row[f"e{w}"]) else 0
        r = int(row[f"r{w}"]) if pd.notna(row[f"r{w}"]) else 0
        rows.append({"window_days": int(w), "eligible_buyers": e, "repurchasers": r, "rate": r / e if e else np.nan})
    return pd.DataFrame(rows)


def repurchase_trend(log: EventLog, *, window: int = 60, span_days: int = 90) -> pd.DataFrame:
    """Repurchase within ``window`` days for the latest eligible first-purchase cohorts.

    Of buyers eligible for ``window`` (first purchase f on or before ``last_day - window``),
    ``recent`` are those whose f falls in the last ``span_days`` eligible days and ``previous``
    those in the ``span_days`` before them. Same repurchase rule as :func:`repurchase`.

    Returns
    -------
    DataFrame with rows recent and previous: cohort, first_purchase_from, first_purchase_to,
    eligible_buyers, repurchasers, rate.

    Examples
    --------
    >>> import datetime as dt
    >>> trend = repurchase_trend(log, window=60, span_days=90)
    >>> trend.cohort.tolist()
    ['recent', 'previous']
    >>> trend.first_purchase_to.iloc[0].date() == log.last_day - dt.timedelta(days=60)
    True
    >>> (trend.first_purchase_to.iloc[0] - trend.first_purchase_from.iloc[0]).days + 1
    90
    """
    t = _first_second(log)
    hi = period_index_py(log.last_day, "day") - window
    rep = t.si.notnull() & (t.si - t.fi <= window)
    aggs = {}
    for name, top in (("recent", hi), ("previous", hi - span_days)):
        sel = (t.fi <= top) & (t.fi > top - span_days)
        aggs[f"e_{name}"] = count_true(sel)
        aggs[f"r_{name}"] = count_true(sel & rep)
    row = fetch(t.aggregate(**aggs)).iloc[0]
    rows = []
    for name, top in (("recent", hi), ("previous", hi - span_days)):
        e = int(row[f"e_{name}"]) if pd.notna(row[f"e_{name}"]) else 0
        r = int(row[f"r_{name}"]) if pd.notna(row[f"r_{name}"]) else 0
        start = max(period_start(top - span_days + 1, "day"), log.first_day)
        rows.append({
            "cohort": name,
            "first_purchase_from": pd.Timestamp(start),
            "first_purchase_to": pd.Timestamp(period_start(top, "day")),
            "eligible_buyers": e, "repurchasers": r, "rate": r / e if e else np.nan,
        })
    return pd.DataFrame(rows)


def cohort_revenue(log: EventLog, *, granularity: Granularity = "month") -> pd.DataFrame:
    """Revenue of each start cohort by cohort age, observed only.

    A user's cohort is the period of their start day (:meth:`EventLog.starts`: signup, else first
    active day). Only really new, fully observed cohorts are listed: those starting at or after
    :func:`retention_kit.core.periods.first_new_cohort` (the left-censored first cohort without a users
    table, and cohorts that signed up before the data with one, are left out: their period 0 is
    not observed or not new). For cohort c and age k (periods since c): ``revenue`` = net revenue
    of the cohort's users in period c + k (0 when none; revenue dated before a user's start is
    left out); ``revenue_retention`` = revenue(k) / revenue(0) (empty when revenue(0) <= 0);
    ``cumulative_revenue_per_user`` = revenue of ages 0..k / cohort size. Ages run up to the
    period holding the last day of the data; a row whose period is not complete (not entirely
    within the data range) is empty (``complete`` false), never zero. Nothing is extrapolated.

    Returns
    -------
    DataFrame: granularity, cohort (first day), period (age k), cohort_size, complete, revenue,
    revenue_retention, cumulative_revenue_per_user.

    Examples
    --------
    >>> cr = cohort_revenue(log, granularity="month")
    >>> bool(cr.query("period == 0 and revenue > 0").revenue_retention.eq(1).all())
    True
    >>> bool(cr.loc[~cr.complete, "revenue"].isna().all())  # not yet observed: empty, not 0
    True
    """
    _need_revenue(log)
    ws = log.params.week_start
    s = log.starts()
    s = s.mutate(c=period_index(s.start_day, granularity, ws))
    new0 = first_new_cohort(log.first_day, granularity, ws, signups_known=log.signups_known)
    s = s.filter(s.c >= new0)
    sizes = fetch(s.group_by("c").aggregate(cohort_size=s.count()))
    d = log.revenue_rows()
    j = d.join(s, "user_id")
    j = j.mutate(k=period_index(j.day, granularity, ws) - j.c)
    j = j.filter(j.k >= 0)
    rev = fetch(j.group_by(["c", "k"]).aggregate(revenue=j.revenue.sum()))
    last_p = period_index_py(log.last_day, granularity, ws)
    rng = complete_range(log.first_day, log.last_day, granularity, ws)
    rows = []
    for c, size in zip(sizes["c"], sizes["cohort_size"]):
        for k in range(0, last_p - int(c) + 1):
            rows.append((int(c), k, int(size), rng is not None and rng[0] <= int(c) + k <= rng[1]))
    cols = ["granularity", "cohort", "period", "cohort_size", "complete", "revenue", "revenue_retention",
            "cumulative_revenue_per_user"]
    if not rows:
        raise NotEnoughDataError("no cohort starts in a complete period after the first (left-censored or "
                                 "partly observed) one")
    g = pd.DataFrame(rows, columns=["c", "k", "cohort_size", "complete"])
    g = g.merge(rev, on=["c", "k"], how="left").fillna({"revenue": 0.0}).sort_values(["c", "k"], kind="stable")
    g.loc[~g["complete"], "revenue"] = np.nan
    base = g["c"].map(g.loc[g["k"] == 0].set_index("c")["revenue"])
    g["revenue_retention"] = g["revenue"] / base.where(base > 0)
    # an empty period empties every later cumulative value (cumsum alone would skip it)
    seen = g.groupby("c")["revenue"].transform(lambda r: r.isna().cummax())
    g["cumulative_revenue_per_user"] = (g.groupby("c")["revenue"].cumsum() / g["cohort_size"]).mask(seen)
    g["cohort"] = pd.to_datetime([period_start(c, granularity, ws) for c in g["c"]]).astype("datetime64[ns]")
    g["granularity"] = granularity
    return g.rename(columns={"k": "period"})[cols].reset_index(drop=True)


def _gran(granularity: str) -> str:
    """The message variant of a granularity (week, month, or period for an empty frame)."""
    return granularity if granularity in ("week", "month") else "period"


def complete_value_periods(by_period: pd.DataFrame) -> pd.DataFrame:
    """The complete periods of :func:`retention_kit.value.value_by_period` output (what the ARPU
    chart draws). Raises NotEnoughDataError when no period is complete or none has a purchase."""
    gran = by_period["granularity"].iloc[0] if len(by_period) else "period"
    done = by_period[by_period["complete"]]
    if done.empty:
        raise NotEnoughDataError(i18n.t(f"lifecycle.error.no_complete_period.{_gran(gran)}"))
    if not (done["paying_users"].fillna(0) > 0).any():
        raise NotEnoughDataError(i18n.t(f"lifecycle.error.no_purchase.{_gran(gran)}"))
    return done


def observed_repurchase(rates: pd.DataFrame) -> pd.DataFrame:
    """:func:`repurchase` output, or NotEnoughDataError when no buyer is
    eligible for any window (no purchase, or every first purchase too close to the end)."""
    if not (rates["eligible_buyers"] > 0).any():
        raise NotEnoughDataError(i18n.t("lifecycle.error.no_repurchase", days=rates["window_days"].min()))
    return rates


def observed_cohorts(cohorts: pd.DataFrame) -> pd.DataFrame:
    """:func:`cohort_revenue` output, or NotEnoughDataError when no cohort has
    a complete period with revenue (the charts would be empty)."""
    gran = cohorts["granularity"].iloc[0] if len(cohorts) else "period"
    done = cohorts[cohorts["complete"]]
    if done.empty:
        raise NotEnoughDataError(i18n.t(f"lifecycle.error.no_complete_cohort.{_gran(gran)}"))
    if not done["revenue_retention"].notna().any():
        raise NotEnoughDataError(i18n.t(f"lifecycle.error.no_first_revenue.{_gran(gran)}"))
    return cohorts
