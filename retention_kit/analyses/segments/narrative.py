"""The words of a breakdown: what was split on, how segments are compared, and which segments
differ from the rest and by how much (never a segment under the minimum size)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from ...core import conditions
from ...core.i18n import num, pct, t
from ...core.text import Raw, fill
from ...data.params import BreakdownParams
from .assign import Segments

if TYPE_CHECKING:
    from .pages import PageComparison

__all__ = ["heading", "intro", "comparison_summary", "comparison_table", "table_caption", "headline_period", "small_segments",
           "period_label", "plot_labels", "page_intro", "page_summary", "page_plot_labels", "page_table_caption",
           "sizes_caption", "guard_name",
           "SIGNIFICANT"]

#: The q-value under which a difference is named.
SIGNIFICANT = 0.05


def period_label(granularity: str, k: Any) -> str:
    """``week 1``, ``day 7``, ... in the language in force; ``month_end`` periods are dates
    (``at the end of 2024-05``), ``window`` periods day ranges (``days 14-27``).

    Examples
    --------
    >>> period_label("week", 1), period_label("month_end", pd.Timestamp("2024-05-31")), period_label("window", "14-27")
    ('week 1', 'at the end of 2024-05', 'days 14-27')
    >>> period_label("dates", "2024-05-04/2024-05-31")
    'from 2024-05-04 to 2024-05-31'
    """
    if granularity == "month_end":
        return t("segments.period.month_end", month=f"{pd.Timestamp(k):%Y-%m}")
    if granularity == "window":
        return t("segments.period.window", k=str(k))
    if granularity == "dates":  # an ISO interval, first/last day
        start, _, end = str(k).partition("/")
        return t("segments.period.dates", start=start, end=end)
    return t(f"segments.period.{granularity}", k=int(k))


def heading(seg: Segments) -> Raw:
    """The section's heading (Markdown).

    Examples
    --------
    >>> from retention_kit.analyses.segments import segments
    >>> heading(segments(log, BreakdownParams(by="plan"))).text
    '## By segment: plan'
    """
    return fill(t("segments.heading"), by=seg.by)


def _kind(seg: Segments, breakdown: BreakdownParams) -> Raw:
    if seg.kind == "first_property":
        return fill(t("segments.kind.first_property"), prop=seg.by[len("first."):])
    if seg.kind == "cohort":
        c = next(c for c in breakdown.cohorts if c.name == seg.by)
        return fill(t("segments.kind.cohort"), by=seg.by, when=conditions.describe(dict(c.when)), days=c.window_days)
    return fill(t("segments.kind.attribute"), by=seg.by)


def intro(seg: Segments, breakdown: BreakdownParams, *, granularity: str, mode: str, cells: int, min_size: int) -> Raw:
    """What the section shows and how it compares (two paragraphs of Markdown)."""
    a = fill(t("segments.intro"), kind=_kind(seg, breakdown), top=breakdown.top, gran=t(f"segments.gran.{granularity}"),
             mode=mode)
    b = fill(t("segments.method"), cells=num(cells), min_size=num(min_size))
    return Raw(a.text + "\n\n" + b.text)


def _points(x: float) -> str:
    return t("segments.points", sign="+" if x > 0 else ("-" if x < 0 else ""), value=num(abs(100 * x), 1))


def _q(q: float) -> Raw:
    return Raw("q < 0.001" if q < 0.001 else f"q = {q:.3f}")


def headline_period(comparisons: pd.DataFrame, period: Any = 1) -> Any:
    """The period a sentence quotes: ``period`` when some cohort reached it, else the earliest compared."""
    if period is not None and (comparisons["period"] == period).any():
        return period
    first = comparisons["period"].min()
    return int(first) if pd.api.types.is_numeric_dtype(comparisons["period"]) else first


def small_segments(comparisons: pd.DataFrame, period: Any = 1) -> list[str]:
    """The segments under the minimum size in the headline period (greyed on the chart)."""
    at = comparisons[comparisons["period"] == headline_period(comparisons, period)]
    return sorted(set(at.loc[at["small"].astype(bool), "segment"]))


def comparison_table(comparisons: pd.DataFrame, order: list[str] | tuple[str, ...], period: Any = 1) -> pd.DataFrame:
    """The headline period's rows, segments in ``order``, for the page (the CSV holds every period)."""
    at = comparisons[comparisons["period"] == headline_period(comparisons, period)]
    rank = {n: i for i, n in enumerate(order)}
    at = at.assign(_r=at["segment"].map(rank)).sort_values("_r")
    return at[["segment", "users", "value", "rest_value", "difference", "ci_low", "ci_high", "q_value"]].reset_index(drop=True)


def table_caption(comparisons: pd.DataFrame, granularity: str, period: Any = 1) -> str:
    """The comparison table's caption: its period."""
    return t("segments.table.caption", period=period_label(granularity, headline_period(comparisons, period)))


