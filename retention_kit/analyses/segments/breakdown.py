"""The stickiness report split by a segment: every by-segment export and the comparison the page
shows, computed in one call (the notebook shows and exports what it returns).

Definitions: the segments (:mod:`.assign`), the comparison (:mod:`.compare`); each by-segment
table is the report's own table computed on a segment's users alone (its cohorts, its active
users), over the whole log's data range. The page's comparison is average retention (the
cohort-size weighted curve of :func:`retention_kit.analyses.stickiness.average_retention`, in
the page's granularity and mode, over the cohorts the page shows) per segment against the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd

from .. import stickiness as stk
from ...data.log import EventLog
from ...data.params import BreakdownParams, StickinessParams
from ...errors import NotEnoughDataError
from .assign import Segments, segments
from .compare import compare_segments

__all__ = ["StickinessBreakdown", "stickiness_breakdown"]


@dataclasses.dataclass(frozen=True)
class StickinessBreakdown:
    """What the page and the CSVs need: ``exports`` (export name -> frame or None when too
    thin), ``curves`` (average retention per segment: ``segment`` + the columns of
    ``average_retention``), ``comparisons`` (:func:`.compare.compare_segments` of the curves),
    the segments, the granularity and mode, and the minimum size a sentence may name."""

    segments: Segments
    exports: dict[str, pd.DataFrame | None]
    curves: pd.DataFrame | None
    comparisons: pd.DataFrame | None
    granularity: str
    mode: str
    min_size: int


def _try(fn: Callable[[], pd.DataFrame]) -> pd.DataFrame | None:
    try:
        return fn()
    except NotEnoughDataError:
        return None


def stickiness_breakdown(log: EventLog, params: StickinessParams, breakdown: BreakdownParams) -> StickinessBreakdown:
    """The stickiness family by segment (module docstring): ``active_users_by_segment``,
    ``power_user_curve_by_segment``, ``growth_accounting_by_segment`` and
    ``retention_by_segment`` (every granularity, both modes, as the base files) and
    ``segment_comparisons``.

    ``breakdown.min_segment_size`` (default: ``stickiness.min_cohort_size``, or every user when
    the log has fewer) is the smallest segment a sentence may name.

    Examples
    --------
    >>> from retention_kit.data.params import BreakdownParams
    >>> b = stickiness_breakdown(log, params.stickiness, BreakdownParams(by="plan"))
    >>> sorted(b.exports)
    ['active_users_by_segment', 'growth_accounting_by_segment', 'power_user_curve_by_segment', 'retention_by_segment', 'segment_comparisons']
    >>> b.comparisons.columns[:4].tolist(), sorted(b.comparisons.segment.unique())
    (['analysis', 'period', 'segment', 'value'], ['free', 'pro'])
    """
    seg = segments(log, breakdown)
    gran, mode, shown = params.granularity, params.retention_mode, params.periods_shown
    need = stk.minimum_cohort(log, breakdown.min_segment_size or params.min_cohort_size)
    ex: dict[str, pd.DataFrame | None] = {
        "active_users_by_segment": _try(lambda: stk.active_users(log, mau_window=params.mau_window, by=seg)),
        "power_user_curve_by_segment": _try(lambda: stk.power_user_curve(log, by=seg)),
    }
    growth = [_try(lambda g=g: stk.growth_accounting(log, granularity=g, by=seg)) for g in ("day", "week", "month")]
    ex["growth_accounting_by_segment"] = pd.concat([g for g in growth if g is not None], ignore_index=True) \
        if any(g is not None for g in growth) else None
    cells = {g: _try(lambda g=g: stk.cohort_retention(log, granularity=g, by=seg, **stk.retention_options(params, g)))
             for g in ("day", "week", "month")}
    ex["retention_by_segment"] = pd.concat([c for c in cells.values() if c is not None], ignore_index=True) \
        if any(c is not None for c in cells.values()) else None
    curves = comparisons = None
    page = cells.get(gran)
    if page is not None:
        page = page[page["mode"] == mode]
        frames = []
        for name in seg.names:
            c = page[page["segment"] == name].drop(columns=["breakdown", "segment"])
            if len(c) and c["new_cohort"].astype(bool).any():
                avg = stk.average_retention(c, cohorts=None if gran == "day" else shown)
                frames.append(avg.assign(segment=name))
        if frames:
            curves = pd.concat(frames, ignore_index=True)
            curves = curves[curves["period"] >= 1]  # period 0 is 100% by definition: nothing to compare
            curves = curves[curves["period"] <= (params.retention.max_day if gran == "day" else shown)]
            comparisons = compare_segments(curves, analysis=f"retention_{gran}", min_size=need)
            if comparisons.empty:
                comparisons = None
    ex["segment_comparisons"] = comparisons
    return StickinessBreakdown(segments=seg, exports=ex, curves=curves, comparisons=comparisons, granularity=gran,
                               mode=mode, min_size=need)
