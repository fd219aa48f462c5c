"""What the lifecycle and value report says in words: the "In short" paragraph and the
definitions in force."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ...core.stats import headline_minimum
from ...core.text import Raw, esc, fill, num, pct
from ...data.params import DataParams, LifecycleParams
from .segments import Thresholds

__all__ = ["summary", "at_risk_intro", "definitions", "NO_REVENUE"]

NO_REVENUE = "The log has no revenue (data.revenue is not set), so the value sections are skipped."


def _at_risk_sentence(summary: pd.DataFrame, as_of: dt.date, has_money: bool) -> str:
    tot = summary[summary["segment"] == "active or silent"].iloc[0]
    text = f" users are at risk, {pct(tot['share_at_risk'])} of the {num(tot['users'])} active and silent users"
    if has_money and pd.notna(tot["share_of_revenue_last_90d"]):
        text += (f", holding {pct(tot['share_of_revenue_last_90d'])} of the revenue of the last 90 days "
                 f"and {pct(tot['share_of_revenue_to_date'])} of all revenue to date")
    return esc(f"As of {as_of:%Y-%m-%d},") + " **" + esc(num(tot["at_risk"])) + "** " + esc(text) + "."


def _segments_sentence(snaps: pd.DataFrame) -> str:
    last = snaps[snaps["date"] == snaps["date"].max()].set_index("segment")
    return esc(
        f"At the last month end ({snaps['date'].max():%Y-%m-%d}) {pct(last.loc['active', 'share'])} of started "
        f"users were active, {pct(last.loc['silent', 'share'])} silent, {pct(last.loc['churned', 'share'])} "
        f"churned and {pct(last.loc['new', 'share'])} new.")


def _repurchase_sentence(rates: pd.DataFrame, trend: pd.DataFrame, min_size: int) -> str | None:
    r60 = rates.set_index("window_days").loc[60]
    if not r60["eligible_buyers"] > 0:
        return None
    sentence = (f"Repurchase within 60 days of the first purchase is {pct(r60['rate'])} "
                f"({num(r60['repurchasers'])} of {num(r60['eligible_buyers'])} buyers observed that long)")
    rec, prev = trend.iloc[0], trend.iloc[1]
    m = headline_minimum(min_size, int(r60["eligible_buyers"]))
    if rec["eligible_buyers"] >= m and prev["eligible_buyers"] >= m:  # fewer: a rate too noisy to compare
        word = "down from" if rec["rate"] < prev["rate"] else "up from" if rec["rate"] > prev["rate"] else "level with"
        sentence += (f"; for the latest first purchases ({rec['first_purchase_from']:%Y-%m-%d} to "
                     f"{rec['first_purchase_to']:%Y-%m-%d}) it is {pct(rec['rate'])}, {word} "
                     f"{pct(prev['rate'])} in the 90 days before")
    return esc(sentence + ".")


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
        parts.append(NO_REVENUE)
    if thresholds is not None:
        parts.append(esc(thresholds.describe()))
    return Raw("**In short.** " + " ".join(parts))


def at_risk_intro(as_of: dt.date, factor: float) -> Raw:
    """The line above the at-risk tables: the day and the factor in force."""
    return fill("As of **{day}**, with an at-risk factor of **{f}**:", day=f"{as_of:%Y-%m-%d}", f=f"{factor:g}")


def definitions(data: DataParams, lifecycle: LifecycleParams, thresholds: Thresholds | None,
                has_money: bool) -> dict[str, str]:
    """The lifecycle definitions in force, worded from the params."""
    defs: dict[str, str] = {}
    if thresholds is not None:
        defs["Lifecycle thresholds"] = thresholds.describe()
    defs["Segment as of a day D"] = ("new if the user started less than new_days days before D; else active if active "
                                     "by D and last active less than silent_days days before D; else silent if less "
                                     "than churned_days days; else churned. A user never active by D counts from their "
                                     "start day and is never active: silent once no longer new, then churned.")
    defs["At risk"] = (f"an active or silent user whose days since last activity exceed {lifecycle.at_risk_factor:g} x "
                       "their median gap between active days (3+ active days), or with revenue 2 x their median gap "
                       "between purchases (3+ purchases).")
    if has_money:
        defs["Revenue"] = "net: every event's revenue, refunds and cancellations negative."
        defs["Purchase"] = ("a user-day with positive revenue from purchase events ("
                            + (", ".join(data.purchase_events) if data.purchase_events else "any event with revenue")
                            + "); several on one day count once.")
    return defs
