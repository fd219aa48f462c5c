"""What the stickiness report says in words: the plain-language summary computed from the metric
frames, and the printed definitions.

Kept apart from the metrics so the notebook stays thin and the wording is testable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...core.text import Raw, fill, num, pct
from ...data.params import StickinessParams
from .active_users import ratio_by_month
from .power_users import curve_shape

__all__ = ["summary", "summary_sentences", "curve_reading", "cadence_reading", "definitions"]


def _p(x: float) -> str:
    return f"{100 * x:.0f}%"


def _ratio_sentence(active: pd.DataFrame, judge: str) -> str:
    col, label = ("wau_mau", "WAU/MAU") if judge == "WAU/MAU" else ("dau_mau", "DAU/MAU")
    other_col, other = ("dau_mau", "DAU/MAU") if col == "wau_mau" else ("wau_mau", "WAU/MAU")
    months = ratio_by_month(active)
    if len(months):
        last = months.iloc[-1]
        s = f"{label} averaged {_p(last[col])} in {last['month']:%B %Y}"
        if len(months) > 1:
            prev = months.iloc[-2]
            diff = round(100 * (last[col] - prev[col]))
            move = "level with" if diff == 0 else f"{'up' if diff > 0 else 'down'} {abs(diff)} point{'s' if abs(diff) != 1 else ''} on"
            s += f", {move} {prev['month']:%B}"
        return s + f" ({other} {_p(last[other_col])})."
    tail = active.tail(28)
    return f"{label} averaged {_p(tail[col].mean())} over the last {len(tail)} reported days."


def _curve_sentence(curve: pd.DataFrame) -> str:
    latest = curve[curve["month"] == curve["month"].max()]
    shape = curve_shape(latest["active_days"], latest["share"])
    n = shape["days"]
    half = int(np.ceil(n / 2))
    words = {"smile": "a smile is forming: a second hump of power users who come on most days",
             "cliff": "the curve is a cliff: most users come on a few days only",
             "flat": "the curve is flat: users spread evenly over the number of active days",
             "unknown": "the curve is too short to read"}[str(shape["shape"])]
    return (f"{_p(shape['half_share'])} of {latest['month'].iloc[0]:%B}'s active users were active on "
            f"{half} or more of its {n} days ({words}).")


def _retention_sentence(cells: pd.DataFrame, avg: pd.DataFrame, shown: int) -> str | None:
    one = cells[cells["period"] == 1]
    if one.empty:
        return None
    row = one.sort_values("cohort").iloc[-1]
    gran = str(row["granularity"])
    fmt = "%Y-%m-%d" if gran == "week" else "%B %Y"
    mode = "" if row["mode"] == "on" else " (on or after)"
    s = (f"{gran.capitalize()}-1 retention{mode} of the latest complete cohort ({gran} of {row['cohort']:{fmt}}, "
         f"{int(row['cohort_size']):,} users) is {_p(row['retention'])} [{_p(row['ci_low'])}, {_p(row['ci_high'])}]")
    a = avg[avg["period"] == 1]
    if len(a) and int(a["cohorts"].iloc[0]) > 1:
        m = float(a["retention"].iloc[0])
        where = "above" if row["ci_low"] > m else "below" if row["ci_high"] < m else "in line with"
        s += f", {where} the {min(shown, int(a['cohorts'].iloc[0]))}-cohort average of {_p(m)}"
    return s + "."


def _growth_sentence(growth: pd.DataFrame) -> str | None:
    if growth.empty:
        return None
    r = growth.iloc[-1]
    gran = str(r["granularity"])
    fmt = "%Y-%m-%d" if gran == "week" else "%B %Y"
    s = (f"In the last complete {gran} ({r['period']:{fmt}}) {int(r['active']):,} users were active: "
         f"{int(r['new']):,} new, {int(r['retained']):,} retained, {int(r['resurrected']):,} resurrected; "
         f"{int(r['churned']):,} churned")
    if pd.notna(r["quick_ratio"]):
        trend = "more users arrive than leave" if r["quick_ratio"] > 1 else "more users leave than arrive"
        s += f", a quick ratio of {r['quick_ratio']:.2f} ({trend})"
    return s + "."


def _cadence_sentence(profile: dict[str, Any]) -> str:
    c, judge = profile["cadence"], profile["judge_by"]
    s = (f"Users' typical gap between active days is {profile['typical_gap']:g} days: a {c} product, "
         f"so its stickiness is judged by {judge}")
    if c != "daily":
        s += ", not by DAU/MAU"
    return s + "."


def summary_sentences(*, active: pd.DataFrame | None, curve: pd.DataFrame | None, growth: pd.DataFrame | None,
                      cells: pd.DataFrame | None, avg: pd.DataFrame | None, cadence: dict[str, Any] | None,
                      params: StickinessParams) -> list[str]:
    """The report's opening sentences, computed from the metric frames (any may be None when the
    data was too thin for it).

    ``growth`` is the configured granularity's growth accounting, ``cells`` the configured
    granularity and mode's retention cells and ``avg`` their average curve.
    """
    out: list[str] = []
    judge = cadence["judge_by"] if cadence else "DAU/MAU"
    if active is not None and len(active):
        out.append(_ratio_sentence(active, judge))
    if curve is not None and len(curve):
        out.append(_curve_sentence(curve))
    if cells is not None and avg is not None and len(cells):
        s = _retention_sentence(cells, avg, params.periods_shown)
        if s:
            out.append(s)
    if growth is not None:
        s = _growth_sentence(growth)
        if s:
            out.append(s)
    if cadence:
        out.append(_cadence_sentence(cadence))
    return out or ["The data is too thin for any stickiness measure; see the notes below."]


def summary(**frames: Any) -> Raw:
    """The "In short" paragraph: :func:`summary_sentences` of the same arguments."""
    return fill("**In short.** {text}", text=" ".join(summary_sentences(**frames)))


def curve_reading(curve: pd.DataFrame) -> Raw:
    """The latest complete month's power-user curve in words: its shape and the share of users
    active on at least half of its days (:func:`.power_users.curve_shape`)."""
    latest = curve[curve["month"] == curve["month"].max()]
    shape = curve_shape(latest["active_days"], latest["share"])
    return fill("Latest complete month: the curve reads as **{shape}**; {half} of its active users were active on at "
                "least half of its days.", shape=shape["shape"], half=pct(shape["half_share"]))


def cadence_reading(profile: dict[str, Any]) -> Raw:
    """The usage cadence (:func:`.cadence.cadence_profile`) in words."""
    return fill("Typical gap **{gap} days** (middle half of users: {p25} to {p75} days) over {n} users with two or "
                "more active days; {one} users were active on one day only. This reads as a **{kind}** product: judge "
                "it by **{judge}**.", gap=f"{profile['typical_gap']:g}", p25=f"{profile['p25']:g}",
                p75=f"{profile['p75']:g}", n=num(profile["users_with_gap"]), one=num(profile["one_day_users"]),
                kind=profile["cadence"], judge=profile["judge_by"])


def definitions(params: StickinessParams) -> dict[str, str]:
    """The stickiness definitions in force, worded from the params."""
    w = params.mau_window
    return {
        "DAU / WAU / MAU": f"distinct users active on the day / in the 7 days / in the {w} days ending on it; "
                           f"a day is shown only when its whole {w}-day window lies in the data range.",
        "DAU/MAU, WAU/MAU": "the day's DAU and WAU as a share of its MAU.",
        "Power-user curve": "for each complete calendar month, the users active in it by their number of distinct "
                            "active days, as a share of the month's active users; L7/L28 do the same for the last "
                            "7/28 days of data. Smile: a second hump on the right; cliff: a fall with no hump.",
        "Growth accounting": "new = first-ever activity in the period; retained = active in it and the one before; "
                             "resurrected = active, not in the period before, but earlier; churned = active in the "
                             "period before and not in this one; quick ratio = (new + resurrected) / churned, "
                             "empty when nobody churned. Incomplete periods (not entirely within the data range, "
                             "first or last) are left out.",
        "Cohort retention": "cohort = period of signup (users table) or first activity; period k = the k-th "
                            "calendar period after it; 'on' = active in period k, 'on or after' = active in k or "
                            "later. Cells whose period is not complete (not entirely within the data range) are "
                            "empty. The average curve pools the cohorts that reached k (weighted by cohort size), "
                            "leaving out the first cohort when it is left-censored (without signups it holds "
                            "everyone already active when the data began) and cohorts that started before the "
                            "data; intervals are 95% Wilson.",
        "Usage cadence": "each user's median gap in days between consecutive active days; a typical gap up to 3 "
                         "days is a daily product (judge by DAU/MAU), up to 14 a weekly one (WAU/MAU), longer "
                         "a monthly one (monthly retention).",
    }
