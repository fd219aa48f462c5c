"""The comparison sections of the overview, ladder, lifecycle and key-behaviour pages: for each
page one share, per segment and period, compared with the rest by :func:`.compare.compare_segments`
(the stickiness page's machinery: the same interval, test, false-discovery control and words).

What each page compares (k of n users of the segment; the rest is every other user):

- **overview** (``overview_active_last_28_days``): the segment's users who started on or before
  the day 28 days before the last day of data (start: the signup day from the users table, else
  the first active day, :meth:`retention_kit.data.log.EventLog.starts`), so that users who
  joined within the window do not dilute it, who were active (an active event) on at least one
  of the last 28 local days of data (the last day included), of those users. One period, the
  window written ``<first day>/<last day>`` (ISO). There is nothing to compare when the data
  (from its first active day) does not cover the whole window. The page also shows each
  segment's users, share of users and events per user (:func:`overview_segments`).
- **ladder** (``ladder_at_or_above_<rung>``, the rung as a stable identifier, :func:`rung_slug`):
  the users of the segment's new cohorts
  (:func:`retention_kit.analyses.ladder.cohorts`, ``new_cohort``) at age a (periods since their
  start period, a = 0 the start period) who are on the reference rung (the one the page's
  headline compares, :func:`retention_kit.analyses.ladder.reference`) or above, of those
  cohorts' users at age a, pooled over every new cohort that reached age a (complete periods
  only); ages 0 to :data:`LADDER_AGES` weeks (or months).
- **lifecycle** (``lifecycle_active``): at each month end, the segment's started users who are
  *active* (active within ``silent_days``, not new;
  :func:`retention_kit.analyses.lifecycle.snapshots`), of its users started by that date; the
  whole log's thresholds. The headline is the last month end.
- **key behaviours** (``key_behaviors_retained``): the segment's eligible users (both windows
  observed) who are *retained* (active on a day of ``[outcome_start, outcome_end)`` since their
  start: the outcome every behaviour on the page is judged by), of its eligible users. One
  period, written ``<outcome_start>-<outcome_end - 1>`` (days). It says whether a segment
  retains differently, not whether a behaviour works differently in it.

Each share carries its 95% Wilson interval (the chart's band).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

import ibis
import numpy as np
import pandas as pd

from ...core.portable import count_true
from ...core.stats import headline_minimum, share_interval
from ...data.engine import fetch
from ...data.log import EventLog
from ...data.params import BreakdownParams, LadderParams
from ...errors import NotEnoughDataError
from .assign import Segments
from .compare import compare_segments

__all__ = ["PageComparison", "ladder_comparison", "rung_slug", "lifecycle_comparison", "key_behaviors_comparison",
           "overview_segments", "overview_comparison", "minimum_size", "LADDER_AGES", "OVERVIEW_DAYS"]

#: The oldest age the ladder's comparison shows, per ladder period.
LADDER_AGES = {"week": 12, "month": 6}
#: The overview's window: its share counts the users active in the last this many days of data.
OVERVIEW_DAYS = 28


@dataclasses.dataclass(frozen=True)
class PageComparison:
    """A page's comparison section: ``curves`` (``segment``, ``period``, ``active`` (k),
    ``cohort_size`` (n), ``retention`` (k / n, the compared share), ``ci_low``, ``ci_high``),
    ``comparisons`` (:func:`.compare.compare_segments`, ``analysis`` naming the share), the period
    a sentence quotes (``headline``), the kind of period (``granularity``: ``week`` or ``month``
    ages, ``month_end`` dates, ``window`` days) and the minimum size a sentence may name.
    ``curves`` and ``comparisons`` are None when no segment has a share to compare."""

    page: str
    segments: Segments
    analysis: str
    curves: pd.DataFrame | None
    comparisons: pd.DataFrame | None
    granularity: str
    headline: Any
    min_size: int
    fields: dict[str, Any] = dataclasses.field(default_factory=dict)


def _curves(counts: pd.DataFrame) -> pd.DataFrame:
    """``segment``, ``period``, ``active``, ``cohort_size`` -> with the share and its Wilson interval."""
    c = counts[counts["cohort_size"] > 0].copy()
    c["active"], c["cohort_size"] = c["active"].astype("int64"), c["cohort_size"].astype("int64")
    c["retention"] = c["active"] / c["cohort_size"]
    c["ci_low"], c["ci_high"] = share_interval(c["active"], c["cohort_size"])
    return c.reset_index(drop=True)


def _finish(page: str, seg: Segments, analysis: str, counts: pd.DataFrame, *, granularity: str, headline: Any,
            min_size: int, **fields: Any) -> PageComparison:
    if counts.empty:
        return PageComparison(page, seg, analysis, None, None, granularity, headline, min_size, fields)
    curves = _curves(counts)
    comp = compare_segments(curves, analysis=analysis, min_size=min_size)
    if comp.empty:
        return PageComparison(page, seg, analysis, curves, None, granularity, headline, min_size, fields)
    return PageComparison(page, seg, analysis, curves, comp, granularity, headline, min_size, fields)


def _apply(fn: Callable[[], pd.DataFrame]) -> pd.DataFrame | None:
    try:
        return fn()
    except NotEnoughDataError:
        return None


def _in_order(frame: pd.DataFrame, seg: Segments) -> pd.DataFrame:
    rank = {n: i for i, n in enumerate(seg.names)}
    return frame.assign(_r=frame["segment"].map(rank)).sort_values("_r").drop(columns="_r").reset_index(drop=True)


def rung_slug(rung: str, rungs: Sequence[tuple[str, int]]) -> str:
    """The rung as a stable identifier for ``ladder_at_or_above_<rung>``: the name casefolded,
    each run of characters that are not word characters (Unicode letters, digits, ``_``: Chinese
    names survive) turned into ``_``, leading and trailing ``_`` stripped. When that gives
    nothing, or the same as another rung's name of ``rungs`` (``(name, rung_order)`` pairs, the
    ladder's rungs), it is ``rung_<rung_order>`` (its place on the ladder, 0 = Inactive).

    Examples
    --------
    >>> ladder = [("Inactive", 0), ("1-3 days", 1), ("4-10 days", 2), ("11+ days", 3)]
    >>> rung_slug("1-3 days", ladder), rung_slug("11+ days", ladder)
    ('1_3_days', '11_days')
    >>> rung_slug("創作者", [("創作者", 2)]), rung_slug("Pro user", [("Pro user", 2), ("pro-user", 3)])
    ('創作者', 'rung_2')
    """
    def base(name: str) -> str:
        return re.sub(r"\W+", "_", name.casefold()).strip("_")

    orders = dict(rungs)
    if rung not in orders:
        raise KeyError(f"no rung {rung!r} in the ladder (rungs: {', '.join(orders)})")
    slugs = {name: base(name) for name in orders}
    while True:  # a fallback may meet another rung's name ("rung_2"): that one falls back too; orders are unique
        taken = list(slugs.values())
        clash = {n for n, s in slugs.items() if not s or (taken.count(s) > 1 and s != f"rung_{orders[n]}")}
        if not clash:
            return slugs[rung]
        slugs.update({n: f"rung_{orders[n]}" for n in clash})


def ladder_comparison(log: EventLog, seg: Segments, *, ladder: LadderParams, rung: str, age: int,
                      min_size: int) -> PageComparison:
    """The ladder page's comparison (module docstring): the cohort ladder
    (:func:`retention_kit.analyses.ladder.cohorts`) of each segment's users alone, at or above
    ``rung``, by age; the headline at ``age``. The analysis is ``ladder_at_or_above_<slug>``
    (:func:`rung_slug`: "1-3 days" gives ``ladder_at_or_above_1_3_days``).

    Examples
    --------
    >>> from retention_kit.data.params import BreakdownParams
    >>> from retention_kit.analyses.segments import segments
    >>> seg = segments(log, BreakdownParams(by="plan"))
    >>> c = ladder_comparison(log, seg, ladder=lad, rung="Creator", age=3, min_size=100)
    >>> c.analysis, sorted(c.comparisons.segment.unique()), int(c.comparisons.period.max())
    ('ladder_at_or_above_creator', ['free', 'pro'], 12)
    """
    from ..ladder.moves import cohorts  # the ladder family imports segments
    from ..ladder.rungs import ladder_rungs

    period = ladder.period
    analysis = "ladder_at_or_above_" + rung_slug(rung, [(r.name, r.order) for r in ladder_rungs(ladder)])
    cohorts_by_segment = _apply(lambda: cohorts(log, ladder=ladder, by=seg))
    cols = ["segment", "period", "active", "cohort_size"]
    c = None
    if cohorts_by_segment is not None and not cohorts_by_segment.empty:
        c = cohorts_by_segment[cohorts_by_segment["new_cohort"].astype(bool)
                               & (cohorts_by_segment["age"] <= LADDER_AGES[period])]
    if c is None or c.empty:
        return _finish("ladder", seg, analysis, pd.DataFrame(columns=cols), granularity=period, headline=age,
                       min_size=min_size, rung=rung)
    order = c.loc[c["rung"] == rung, "rung_order"]
    if order.empty:
        raise KeyError(f"no rung {rung!r} in the cohort ladder")
    up = c.assign(up=np.where(c["rung_order"] >= int(order.iloc[0]), c["users"], 0))
    g = up.groupby(["segment", "age"], as_index=False).agg(active=("up", "sum"), cohort_size=("users", "sum"))
    g = g.rename(columns={"age": "period"})[cols]
    return _finish("ladder", seg, analysis, g, granularity=period, headline=age, min_size=min_size, rung=rung)


def lifecycle_comparison(snapshots_by_segment: pd.DataFrame | None, seg: Segments, *, min_size: int) -> PageComparison:
    """The lifecycle page's comparison (module docstring) from
    :func:`retention_kit.analyses.lifecycle.snapshots` with ``by``; periods are the month ends
    (dates), the headline the last one.

    Examples
    --------
    >>> from retention_kit.analyses import lifecycle as lc
    >>> from retention_kit.data.params import BreakdownParams
    >>> from retention_kit.analyses.segments import segments
    >>> seg = segments(log, BreakdownParams(by="plan"))
    >>> c = lifecycle_comparison(lc.snapshots(log, thresholds=lc.thresholds(log), by=seg), seg, min_size=100)
    >>> c.analysis, c.headline == c.comparisons.period.max()
    ('lifecycle_active', True)
    """
    cols = ["segment", "period", "active", "cohort_size"]
    if snapshots_by_segment is None or snapshots_by_segment.empty:
        return _finish("lifecycle", seg, "lifecycle_active", pd.DataFrame(columns=cols), granularity="month_end",
                       headline=None, min_size=min_size)
    s = snapshots_by_segment.assign(up=np.where(snapshots_by_segment["lifecycle_segment"] == "active",
                                                snapshots_by_segment["users"], 0))
    g = s.groupby(["segment", "date"], as_index=False).agg(active=("up", "sum"), cohort_size=("users", "sum"))
    g = g.rename(columns={"date": "period"})[cols]
    head = g["period"].max() if len(g) else None
    return _finish("lifecycle", seg, "lifecycle_active", g, granularity="month_end", headline=head, min_size=min_size)


def key_behaviors_comparison(log: EventLog, seg: Segments, *, window_days: int, outcome_start: int, outcome_end: int,
                             min_size: int) -> PageComparison:
    """The key-behaviour page's comparison (module docstring): each segment's eligible users
    retained in the outcome window, one engine query over the eligible users.

    Examples
    --------
    >>> from retention_kit.data.params import BreakdownParams
    >>> from retention_kit.analyses.segments import segments
    >>> seg = segments(log, BreakdownParams(by="plan"))
    >>> c = key_behaviors_comparison(log, seg, window_days=7, outcome_start=14, outcome_end=28, min_size=100)
    >>> c.comparisons[["analysis", "period", "segment"]].values.tolist()
    [['key_behaviors_retained', '14-27', 'free'], ['key_behaviors_retained', '14-27', 'pro']]
    """
    from ..key_behaviors.candidates import eligible_users  # the key-behaviour family imports segments

    label = f"{outcome_start}-{outcome_end - 1}"
    cols = ["segment", "period", "active", "cohort_size"]
    try:
        users, _ = eligible_users(log, window_days=window_days, outcome_start=outcome_start, outcome_end=outcome_end)
    except NotEnoughDataError:
        users = None
    if users is None:
        g = pd.DataFrame(columns=cols)
    else:
        j = users.join(seg.table, "user_id")
        g = fetch(j.group_by("segment").aggregate(cohort_size=j.count(), active=count_true(j.retained)))
        g = _in_order(g.assign(period=label)[cols], seg)
    return _finish("key_behaviors", seg, "key_behaviors_retained", g, granularity="window", headline=label,
                   min_size=min_size, start=outcome_start, end=outcome_end - 1)


def overview_segments(log: EventLog, seg: Segments) -> pd.DataFrame:
    """The segments of a breakdown, largest first: ``breakdown``, ``segment``, ``users`` (every
    user of the log in the segment: with an event, or in the users table), ``share_users``
    (users / every user of the breakdown), ``events`` (valid events: any event not excluded by
    ``data.exclude_events``, active or not) and ``events_per_user`` (events / users; users
    without events count). One engine query over the daily table.

    Examples
    --------
    >>> from retention_kit.data.params import BreakdownParams
    >>> from retention_kit.analyses.segments import segments
    >>> t = overview_segments(log, segments(log, BreakdownParams(by="plan")))
    >>> t.columns.tolist()
    ['breakdown', 'segment', 'users', 'share_users', 'events', 'events_per_user']
    >>> t.segment.tolist(), int(t.users.sum()) == log.quality.users, int(t.events.sum()) == log.quality.rows_kept
    (['free', 'pro'], True, True)
    """
    d = log.daily
    j = d.join(seg.table, "user_id")
    ev = fetch(j.group_by("segment").aggregate(events=j.n.sum()))
    events = dict(zip(ev["segment"], ev["events"].astype("int64")))
    out = pd.DataFrame({"breakdown": seg.by, "segment": list(seg.names),
                        "users": [int(seg.sizes[n]) for n in seg.names],
                        "events": [int(events.get(n, 0)) for n in seg.names]})
    out["share_users"] = out["users"] / max(seg.users, 1)
    out["events_per_user"] = out["events"] / out["users"].where(out["users"] > 0)
    return out[["breakdown", "segment", "users", "share_users", "events", "events_per_user"]]


def overview_comparison(log: EventLog, seg: Segments, *, days: int = OVERVIEW_DAYS, min_size: int) -> PageComparison:
    """The overview page's comparison (module docstring): per segment, the users started on or
    before ``last_day - days`` who were active on a day of the last ``days`` days of data; one
    engine query. ``fields``: the window's ``start`` and ``end`` and the latest start day
    (``cutoff``), ISO dates, and ``days``.

    Examples
    --------
    >>> from retention_kit.data.params import BreakdownParams
    >>> from retention_kit.analyses.segments import segments
    >>> c = overview_comparison(log, segments(log, BreakdownParams(by="plan")), min_size=100)
    >>> c.analysis, c.comparisons.period.unique().tolist() == [f"{c.fields['start']}/{c.fields['end']}"]
    ('overview_active_last_28_days', True)
    """
    if days < 1:
        raise ValueError(f"overview_comparison: days must be at least 1 (got {days})")
    end = log.last_day
    start, cutoff = end - dt.timedelta(days=days - 1), end - dt.timedelta(days=days)
    label = f"{start.isoformat()}/{end.isoformat()}"
    fields = {"start": start.isoformat(), "end": end.isoformat(), "cutoff": cutoff.isoformat(), "days": days}
    analysis = f"overview_active_last_{days}_days"
    cols = ["segment", "period", "active", "cohort_size"]
    if log.first_day > start:  # the data does not cover the window: "not active" would mean "not yet observed"
        g = pd.DataFrame(columns=cols)
    else:
        s = log.starts()
        started = s.filter(s.start_day <= ibis.literal(cutoff)).select("user_id")
        a = log.active_days()
        recent = a.filter((a.day >= ibis.literal(start)) & (a.day <= ibis.literal(end))).select("user_id").distinct()
        t = started.left_join(recent.mutate(hit=ibis.literal(True)), "user_id")
        t = t.select(started.user_id, hit=t.hit.fill_null(False))
        j = t.join(seg.table, "user_id")
        g = fetch(j.group_by("segment").aggregate(cohort_size=j.count(), active=count_true(j.hit)))
        g = _in_order(g.assign(period=label)[cols], seg) if len(g) else pd.DataFrame(columns=cols)
    return _finish("overview", seg, analysis, g, granularity="dates", headline=label, min_size=min_size, **fields)


def minimum_size(log: EventLog, breakdown: BreakdownParams, default: int = 100) -> int:
    """The smallest segment a page's sentence may name: ``breakdown.min_segment_size``, else the
    report's ``min_cohort_size`` (``default``), or every user when the log has fewer.

    Examples
    --------
    >>> minimum_size(log, BreakdownParams(by="plan")), minimum_size(log, BreakdownParams(by="plan", min_segment_size=10))
    (100, 10)
    """
    return headline_minimum(breakdown.min_segment_size or default, log.quality.users)
