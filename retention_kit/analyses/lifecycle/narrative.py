"""What the lifecycle and value report says in words: the "In short" paragraph, the sections'
headings and introductions, the tables and notes as shown, and the definitions in force.

Every sentence is a message of the report language (``messages/<language>/lifecycle.yaml``);
event names are data and are never translated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ...core.i18n import num, pct, t
from ...core.stats import headline_minimum
from ...core.text import Raw, esc, fill
from ...data.params import DataParams, LifecycleParams
from .. import words
from .segments import Thresholds

__all__ = ["summary", "at_risk_intro", "definitions", "NO_REVENUE", "no_revenue", "SECTIONS", "section", "caption",
           "page_table", "segment_label"]

#: The English sentence of :func:`no_revenue` (kept for scripts that imported it).
NO_REVENUE = "The log has no revenue (data.revenue is not set), so the value sections are skipped."
#: The report's sections, in page order (:func:`section`).
SECTIONS = ("segments", "flows", "at_risk", "value", "repurchase", "cohorts", "definitions")
_F = "lifecycle"


def section(name: str) -> Raw:
    """A section's Markdown heading and introduction, one of :data:`SECTIONS`."""
    return words.section(_F, name, SECTIONS)


def caption(name: str, /, **values: Any) -> str:
    """A caption or a short line of the page (plain text), message ``lifecycle.caption.<name>``."""
    return t(f"{_F}.caption.{name}", **values)


def segment_label(segment: str) -> str:
    """A lifecycle segment (new, active, silent, churned, ...) as the page shows it.

    Examples
    --------
    >>> segment_label("silent")
    'silent'
    """
    return words.label(_F, "segment", segment)


def page_table(frame: pd.DataFrame, *, percent: Sequence[str] = (), caption: str | None = None) -> dict[str, Any]:
    """:func:`retention_kit.reporting.report.show_table`'s arguments for ``frame``: headers in
    the report language (a pivot's segment columns too), the kit's values of a ``segment`` or
    ``cohort`` (recent, previous) column in it."""
    out = frame
    for col in ("segment", "cohort"):
        if col in out.columns and pd.api.types.is_string_dtype(out[col]):  # a cohort may be a date
            out = out.assign(**{col: out[col].map(lambda v: words.label(_F, col, v))})
    out = out.rename(columns={c: segment_label(c) for c in out.columns if f"{_F}.segment.{c}" in _keys()})
    return words.page_table(_F, out, percent=percent, caption=caption)


def _keys() -> frozenset[str]:
    from ...core.i18n import catalog

    return frozenset(catalog("en"))


def no_revenue() -> str:
    """The sentence when the log has no revenue (plain text)."""
    return t(f"{_F}.no_revenue")


def _at_risk_sentence(summary: pd.DataFrame, as_of: dt.date, has_money: bool) -> str:
    tot = summary[summary["segment"] == "active or silent"].iloc[0]
    money = ""
    if has_money and pd.notna(tot["share_of_revenue_last_90d"]):
        money = t(f"{_F}.summary.at_risk.money", last90=pct(tot["share_of_revenue_last_90d"]),
                  to_date=pct(tot["share_of_revenue_to_date"]))
    return fill(t(f"{_F}.summary.at_risk"), day=f"{as_of:%Y-%m-%d}", n=num(tot["at_risk"]),
                share=pct(tot["share_at_risk"]), users=num(tot["users"]), money=Raw(esc(money))).text


def _segments_sentence(snaps: pd.DataFrame) -> str:
    last = snaps[snaps["date"] == snaps["date"].max()].set_index("segment")
    return esc(t(f"{_F}.summary.segments", day=f"{snaps['date'].max():%Y-%m-%d}",
                 active=pct(last.loc["active", "share"]), silent=pct(last.loc["silent", "share"]),
                 churned=pct(last.loc["churned", "share"]), new=pct(last.loc["new", "share"])))


def _repurchase_sentence(rates: pd.DataFrame, trend: pd.DataFrame, min_size: int) -> str | None:
    r60 = rates.set_index("window_days").loc[60]
    if not r60["eligible_buyers"] > 0:
        return None
    sentence = t(f"{_F}.summary.repurchase", rate=pct(r60["rate"]), n=num(r60["repurchasers"]),
                 buyers=num(r60["eligible_buyers"]))
    rec, prev = trend.iloc[0], trend.iloc[1]
    m = headline_minimum(min_size, int(r60["eligible_buyers"]))
    if rec["eligible_buyers"] >= m and prev["eligible_buyers"] >= m:  # fewer: a rate too noisy to compare
        word = "down" if rec["rate"] < prev["rate"] else "up" if rec["rate"] > prev["rate"] else "level"
        sentence += t(f"{_F}.summary.repurchase.trend.{word}", start=f"{rec['first_purchase_from']:%Y-%m-%d}",
                      end=f"{rec['first_purchase_to']:%Y-%m-%d}", rate=pct(rec["rate"]), before=pct(prev["rate"]))
    return esc(sentence + t(f"{_F}.summary.end"))


def summary(*, as_of: dt.date, has_money: bool, at_risk: pd.DataFrame | None, snaps: pd.DataFrame | None,
            repurchase: pd.DataFrame | None, trend: pd.DataFrame | None, thresholds: Thresholds | None,
            min_cohort_size: int = 100) -> Raw:
    """The "In short" paragraph from the report's frames (any may be None when the data was too
    thin for it): users at risk and their value, the segments at the last month end, repurchase
    (the latest first purchases are compared with the ones before only when both groups hold at
    least ``min_cohort_size`` buyers, or all eligible buyers when there are fewer), and the
    thresholds in force."""
    parts = []
    if at_risk is not None:
        parts.append(_at_risk_sentence(at_risk, as_of, has_money))
    if snaps is not None:
        parts.append(_segments_sentence(snaps))
    if repurchase is not None and trend is not None:
        s = _repurchase_sentence(repurchase, trend, min_cohort_size)
        if s:
            parts.append(s)
    elif not has_money:
        parts.append(esc(no_revenue()))
    if thresholds is not None:
        parts.append(esc(thresholds.describe()))
    return Raw(t(f"{_F}.summary.in_short") + t(f"{_F}.summary.join").join(parts))


def at_risk_intro(as_of: dt.date, factor: float) -> Raw:
    """The line above the at-risk tables: the day and the factor in force."""
    return fill(t(f"{_F}.at_risk_intro"), day=f"{as_of:%Y-%m-%d}", f=f"{factor:g}")


def definitions(data: DataParams, lifecycle: LifecycleParams, thresholds: Thresholds | None,
                has_money: bool) -> dict[str, str]:
    """The lifecycle definitions in force, worded from the params."""
    d = f"{_F}.definition"
    defs: dict[str, str] = {}
    if thresholds is not None:
        defs[t(f"{d}.thresholds.term")] = thresholds.describe()
    defs[t(f"{d}.segment.term")] = t(f"{d}.segment")
    defs[t(f"{d}.at_risk.term")] = t(f"{d}.at_risk", factor=f"{lifecycle.at_risk_factor:g}")
    if has_money:
        defs[t(f"{d}.revenue.term")] = t(f"{d}.revenue")
        events = (t(f"{_F}.list_separator").join(data.purchase_events) if data.purchase_events
                  else t(f"{d}.purchase.any"))
        defs[t(f"{d}.purchase.term")] = t(f"{d}.purchase", events=events)
    return defs
