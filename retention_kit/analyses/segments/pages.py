"""The comparison sections of the ladder, lifecycle and key-behaviour pages: for each page one
share, per segment and period, compared with the rest by :func:`.compare.compare_segments`
(the stickiness page's machinery: the same interval, test, false-discovery control and words).

What each page compares (k of n users of the segment; the rest is every other user):

- **ladder** (``ladder_at_or_above_<rung>``): the users of the segment's new cohorts
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
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ...core.portable import count_true
from ...core.stats import headline_minimum, wilson_interval
from ...data.engine import fetch
from ...data.log import EventLog
from ...data.params import BreakdownParams, LadderParams
from ...errors import NotEnoughDataError
from .assign import Segments
from .compare import compare_segments

__all__ = ["PageComparison", "ladder_comparison", "lifecycle_comparison", "key_behaviors_comparison", "minimum_size",
           "LADDER_AGES"]

#: The oldest age the ladder's comparison shows, per ladder period.
LADDER_AGES = {"week": 12, "month": 6}


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
    lo, hi = wilson_interval(c["active"].to_numpy(float), c["cohort_size"].to_numpy(float))
    c["ci_low"], c["ci_high"] = lo, hi
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


def ladder_comparison(log: EventLog, seg: Segments, *, ladder: LadderParams, rung: str, age: int,
                      min_size: int) -> PageComparison:
    """The ladder page's comparison (module docstring): the cohort ladder
    (:func:`retention_kit.analyses.ladder.cohorts`) of each segment's users alone, at or above
    ``rung``, by age; the headline at ``age``.

    Examples
    --------
    >>> from retention_kit.data.params import BreakdownParams
    >>> from retention_kit.analyses.segments import segments
    >>> seg = segments(log, BreakdownParams(by="plan"))
    >>> c = ladder_comparison(log, seg, ladder=lad, rung="Creator", age=3, min_size=100)
    >>> c.analysis, sorted(c.comparisons.segment.unique()), int(c.comparisons.period.max())
    ('ladder_at_or_above_Creator', ['free', 'pro'], 12)
    """
    from ..ladder.moves import cohorts  # the ladder family imports segments

    period = ladder.period
    cohorts_by_segment = _apply(lambda: cohorts(log, ladder=ladder, by=seg))
    analysis = f"ladder_at_or_above_{rung}"
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
        g = g.assign(period=label)[cols]
        rank = {n: i for i, n in enumerate(seg.names)}
        g = g.assign(_r=g["segment"].map(rank)).sort_values("_r").drop(columns="_r").reset_index(drop=True)
    return _finish("key_behaviors", seg, "key_behaviors_retained", g, granularity="window", headline=label,
                   min_size=min_size, start=outcome_start, end=outcome_end - 1)


def minimum_size(log: EventLog, breakdown: BreakdownParams, default: int = 100) -> int:
    """The smallest segment a page's sentence may name: ``breakdown.min_segment_size``, else the
    report's ``min_cohort_size`` (``default``), or every user when the log has fewer.

    Examples
    --------
    >>> minimum_size(log, BreakdownParams(by="plan")), minimum_size(log, BreakdownParams(by="plan", min_segment_size=10))
    (100, 10)
    """
    return headline_minimum(breakdown.min_segment_size or default, log.quality.users)