def comparison_summary(comparisons: pd.DataFrame | None, seg: Segments, *, granularity: str, min_size: int,
                       period: Any = 1, limit: int = 3, page: str | None = None, fields: dict[str, Any] | None = None
                       ) -> Raw:
    """The sentences: the segments (at least the minimum size) whose difference from the rest in
    ``period`` has q < :data:`SIGNIFICANT`, largest difference first (at most ``limit``), or a
    sentence that none does; then the segments too small to compare in that period. With two
    segments, each is the other's rest: only the one above the rest is named, unless it is too
    small to name (then the other is, below the rest). ``page`` (ladder,
    lifecycle, key_behaviors) takes that page's sentences (``segments.<key>.<page>``, which name
    the share compared, with ``fields`` such as the rung) instead of retention's.

    Examples
    --------
    >>> from retention_kit.analyses.segments import segments, compare_segments
    >>> seg = segments(log, BreakdownParams(by="plan"))
    >>> f = pd.DataFrame({"segment": ["free", "pro"], "period": [1, 1], "active": [100, 300],
    ...                   "cohort_size": [1000, 1000]})
    >>> print(comparison_summary(compare_segments(f, analysis="retention_week", min_size=10), seg,
    ...                          granularity="week", min_size=10).text)  # doctest: +NORMALIZE_WHITESPACE
    pro (1,000 users) differs from the rest in week 1: 30.0% against 10.0%, +20.0 points (95% interval
    +16.6 to +23.4; q < 0.001).
    """
    fields = dict(fields or {})
    sfx = f".{page}" if page else ""
    if comparisons is None or comparisons.empty:
        return fill(t("segments.none" + sfx), by=seg.by, **fields)
    k = headline_period(comparisons, period)  # no cohort reached ``period`` yet: the earliest compared
    at, label = comparisons[comparisons["period"] == k], period_label(granularity, k)
    named = at[~at["small"].astype(bool) & (at["q_value"] < SIGNIFICANT)]
    named = named.reindex(named["difference"].abs().sort_values(ascending=False).index)
    if len(at) == 2 and len(named) == 2:  # each is the other's rest: one sentence says it all
        named = named[named["difference"] > 0]
    named = named.head(limit)
    parts = [fill(t("segments.differ" + sfx), **fields, segment=r.segment, users=num(r.users), period=label, value=pct(r.value, 1),
                  rest=pct(r.rest_value, 1), diff=_points(r.difference), lo=_points(r.ci_low), hi=_points(r.ci_high),
                  q=_q(float(r.q_value))).text
             for r in named.itertuples() if all(math.isfinite(float(x)) for x in (r.value, r.rest_value, r.difference))]
    if not parts:
        parts = [fill(t("segments.none_differ" + sfx), **fields, by=seg.by, period=label).text]
    small = sorted(set(at.loc[at["small"].astype(bool), "segment"]))
    if small:
        parts.append(fill(t("segments.small"), min_size=num(min_size), names=", ".join(small)).text)
    return Raw(" ".join(parts))


def plot_labels(by: str, granularity: str) -> dict[str, str]:
    """Title and axis labels of the comparison chart, in the language in force."""
    return {"title": t("segments.plot.title", gran=t(f"segments.gran.{granularity}"), by=by),
            "xlabel": t("segments.plot.xlabel"), "ylabel": t("segments.plot.ylabel")}


def page_intro(c: PageComparison, breakdown: BreakdownParams) -> Raw:
    """What a page's comparison section shows (:mod:`.pages`) and how it compares (Markdown)."""
    a = fill(t(f"segments.intro.{c.page}"), kind=_kind(c.segments, breakdown), top=breakdown.top, **c.fields)
    b = fill(t("segments.method"), cells=num(len(c.comparisons) if c.comparisons is not None else 0),
             min_size=num(c.min_size))
    return Raw(a.text + "\n\n" + b.text)


def page_summary(c: PageComparison) -> Raw:
    """A page's sentences (:func:`comparison_summary` in the page's words, at its headline period)."""
    return comparison_summary(c.comparisons, c.segments, granularity=c.granularity, min_size=c.min_size,
                              period=c.headline, page=c.page, fields=c.fields)


def page_plot_labels(c: PageComparison) -> dict[str, str]:
    """Title and axis labels of a page's comparison chart, in the language in force."""
    gran = t(f"segments.unit.{c.granularity}")
    return {"title": t(f"segments.plot.{c.page}.title", by=c.segments.by, unit=gran, **c.fields),
            "xlabel": t(f"segments.plot.{c.page}.xlabel", unit=gran), "ylabel": t(f"segments.plot.{c.page}.ylabel", **c.fields)}


def page_table_caption(c: PageComparison) -> str:
    """The caption of a page's comparison table: its headline period."""
    return table_caption(c.comparisons, c.granularity, c.headline)


def sizes_caption() -> str:
    """The caption of the overview's table of segments (:func:`.pages.overview_segments`)."""
    return t("segments.caption.sizes")


def guard_name() -> str:
    """The comparison section's name in a note on thin data, in the language in force."""
    return t("segments.guard")
