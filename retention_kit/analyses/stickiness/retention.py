"""Cohort retention: of the users who started in a period, how many come back k periods later;
day-N retention, bracket retention, and the headline figures a page may quote.

Definitions (calendar days, weeks or months in the product's timezone, weeks starting on
``data.week_start``):

- **Start and return events.** ``start_event`` (``stickiness.retention.start_event``) lists the
  events that start a cohort; without it a user's start is their signup day from the users table
  when one is given, else their first active day (``EventLog.starts``). ``return_event`` lists the
  events that count as a return; without it any active event does. With ``return_event`` set, a
  start event counts as a return only if it is listed too. An item of either list may be a
  filtered event, ``{event: purchase, where: {amount: {gte: 50}}}``: only the events whose
  properties (``data.properties``) pass the filter count.
- **Cohort type.** ``first``: each user belongs to one cohort, the period of their start (with
  ``start_event``: of the first day they did one). ``recurring``: a user joins the cohort of every
  period in which they did a start event (with ``start_event`` null: every period in which they
  were active), so one user can be counted in several cohorts; each membership is followed on
  its own.
- **Period k**: the k-th calendar period after the cohort's own (k = 0 is the cohort period). For
  days this is day-N retention: D1 is the local calendar day after the start day, whatever the
  hours of the two events (so also across a daylight-saving change).
- **Retention(c, k)**: period 0 counts the cohort itself (its size: always 100%, the start is
  presence); mode ``"on"``: share of the cohort with a return in period c+k; mode
  ``"on_or_after"``: with a return in c+k or in any later period up to the last day of data
  (always >= "on"). Returns before the start are ignored.
- **Incomplete cells**: a cell whose period c+k is not complete, i.e. does not lie entirely within
  the data range (:func:`retention_kit.core.periods.complete_range`: it ends after the last day of
  data, or starts before the first day, e.g. a partial first week or, with a users table, periods
  before the data of a cohort that signed up earlier), is empty (not in the table), never zero.
  Every day of the data range is a complete day.
- **New cohorts** (``new_cohort``): a cohort is really new and fully observed when it starts at or
  after :func:`retention_kit.core.periods.first_new_cohort`. For first-time cohorts without a
  users table (or with ``start_event``, whose first occurrence in the data need not be the first
  ever), the cohort whose period holds the first day of data is left-censored: it holds every user
  already active when the log began, not only new ones. With a users table, cohorts that started
  before the first day of data have unobserved early periods. A recurring cohort is fully observed
  when its period lies in the data. Their complete cells stay in the table (flagged
  ``new_cohort`` false) but the average curve and the headlines leave them out.
- **Brackets** (:func:`retention_brackets`): bracket [a, b] of a cohort counts its users with a
  return on a day a..b days after their own start day (for recurring cohorts: after their first
  start day in the cohort period); a cohort's bracket is complete when the data reaches day b of
  the cohort's last member, i.e. the cohort period's last day + b <= the last day of data.
- **Intervals**: 95% Wilson score intervals (:func:`retention_kit.core.stats.wilson_interval`).
- **Average curve**: for each k, pooled over the new cohorts whose period k is complete, i.e. the
  cohort-size weighted mean sum(active) / sum(cohort_size), with a Wilson interval on the pooled
  counts (it treats users as independent and ignores between-cohort variation).
- **Headlines** (:func:`retention_headline`): a figure is quoted only for a cohort of at least
  :func:`minimum_cohort` users (``stickiness.min_cohort_size``, or every user of the log when it
  has fewer), never for a smaller one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Union

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ...core import conditions
from ...core.periods import day_index, first_new_cohort, period_end, period_index, period_index_py, period_start
from ...core.stats import share_interval
from ...data.engine import fetch
from ...data.log import EventLog
from ...data.names import require_events, require_properties
from ...data.params import EventFilter, StickinessParams
from ...errors import NotEnoughDataError
from ...core.portable import flag

if TYPE_CHECKING:  # the breakdown calls back into this module: no import at run time
    from ..segments.assign import Segments

__all__ = [
    "cohort_retention",
    "average_retention",
    "retention_brackets",
    "average_brackets",
    "retention_headline",
    "minimum_cohort",
    "bracket_label",
    "events_text",
    "event_labels",
    "retention_options",
    "return_periods",
]

Mode = Literal["on", "on_or_after"]
CohortType = Literal["first", "recurring"]
Granularity = Literal["day", "week", "month"]


#: A start or return event: a name, or a filtered event (``{event: purchase, where: {amount:
#: {gte: 50}}}``, or :class:`retention_kit.data.params.EventFilter`).
EventSpec = Union[str, Mapping[str, Any], EventFilter]


def _specs(events: Sequence[EventSpec] | None, key: str) -> tuple[str | dict[str, Any], ...]:
    """Names as names and filtered events as condition leaves; ValueError for anything else."""
    out: list[str | dict[str, Any]] = []
    for i, e in enumerate(events or ()):
        if isinstance(e, str):
            out.append(e)
        elif isinstance(e, EventFilter):
            out.append(e.leaf)
        elif isinstance(e, Mapping) and set(e) == {"event", "where"} and isinstance(e["event"], str):
            conditions.validate_where(e["where"], f"{key}[{i}].where")
            out.append({"event": e["event"], "where": dict(e["where"])})
        else:
            raise ValueError(f"{key}[{i}]: expected an event name or {{event: NAME, where: FILTER}}, got {e!r}")
    return tuple(out)


def _spec_key(specs: Sequence[str | Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(e if isinstance(e, str) else conditions.leaf_key(e) for e in specs)


def events_text(names: Sequence[EventSpec] | None) -> str:
    """A list of start or return events as the exports write it: joined by ``", "``, a filtered
    event with its filter (:func:`retention_kit.core.conditions.leaf_label`); empty for None.

    Examples
    --------
    >>> events_text(["signup", "purchase"]), events_text(None)
    ('signup, purchase', '')
    >>> events_text(["signup", {"event": "purchase", "where": {"amount": {"gte": 50}}}])
    'signup, purchase (amount ≥ 50)'
    """
    return ", ".join(event_labels(names))


def event_labels(names: Sequence[EventSpec] | None) -> list[str]:
    """Start or return events as exports and pages write them: a name as it is, a filtered event
    with its filter (:func:`retention_kit.core.conditions.leaf_label`).

    Examples
    --------
    >>> event_labels(["signup", {"event": "purchase", "where": {"amount": {"gte": 50}}}])
    ['signup', 'purchase (amount ≥ 50)']
    """
    return [e if isinstance(e, str) else conditions.leaf_label(e) for e in _specs(names, "events")]


def _event_days(log: EventLog, specs: Sequence[str | Mapping[str, Any]]) -> ir.Table:
    """Distinct (``user_id``, ``day``) with one of ``specs``: a named event (any, active or not),
    or a filtered event whose properties pass its filter (:meth:`EventLog.filtered_daily`)."""
    names = [e for e in specs if isinstance(e, str)]
    parts = []
    if names:
        d = log.daily
        parts.append(d.filter(d.event.isin(names)).select("user_id", "day"))
    parts += [log.filtered_daily(e).select("user_id", "day") for e in specs if not isinstance(e, str)]
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p, distinct=False)
    return out.distinct()


def bracket_label(first: int, last: int) -> str:
    """A bracket's name in the exports: ``"2-7"`` (``"1-1"`` for a single day).

    Examples
    --------
    >>> bracket_label(2, 7), bracket_label(1, 1)
    ('2-7', '1-1')
    """
    return f"{int(first)}-{int(last)}"


def retention_options(params: StickinessParams, granularity: Granularity, *, brackets: bool = False) -> dict[str, object]:
    """The keyword arguments of :func:`cohort_retention` (``brackets=True``: of
    :func:`retention_brackets`) that the params ``stickiness.retention`` give for ``granularity``:
    the cohort type and events, and for days the cohorts kept (``day_cohorts``) and, for cells,
    the days kept (``max_day``).

    Examples
    --------
    >>> retention_options(params.stickiness, "day")
    {'cohort_type': 'first', 'start_event': None, 'return_event': None, 'latest_cohorts': 90, 'max_period': 90}
    >>> retention_options(params.stickiness, "week", brackets=True)
    {'cohort_type': 'first', 'start_event': None, 'return_event': None, 'latest_cohorts': None}
    """
    rp = params.retention
    out: dict[str, object] = {"cohort_type": rp.cohorts, "start_event": rp.start_event, "return_event": rp.return_event,
                              "latest_cohorts": rp.day_cohorts if granularity == "day" else None}
    if not brackets:
        out["max_period"] = rp.max_day if granularity == "day" else None
    return out


def _check(log: EventLog, granularity: str, cohort_type: str, start_event: Sequence[EventSpec] | None,
           return_event: Sequence[EventSpec] | None) -> None:
    if granularity not in ("day", "week", "month"):
        raise ValueError(f"granularity must be 'day', 'week' or 'month', got {granularity!r}")
    if cohort_type not in ("first", "recurring"):
        raise ValueError(f"cohort_type must be 'first' or 'recurring', got {cohort_type!r}")
    for key, events in (("stickiness.retention.start_event", start_event), ("stickiness.retention.return_event", return_event)):
        specs = _specs(events, key)
        require_events(log, [e if isinstance(e, str) else e["event"] for e in specs] or None, key=key)
        for i, e in enumerate(specs):
            if not isinstance(e, str):
                require_properties(log, e, key=f"{key}[{i}]")


def _members(log: EventLog, granularity: Granularity, cohort_type: CohortType,
             start_event: Sequence[EventSpec] | None) -> ir.Table:
    """Cohort memberships: ``user_id``, ``c`` (period index of the cohort), ``anchor`` (the day
    the membership starts: the user's start day, or a recurring cohort's first start day in c)."""
    ws = log.params.week_start
    specs = _specs(start_event, "stickiness.retention.start_event")
    names = _spec_key(specs)

    def build() -> ir.Table:
        if cohort_type == "first" and not names:
            st = log.starts()
            return st.select("user_id", c=period_index(st.start_day, granularity, ws), anchor=st.start_day)
        days = _event_days(log, specs) if names else log.active_days()
        if cohort_type == "first":
            g = days.group_by("user_id").aggregate(anchor=days.day.min())
            return g.select("user_id", c=period_index(g.anchor, granularity, ws), anchor=g.anchor)
        days = days.mutate(c=period_index(days.day, granularity, ws))
        return days.group_by(["user_id", "c"]).aggregate(anchor=days.day.min())

    if cohort_type == "first" and not names:
        return build()  # a projection of the cached starts: nothing worth caching
    return log.memoized(("stickiness.members", granularity, ws, cohort_type, names), build)


def _returns(log: EventLog, return_event: Sequence[EventSpec] | None) -> ir.Table:
    """Distinct (``user_id``, ``day``) with a return: any activity, or one of ``return_event``."""
    if not return_event:
        return log.active_days()
    specs = _specs(return_event, "stickiness.retention.return_event")
    return log.memoized(("stickiness.returns", _spec_key(specs)), lambda: _event_days(log, specs))


def return_periods(log: EventLog, granularity: Granularity, return_event: Sequence[EventSpec] | None = None) -> ir.Table:
    """Distinct (``user_id``, ``p``: period index) with a return (:func:`_returns`), cached per
    log: growth accounting reads the same table for activity (``return_event`` None)."""
    ws = log.params.week_start
    r = _returns(log, return_event)
    if granularity == "day":
        return r.select("user_id", p=period_index(r.day, "day"))  # distinct (user, day) pairs already
    names = _spec_key(_specs(return_event, "stickiness.retention.return_event"))
    return log.memoized(("stickiness.return_periods", granularity, ws, names),
                        lambda: r.select("user_id", p=period_index(r.day, granularity, ws)).distinct())


def _new_cohort_index(log: EventLog, granularity: Granularity, cohort_type: CohortType,
                      start_event: Sequence[EventSpec] | None) -> int:
    # a signup is a user's real start; a first start event in the data, or a first active day,
    # may not be; recurring memberships do not depend on what came before the data
    known = cohort_type == "recurring" or (not start_event and log.signups_known)
    return first_new_cohort(log.first_day, granularity, log.params.week_start, signups_known=known)


def cohort_retention(log: EventLog, *, granularity: Granularity = "week", modes: tuple[Mode, ...] = ("on", "on_or_after"),
                     cohort_type: CohortType = "first", start_event: Sequence[EventSpec] | None = None,
                     return_event: Sequence[EventSpec] | None = None, latest_cohorts: int | None = None,
                     max_period: int | None = None, by: Segments | None = None) -> pd.DataFrame:
    """Retention triangle: one row per cohort, mode and complete period k.

    Definition: see the module docstring (cohorts, start and return events, "on" and "on or
    after", complete cells). Only cells whose period c+k is complete are listed: a cohort whose
    own period is incomplete (a partial first period, or a signup before the data) has no
    period-0 cell, and no cells for periods before the data; cohorts with no users have no rows.
    A complete cell with nobody active is a real 0.

    Parameters
    ----------
    granularity
        ``day`` (day-N retention), ``week`` or ``month``.
    cohort_type, start_event, return_event
        ``stickiness.retention.cohorts``, ``.start_event``, ``.return_event``; event names must
        occur in the log (:func:`retention_kit.data.names.require_events`).
    latest_cohorts
        Keep only cohorts starting in the last N periods of the data (the period holding the last
        day counts as one); ``stickiness.retention.day_cohorts`` for days. None: all.
    max_period
        Keep only cells k <= N (``stickiness.retention.max_day`` for days). "On or after" still
        counts returns after period N. None: all.

    Returns
    -------
    pandas.DataFrame
        ``granularity``, ``mode``, ``cohort`` (first day), ``period`` (k), ``cohort_size``,
        ``active``, ``retention`` (fraction), ``ci_low``, ``ci_high``, ``new_cohort`` (False for
        a left-censored cohort or one that started before the data: see the module docstring),
        ``cohort_type``, ``start_event``, ``return_event`` (the lists as text, empty for the
        defaults: :func:`events_text`).

    Raises
    ------
    NotEnoughDataError
        When no cohort has a complete period.
    DataError
        When a start or return event occurs nowhere in the log (naming the nearest events).

    Examples
    --------
    >>> r = cohort_retention(log, granularity="week")
    >>> sorted(r["mode"].unique()), bool(r.loc[r.period == 0, "retention"].eq(1).all())
    (['on', 'on_or_after'], True)
    >>> on = r[r["mode"] == "on"].set_index(["cohort", "period"]).active
    >>> on_or_after = r[r["mode"] == "on_or_after"].set_index(["cohort", "period"]).active
    >>> bool((on <= on_or_after).all())
    True

    Day-N retention of daily cohorts, from the first save to the next open:

    >>> d = cohort_retention(log, granularity="day", start_event=["save_note"], return_event=["app_open"],
    ...                      latest_cohorts=30, max_period=7, modes=("on",))
    >>> d.cohort.nunique(), int(d.period.max()), d.start_event.iloc[0], d.return_event.iloc[0]
    (30, 7, 'save_note', 'app_open')
    """
    _check(log, granularity, cohort_type, start_event, return_event)
    bad = set(modes) - {"on", "on_or_after"}
    if bad:
        raise ValueError(f"unknown retention mode(s) {sorted(bad)}; use 'on' or 'on_or_after'")
    ws = log.params.week_start
    lo, hi = log.complete_periods(granularity)
    new0 = _new_cohort_index(log, granularity, cohort_type, start_event)
    m = _members(log, granularity, cohort_type, start_event)
    m = m.filter(m.c <= hi)
    if by is not None:  # each segment's users alone: the segment is one more group-by key
        m = by.keyed(m)
    keys = [] if by is None else ["segment"]
    r = _returns(log, return_event)
    rp = return_periods(log, granularity, return_event)
    if latest_cohorts is not None:
        cmin = period_index_py(log.last_day, granularity, ws) - int(latest_cohorts) + 1
        m = m.filter(m.c >= cmin)
        # a return before the oldest cohort kept is before every start kept: it counts nowhere
        rp = rp.filter(rp.p >= cmin)
        r = r.filter(r.day >= period_start(cmin, granularity, ws))
    # "on": one row per membership and later period with a return, inside the complete periods
    j = m.join(rp, "user_id")
    j = j.select(*keys, "c", "p", k=j.p - j.c)
    cond = (j.k >= 1) & (j.p >= lo) & (j.p <= hi)
    if max_period is not None:
        cond &= j.k <= int(max_period)
    j = j.filter(cond)
    on = fetch(j.group_by([*keys, "c", "k"]).aggregate(active=j.count())) if "on" in modes else None
    # "on or after" needs no pairs: a membership reaches k when the user's last return is at c+k or later
    # the period of the last return day is the last period with a return: no distinct needed
    last = r.group_by("user_id").aggregate(last_day=r.day.max())
    last = last.select("user_id", L=period_index(last.last_day, granularity, ws))
    mj = m.left_join(last, "user_id")
    kmax = ibis.greatest(mj.L - mj.c, 0).fill_null(0)
    if max_period is not None:
        kmax = ibis.least(kmax, int(max_period))
    mj = mj.select(*[mj[k] for k in keys], mj.c, kmax=kmax.cast("int64"))
    reach = fetch(mj.group_by([*keys, "c", "kmax"]).aggregate(users=mj.count()))
    opts = dict(granularity=granularity, modes=modes, lo=lo, hi=hi, max_period=max_period, new0=new0, ws=ws,
                cohort_type=cohort_type, start_event=start_event, return_event=return_event)
    if by is not None:
        return by.split(lambda rc, o: _cells(rc, o, log, **opts), reach, on)
    return _cells(reach, on, log, **opts)


def _cells(reach: pd.DataFrame, on: pd.DataFrame | None, log: EventLog, *, granularity: str, modes: Sequence[str],
           lo: int, hi: int, max_period: int | None, new0: int, ws: str, cohort_type: str,
           start_event: Sequence[EventSpec] | None, return_event: Sequence[EventSpec] | None) -> pd.DataFrame:
    """The retention table of :func:`cohort_retention` from the fetched counts: ``reach`` (``c``,
    ``kmax``: the last period reached, ``users``) and ``on`` (``c``, ``k``, ``active``).

    Each cohort c gets its complete periods k (c+k inside [lo, hi], k <= ``max_period``); "on"
    reads the active count of (c, k) (0 when absent; the cohort itself at k = 0), "on or after"
    the users whose last period reached is k or later (a reverse cumulative sum over kmax).
    """
    sizes = reach.groupby("c")["users"].sum().sort_index()
    if sizes.empty:
        raise NotEnoughDataError(
            f"No cohort has a complete {granularity}: the data ({log.first_day} to {log.last_day}) "
            "does not reach the end of any cohort's first period"
        )
    cs = sizes.index.to_numpy().astype("int64")
    size = sizes.to_numpy().astype("int64")
    # only periods c+k inside [lo, hi]: a cohort older than the data has no cells before it
    top = hi - cs if max_period is None else np.minimum(hi - cs, int(max_period))
    first = np.maximum(0, lo - cs)
    count = np.maximum(top - first + 1, 0)
    if not count.sum():
        raise NotEnoughDataError(f"No cohort has a complete {granularity} within the cells kept")
    row = np.repeat(np.arange(len(cs)), count)
    ks = (np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)) + np.repeat(first, count)
    width = int(max(int(top.max()), int(reach["kmax"].max()))) + 1
    pos = {int(c): i for i, c in enumerate(cs)}
    frames = []
    for mode in modes:
        if mode == "on":
            grid = np.zeros((len(cs), width), dtype="int64")
            if on is not None and len(on):
                keep = on["k"].to_numpy() < width
                ri = on["c"].map(pos).to_numpy()[keep].astype("int64")
                np.add.at(grid, (ri, on["k"].to_numpy()[keep].astype("int64")), on["active"].to_numpy()[keep].astype("int64"))
            grid[:, 0] = size  # the start is presence in period 0
        else:
            grid = np.zeros((len(cs), width), dtype="int64")
            ri = reach["c"].map(pos).to_numpy().astype("int64")
            np.add.at(grid, (ri, reach["kmax"].to_numpy().astype("int64")), reach["users"].to_numpy().astype("int64"))
            # users whose last return is at k or later: reverse cumulative sum over kmax
            grid = grid[:, ::-1].cumsum(axis=1)[:, ::-1]
        frames.append(pd.DataFrame({"mode": mode, "c": cs[row], "period": ks.astype("int64"), "cohort_size": size[row],
                                    "active": grid[row, ks], "new_cohort": cs[row] >= new0}))
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "granularity", granularity)
    starts = {c: period_start(int(c), granularity, ws) for c in np.unique(cs)}
    out.insert(2, "cohort", pd.to_datetime(out["c"].map(starts)).astype("datetime64[ns]"))
    out = out.drop(columns="c")
    out["retention"] = out["active"] / out["cohort_size"]
    out["ci_low"], out["ci_high"] = share_interval(out["active"], out["cohort_size"])
    out = out[[c for c in out.columns if c != "new_cohort"] + ["new_cohort"]]
    out["cohort_type"] = cohort_type
    out["start_event"] = events_text(start_event)
    out["return_event"] = events_text(return_event)
    return out.sort_values(["mode", "cohort", "period"], kind="stable").reset_index(drop=True)


def average_retention(cells: pd.DataFrame, *, cohorts: int | None = None) -> pd.DataFrame:
    """Cohort-size weighted average retention curve of a retention table (one mode).

    Definition: for each period k, over the new cohorts whose cell k is complete (present in
    ``cells``), retention = sum(active) / sum(cohort_size), with a 95% Wilson interval on those
    pooled counts. Cohorts flagged ``new_cohort`` false (left-censored, or started before the
    data: see the module docstring) are left out. ``cohorts`` keeps only the latest N new
    cohorts (those shown).

    Returns
    -------
    pandas.DataFrame
        ``period``, ``cohorts`` (number that reached k), ``cohort_size`` (their users),
        ``active``, ``retention``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> r = cohort_retention(log, granularity="week")
    >>> avg = average_retention(r[r["mode"] == "on"], cohorts=8)
    >>> avg.columns.tolist()
    ['period', 'cohorts', 'cohort_size', 'active', 'retention', 'ci_low', 'ci_high']
    >>> avg.cohorts.head(3).tolist(), float(avg.retention.iloc[0])  # fewer cohorts reach later periods
    ([8, 7, 6], 1.0)
    """
    if cells["mode"].nunique() > 1 or cells["granularity"].nunique() > 1:
        raise ValueError("average_retention takes the cells of one granularity and one mode")
    d = cells
    if "new_cohort" in d.columns:
        d = d[d["new_cohort"].astype(bool)]
    if cohorts is not None:
        keep = sorted(d["cohort"].unique())[-cohorts:]
        d = d[d["cohort"].isin(keep)]
    g = d.groupby("period", as_index=False).agg(cohorts=("cohort", "nunique"), cohort_size=("cohort_size", "sum"),
                                                active=("active", "sum"))
    g["retention"] = g["active"] / g["cohort_size"]
    g["ci_low"], g["ci_high"] = share_interval(g["active"], g["cohort_size"])
    return g.astype({"cohorts": "int64", "cohort_size": "int64", "active": "int64"})


def minimum_cohort(log: EventLog, min_cohort_size: int = 100) -> int:
    """The smallest cohort a headline may quote: ``stickiness.min_cohort_size``, or the number
    of users in the log when it has fewer (then only a cohort of every user qualifies).

    Examples
    --------
    >>> minimum_cohort(log, 100), minimum_cohort(log, 10**9) == log.quality.users
    (100, True)
    """
    return max(1, min(int(min_cohort_size), int(log.quality.users)))


def retention_headline(cells: pd.DataFrame, *, periods: Sequence[int] = (1, 7, 30), min_size: int = 100,
                       pool: bool = True) -> pd.DataFrame:
    """The figures a summary may quote: retention at each of ``periods`` for a recent cohort of at
    least ``min_size`` users (:func:`minimum_cohort`), never a smaller one.

    Definition: among the new cohorts (``new_cohort``) of ``cells`` (one granularity, one mode)
    whose cell k is complete, ``pool=True`` takes the latest cohorts one after the other, newest
    first, until together they hold at least ``min_size`` users, and pools them (sum(active) /
    sum(cohort_size), Wilson interval on the pooled counts): "users who started from
    ``first_cohort`` to ``last_cohort``" (used for day-N retention, where one day's cohort is
    often small). ``pool=False`` quotes the latest single cohort of at least ``min_size`` users.
    When no cohort (or all of them together) reaches ``min_size``, ``quoted`` is False and the
    figures are empty; ``available`` and ``largest`` say how close the data came.

    Returns
    -------
    pandas.DataFrame
        One row per period: ``period``, ``quoted``, ``cohorts``, ``first_cohort``,
        ``last_cohort``, ``cohort_size``, ``active``, ``retention``, ``ci_low``, ``ci_high``,
        ``available`` (users in all new cohorts with a complete cell k), ``largest`` (the largest
        such cohort), ``min_size``.

    Examples
    --------
    >>> d = cohort_retention(log, granularity="day", modes=("on",), latest_cohorts=90, max_period=30)
    >>> h = retention_headline(d, periods=(1, 7, 30), min_size=100)
    >>> h.period.tolist(), h.quoted.tolist(), bool((h.cohort_size >= 100).all())
    ([1, 7, 30], [True, True, True], True)
    """
    if cells["mode"].nunique() > 1 or cells["granularity"].nunique() > 1:
        raise ValueError("retention_headline takes the cells of one granularity and one mode")
    d = cells[cells["new_cohort"].astype(bool)] if "new_cohort" in cells.columns else cells
    rows = []
    for k in periods:
        at = d[d["period"] == k].sort_values("cohort", ascending=False)
        row: dict[str, object] = {"period": int(k), "quoted": False, "cohorts": 0, "first_cohort": pd.NaT,
                                  "last_cohort": pd.NaT, "cohort_size": 0, "active": 0, "retention": np.nan,
                                  "ci_low": np.nan, "ci_high": np.nan, "available": int(at["cohort_size"].sum()),
                                  "largest": int(at["cohort_size"].max()) if len(at) else 0, "min_size": int(min_size)}
        if pool:
            reached = at["cohort_size"].cumsum() >= min_size
            take = at.iloc[: int(np.argmax(reached.to_numpy())) + 1] if reached.any() else None
        else:
            big = at[at["cohort_size"] >= min_size]
            take = big.iloc[:1] if len(big) else None
        if take is not None:
            n, a = int(take["cohort_size"].sum()), int(take["active"].sum())
            lo, hi = share_interval(pd.Series([a]), pd.Series([n]))
            row.update(quoted=True, cohorts=len(take), first_cohort=take["cohort"].min(), last_cohort=take["cohort"].max(),
                       cohort_size=n, active=a, retention=a / n, ci_low=float(lo[0]), ci_high=float(hi[0]))
        rows.append(row)
    out = pd.DataFrame(rows)
    for c in ("first_cohort", "last_cohort"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    return out


def retention_brackets(log: EventLog, *, brackets: Sequence[Sequence[int]], granularity: Granularity = "day",
                       cohort_type: CohortType = "first", start_event: Sequence[EventSpec] | None = None,
                       return_event: Sequence[EventSpec] | None = None, latest_cohorts: int | None = None) -> pd.DataFrame:
    """Bracket retention (Amplitude's "custom brackets"): per cohort, the share of its users with a
    return in each range of days since their start, e.g. day 1, days 2-7, 8-14, 15-30.

    Definition: bracket [a, b] counts the cohort's users with a return (any active event, or one
    of ``return_event``) on a day a..b days after their own start day (inclusive, local calendar
    days; for recurring cohorts after their first start day in the cohort period). Cohorts are
    those of :func:`cohort_retention` (same ``cohort_type``, ``start_event``) whose own period is
    complete; a bracket is listed only when complete: the cohort period's last day + b is on or
    before the last day of data, so every member had all of its days observed.

    Returns
    -------
    pandas.DataFrame
        ``granularity``, ``cohort`` (first day), ``bracket`` (:func:`bracket_label`),
        ``first_day``, ``last_day``, ``cohort_size``, ``active``, ``retention``, ``ci_low``,
        ``ci_high``, ``new_cohort``, ``cohort_type``, ``start_event``, ``return_event``.

    Raises
    ------
    NotEnoughDataError
        When no cohort has a complete bracket.

    Examples
    --------
    >>> b = retention_brackets(log, brackets=[(1, 1), (2, 7), (8, 14)], latest_cohorts=60)
    >>> b.bracket.unique().tolist(), bool((b.retention <= 1).all())
    (['1-1', '2-7', '8-14'], True)
    >>> avg = average_brackets(b)
    >>> avg.columns.tolist()
    ['granularity', 'bracket', 'first_day', 'last_day', 'cohorts', 'cohort_size', 'active', 'retention', 'ci_low', 'ci_high']
    """
    _check(log, granularity, cohort_type, start_event, return_event)
    spans = [(int(a), int(b)) for a, b in brackets]
    if not spans or any(a < 1 or b < a for a, b in spans):
        raise ValueError("brackets: give [first_day, last_day] pairs with 1 <= first_day <= last_day")
    ws = log.params.week_start
    lo, hi = log.complete_periods(granularity)
    if latest_cohorts is not None:
        lo = max(lo, period_index_py(log.last_day, granularity, ws) - int(latest_cohorts) + 1)
    new0 = _new_cohort_index(log, granularity, cohort_type, start_event)
    # the cohorts whose shortest-ending bracket is complete: period end + min(b) <= last day
    shortest = min(b for _, b in spans)
    cohorts = [c for c in range(lo, hi + 1)
               if period_end(c, granularity, ws) + dt.timedelta(days=shortest) <= log.last_day]
    if not cohorts:
        raise NotEnoughDataError(
            f"no {granularity} cohort has a complete bracket: the shortest ({bracket_label(*min(spans, key=lambda s: s[1]))}) "
            f"needs {shortest} days of data after a cohort's last day (data {log.first_day} to {log.last_day})"
        )
    m = _members(log, granularity, cohort_type, start_event)
    m = m.filter(m.c.between(cohorts[0], cohorts[-1]))
    r = _returns(log, return_event)
    # only returns that can fall in a bracket: after the first cohort's first day, by the last one's end + b
    longest = max(b for _, b in spans)
    r = r.filter((r.day > period_start(cohorts[0], granularity, ws))
                 & (r.day <= period_end(cohorts[-1], granularity, ws) + dt.timedelta(days=longest)))
    j = m.join(r, "user_id")
    j = j.select("user_id", "c", k=day_index(j.day) - day_index(j.anchor))
    j = j.filter(j.k.between(1, longest))
    hits = j.group_by(["user_id", "c"]).aggregate(
        **{f"b{i}": flag(j.k.between(a, b)).max() for i, (a, b) in enumerate(spans)})
    counts = fetch(hits.group_by("c").aggregate(**{f"b{i}": hits[f"b{i}"].sum() for i in range(len(spans))}))
    sizes = fetch(m.group_by("c").aggregate(n=m.count())).set_index("c")["n"]
    counts = counts.set_index("c").reindex(sizes.index, fill_value=0)
    rows = []
    for c, n in sizes.sort_index().items():
        end = period_end(int(c), granularity, ws)
        for i, (a, b) in enumerate(spans):
            if end + dt.timedelta(days=b) > log.last_day:
                continue
            rows.append((int(c), bracket_label(a, b), a, b, int(n), int(counts.loc[c, f"b{i}"])))
    out = pd.DataFrame(rows, columns=["c", "bracket", "first_day", "last_day", "cohort_size", "active"])
    if out.empty:
        raise NotEnoughDataError(f"no {granularity} cohort with users has a complete bracket")
    out.insert(0, "granularity", granularity)
    out.insert(1, "cohort", pd.to_datetime([period_start(c, granularity, ws) for c in out["c"]]).astype("datetime64[ns]"))
    out["new_cohort"] = out["c"] >= new0
    out = out.drop(columns="c")
    out = out.astype({"first_day": "int64", "last_day": "int64", "cohort_size": "int64", "active": "int64"})
    out["retention"] = out["active"] / out["cohort_size"]
    out["ci_low"], out["ci_high"] = share_interval(out["active"], out["cohort_size"])
    out = out[["granularity", "cohort", "bracket", "first_day", "last_day", "cohort_size", "active", "retention",
               "ci_low", "ci_high", "new_cohort"]]
    out["cohort_type"] = cohort_type
    out["start_event"] = events_text(start_event)
    out["return_event"] = events_text(return_event)
    return out.sort_values(["cohort", "first_day"], kind="stable").reset_index(drop=True)


def average_brackets(rows: pd.DataFrame) -> pd.DataFrame:
    """Bracket retention pooled over the new cohorts of :func:`retention_brackets` (per
    granularity and bracket): sum(active) / sum(cohort_size) over the cohorts whose bracket is
    complete, with a 95% Wilson interval on the pooled counts.

    Returns
    -------
    pandas.DataFrame
        ``granularity``, ``bracket``, ``first_day``, ``last_day``, ``cohorts``, ``cohort_size``,
        ``active``, ``retention``, ``ci_low``, ``ci_high``.
    """
    d = rows[rows["new_cohort"].astype(bool)] if "new_cohort" in rows.columns else rows
    g = d.groupby(["granularity", "first_day", "last_day", "bracket"], as_index=False, sort=False).agg(
        cohorts=("cohort", "nunique"), cohort_size=("cohort_size", "sum"), active=("active", "sum"))
    g = g.sort_values(["granularity", "first_day"], kind="stable").reset_index(drop=True)
    g["retention"] = g["active"] / g["cohort_size"]
    g["ci_low"], g["ci_high"] = share_interval(g["active"], g["cohort_size"])
    g = g.astype({"cohorts": "int64", "cohort_size": "int64", "active": "int64"})
    return g[["granularity", "bracket", "first_day", "last_day", "cohorts", "cohort_size", "active", "retention",
              "ci_low", "ci_high"]]
