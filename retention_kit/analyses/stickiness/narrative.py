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
from .retention import retention_headline

__all__ = ["summary", "summary_sentences", "curve_reading", "cadence_reading", "judged_by", "definitions",
           "day_n_table", "ratios_shown", "ratios_note", "trailing_note", "HEADLINE_DAYS"]

#: The day-N figures the summary quotes (those within ``stickiness.retention.max_day``).
HEADLINE_DAYS = (1, 7, 30)
_FMT = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%B %Y"}


def _p(x: float) -> str:
    return f"{100 * x:.0f}%"


def _ratio_sentence(active: pd.DataFrame, judge: str) -> str | None:
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
    tail = active[active[col].notna()].tail(28)
    if tail.empty:
        return None
    return f"{label} averaged {_p(tail[col].mean())} over the last {len(tail)} reported days."


def _short_log_sentence(active: pd.DataFrame, mau_window: int) -> str:
    """What a log shorter than one MAU window can show: DAU, and WAU once 7 days are in."""
    n = len(active)
    last7 = active.tail(7)
    s = (f"The data covers {n} day{'s' if n != 1 else ''}, fewer than the {mau_window} one MAU needs, so DAU/MAU and "
         f"WAU/MAU cannot be shown yet; DAU averaged {num(last7['dau'].mean(), 1 if last7['dau'].mean() < 10 else 0)} "
         f"over the last {len(last7)} day{'s' if len(last7) != 1 else ''}")
    wau = active["wau"].dropna()
    if len(wau):
        s += f" and WAU was {num(int(wau.iloc[-1]))} on the last day"
    else:
        s += " (WAU needs 7 days of data)"
    return s + "."


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


def _and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _members_word(cells: pd.DataFrame) -> str:
    recurring = "cohort_type" in cells.columns and len(cells) and cells["cohort_type"].iloc[0] == "recurring"
    return "cohort members" if recurring else "users"


def _events_clause(cells: pd.DataFrame) -> str:
    """' (start: a; return: b)' for configured events, '' for the defaults."""
    parts = []
    for col, word in (("start_event", "start"), ("return_event", "return")):
        if col in cells.columns and len(cells) and str(cells[col].iloc[0] or ""):
            parts.append(f"{word}: {cells[col].iloc[0]}")
    if "cohort_type" in cells.columns and len(cells) and cells["cohort_type"].iloc[0] == "recurring":
        parts.insert(0, "recurring cohorts")
    return f" ({'; '.join(parts)})" if parts else ""


def _retention_sentence(cells: pd.DataFrame, avg: pd.DataFrame, shown: int, min_size: int) -> str | None:
    """Period-1 retention of the latest complete new cohort of at least ``min_size`` users."""
    if cells.empty:
        return None
    gran = str(cells["granularity"].iloc[0])
    fmt = _FMT[gran]
    mode = "" if cells["mode"].iloc[0] == "on" else " (on or after)"
    label = f"{gran.capitalize()}-1 retention{mode}{_events_clause(cells)}"
    h = retention_headline(cells, periods=(1,), min_size=min_size, pool=False).iloc[0]
    who = _members_word(cells)
    if not h["quoted"]:
        if not h["available"]:
            return f"{label} cannot be shown yet: no new cohort has been observed for a complete {gran} after its own."
        return (f"{label} cannot be quoted yet: no new cohort with a complete {gran} 1 has {num(min_size)} {who} "
                f"(the largest has {num(h['largest'])}; stickiness.min_cohort_size).")
    one = cells[(cells["period"] == 1) & cells["new_cohort"].astype(bool)] if "new_cohort" in cells else cells[cells["period"] == 1]
    latest = h["last_cohort"] == one["cohort"].max()
    which = "the latest complete cohort" if latest else f"the latest complete cohort of at least {num(min_size)} {who}"
    s = (f"{label} of {which} ({gran} of {h['last_cohort']:{fmt}}, {num(h['cohort_size'])} {who}) is "
         f"{_p(h['retention'])} [{_p(h['ci_low'])}, {_p(h['ci_high'])}]")
    a = avg[avg["period"] == 1]
    if len(a) and int(a["cohorts"].iloc[0]) > 1:
        m = float(a["retention"].iloc[0])
        where = "above" if h["ci_low"] > m else "below" if h["ci_high"] < m else "in line with"
        s += f", {where} the {min(shown, int(a['cohorts'].iloc[0]))}-cohort average of {_p(m)}"
    return s + "."


def _day_n_sentence(day_cells: pd.DataFrame, min_size: int, max_day: int, day_cohorts: int) -> str | None:
    """D1/D7/D30 of the latest daily cohorts pooled to at least ``min_size`` users each."""
    if day_cells.empty:
        return None
    days = [d for d in HEADLINE_DAYS if d <= min(max_day, day_cohorts - 1)]
    mode = "" if day_cells["mode"].iloc[0] == "on" else " (on or after)"
    who = _members_word(day_cells)
    h = retention_headline(day_cells, periods=days, min_size=min_size, pool=True)
    quoted, missing = h[h["quoted"]], h[~h["quoted"]]
    parts = [f"D{int(r['period'])} {_p(r['retention'])} [{_p(r['ci_low'])}, {_p(r['ci_high'])}] "
             f"({num(r['cohort_size'])} {who} who started "
             + (f"on {r['first_cohort']:%Y-%m-%d}" if r["first_cohort"] == r["last_cohort"]
                else f"from {r['first_cohort']:%Y-%m-%d} to {r['last_cohort']:%Y-%m-%d}") + ")"
             for _, r in quoted.iterrows()]
    s = f"Day-N retention{mode}{_events_clause(day_cells)}: " + "; ".join(parts) if parts else ""
    clauses = []
    short = missing[missing["available"] > 0]
    if len(short):
        names = _and([f"D{int(p)}" for p in short["period"]])
        counts = _and([num(int(n)) for n in short["available"]])
        ks = _and([str(int(p)) for p in short["period"]])
        one = len(short) == 1 and int(short["available"].iloc[0]) == 1
        clauses.append(f"{names} cannot be quoted: of the daily cohorts kept (the last {day_cohorts} days, "
                       f"stickiness.retention.day_cohorts), only {counts} new {who.removesuffix('s') if one else who} "
                       f"{'has' if one else 'have'} a complete day {ks}, fewer than the {num(min_size)} a headline "
                       "needs (stickiness.min_cohort_size)")
    none = missing[missing["available"] == 0]
    if len(none):
        names = "/".join(f"D{int(p)}" for p in none["period"])
        clauses.append(f"{names} cannot be shown yet: no new daily cohort has a complete day "
                       f"{int(none['period'].min())} in the data")
    for c in clauses:
        s = f"{s}. {c}" if s else c
    skipped = [d for d in HEADLINE_DAYS if d not in days]
    if skipped:
        s += (f" (D{'/D'.join(str(d) for d in skipped)} need stickiness.retention.max_day of at least "
              f"{max(skipped)} and day_cohorts above it)")
    return s + "." if s else None


def _headline_days(params: StickinessParams, candidates: tuple[int, ...] = HEADLINE_DAYS) -> list[int]:
    # a daily cohort kept (the last day_cohorts days) has at most day_cohorts - 1 complete days after it
    rp = params.retention
    return [d for d in candidates if d <= min(rp.max_day, rp.day_cohorts - 1)]


def day_n_table(day_cells: pd.DataFrame, *, params: StickinessParams, min_size: int,
                days: tuple[int, ...] = (1, 7, 14, 30, 60, 90)) -> pd.DataFrame:
    """The page's day-N table: :func:`.retention.retention_headline` of the daily cells (pooled to
    at least ``min_size`` users) for the ``days`` that the kept cells can hold
    (``stickiness.retention.max_day``, ``day_cohorts``); figures that cannot be quoted are empty.

    Returns
    -------
    pandas.DataFrame
        ``day``, ``cohorts``, ``first_cohort``, ``last_cohort``, ``users``, ``returned``,
        ``retention``, ``ci_low``, ``ci_high`` (nullable: empty where not quoted).
    """
    h = retention_headline(day_cells, periods=_headline_days(params, days), min_size=min_size, pool=True)
    # the headline days always (a dash says they are not there yet); others once some cohort reached them
    h = h[h["period"].isin(HEADLINE_DAYS) | (h["available"] > 0)].reset_index(drop=True)
    out = pd.DataFrame({"day": [f"D{int(p)}" for p in h["period"]]})
    for src, dst in (("cohorts", "cohorts"), ("first_cohort", "first_cohort"), ("last_cohort", "last_cohort"),
                     ("cohort_size", "users"), ("active", "returned"), ("retention", "retention"),
                     ("ci_low", "ci_low"), ("ci_high", "ci_high")):
        col = h[src].where(h["quoted"])
        out[dst] = col.astype("Int64") if src in ("cohorts", "cohort_size", "active") else col
    return out


def _growth_sentence(growth: pd.DataFrame) -> str | None:
    if growth.empty:
        return None
    r = growth.iloc[-1]
    gran = str(r["granularity"])
    fmt = _FMT[gran]
    when = (f"On the last day of data ({r['period']:{fmt}})" if gran == "day"
            else f"In the last complete {gran} ({r['period']:{fmt}})")
    s = (f"{when} {int(r['active']):,} users were active: "
         f"{int(r['new']):,} new, {int(r['retained']):,} retained, {int(r['resurrected']):,} resurrected; "
         f"{int(r['churned']):,} churned")
    if pd.notna(r["quick_ratio"]):
        trend = "more users arrive than leave" if r["quick_ratio"] > 1 else "more users leave than arrive"
        s += f", a quick ratio of {r['quick_ratio']:.2f} ({trend})"
    return s + "."


def ratios_shown(active: pd.DataFrame | None) -> bool:
    """Whether the page can show DAU/MAU and WAU/MAU: some day has its whole MAU window in the data."""
    return active is not None and bool(active["mau"].notna().any())


def ratios_note(active: pd.DataFrame, params: StickinessParams) -> str | None:
    """Why the ratio chart is missing on a log shorter than one MAU window (None when it is shown)."""
    if ratios_shown(active):
        return None
    return (f"DAU/MAU and WAU/MAU need {params.mau_window} days of data (stickiness.mau_window); this log covers "
            f"{len(active)}, so the chart shows DAU and, from the 7th day, WAU.")


def trailing_note(trailing: pd.DataFrame, params: StickinessParams, *, span_days: int) -> str | None:
    """Which trailing windows (``stickiness.trailing_days``) are left out for being longer than the data."""
    longer = [n for n in params.trailing_days if n not in set(trailing["days"])]
    if not longer:
        return None
    return (f"L{', L'.join(map(str, longer))}: the data covers {span_days} days, fewer than the window, so "
            f"{'it is' if len(longer) == 1 else 'they are'} left out.")


def judged_by(profile: dict[str, Any], *, ratios_shown: bool = True) -> str:
    """What the product's stickiness is judged by, given its cadence (:func:`.cadence.cadence_profile`)
    and whether the page can show DAU/MAU and WAU/MAU (a log shorter than one MAU window cannot):
    then daily retention, with DAU, WAU or the L7 curve, instead of a ratio the page lacks.

    Examples
    --------
    >>> judged_by({"cadence": "daily", "judge_by": "DAU/MAU"}), judged_by({"cadence": "daily", "judge_by": "DAU/MAU"}, ratios_shown=False)
    ('DAU/MAU', 'daily retention (D1, D7) and the L7 curve, for now')
    """
    if ratios_shown:
        return str(profile["judge_by"])
    return {"daily": "daily retention (D1, D7) and the L7 curve, for now",
            "weekly": "WAU and daily retention (D1, D7), for now",
            "monthly": "daily retention for now (monthly retention needs more months of data)"}[str(profile["cadence"])]


def _cadence_sentence(profile: dict[str, Any], *, ratios_shown: bool = True, span_days: int | None = None) -> str:
    c = profile["cadence"]
    judge = judged_by(profile, ratios_shown=ratios_shown)
    short = f" (over only {span_days} days of data, so longer gaps cannot show yet)" if span_days and span_days < 60 else ""
    s = (f"Users' typical gap between active days is {profile['typical_gap']:g} days{short}: a {c} product, "
         f"so its stickiness is judged by {judge}")
    if c != "daily" and ratios_shown:
        s += ", not by DAU/MAU"
    return s + "."


def summary_sentences(*, active: pd.DataFrame | None, curve: pd.DataFrame | None, growth: pd.DataFrame | None,
                      cells: pd.DataFrame | None, avg: pd.DataFrame | None, cadence: dict[str, Any] | None,
                      params: StickinessParams, day_cells: pd.DataFrame | None = None,
                      min_size: int | None = None) -> list[str]:
    """The report's opening sentences, computed from the metric frames (any may be None when the
    data was too thin for it). They lead with the configured granularity (``params.granularity``).

    ``growth`` is the configured granularity's growth accounting, ``cells`` the configured
    granularity and mode's retention cells and ``avg`` their average curve; ``day_cells`` the
    daily cells of the configured mode (the D1/D7/D30 headline); ``min_size`` the smallest cohort
    a headline may quote (:func:`.retention.minimum_cohort`; default ``params.min_cohort_size``).
    A headline never quotes a smaller cohort: it says why instead. A log shorter than one MAU
    window is described by what it can show (DAU, WAU, daily retention), never judged by a ratio
    the page cannot show.
    """
    need = int(min_size if min_size is not None else params.min_cohort_size)
    shown = ratios_shown(active)
    judge = cadence["judge_by"] if cadence else "DAU/MAU"
    lead: list[str] = []
    if cells is not None and avg is not None and len(cells) and str(cells["granularity"].iloc[0]) != "day":
        s = _retention_sentence(cells, avg, params.periods_shown, need)
        if s:
            lead.append(s)
    day = day_cells if day_cells is not None else (cells if cells is not None and len(cells)
                                                   and str(cells["granularity"].iloc[0]) == "day" else None)
    day_sentence = (_day_n_sentence(day, need, params.retention.max_day, params.retention.day_cohorts)
                    if day is not None else None)
    if params.granularity == "day" and day_sentence:
        lead.insert(0, day_sentence)
        day_sentence = None
    if growth is not None:
        s = _growth_sentence(growth)
        if s:
            lead.append(s)
    out = lead
    if day_sentence:
        out.append(day_sentence)
    if active is not None and len(active):
        s = _ratio_sentence(active, judge) if shown else _short_log_sentence(active, params.mau_window)
        if s:
            out.append(s)
    if curve is not None and len(curve):
        out.append(_curve_sentence(curve))
    if cadence:
        out.append(_cadence_sentence(cadence, ratios_shown=shown,
                                     span_days=len(active) if active is not None else None))
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


def cadence_reading(profile: dict[str, Any], *, ratios_shown: bool = True) -> Raw:
    """The usage cadence (:func:`.cadence.cadence_profile`) in words; ``ratios_shown`` False (a
    log shorter than one MAU window) judges it by what the page can show (:func:`judged_by`)."""
    return fill("Typical gap **{gap} days** (middle half of users: {p25} to {p75} days) over {n} users with two or "
                "more active days; {one} users were active on one day only. This reads as a **{kind}** product: judge "
                "it by **{judge}**.", gap=f"{profile['typical_gap']:g}", p25=f"{profile['p25']:g}",
                p75=f"{profile['p75']:g}", n=num(profile["users_with_gap"]), one=num(profile["one_day_users"]),
                kind=profile["cadence"], judge=judged_by(profile, ratios_shown=ratios_shown))


def definitions(params: StickinessParams) -> dict[str, str]:
    """The stickiness definitions in force, worded from the params."""
    w = params.mau_window
    rp = params.retention
    start = ("the first day with one of the events " + ", ".join(rp.start_event)) if rp.start_event else \
        "the signup day from the users table when there is one, else the first active day"
    if rp.cohorts == "recurring":
        cohort = ("recurring: a user joins the cohort of every period in which they did "
                  + ("one of the events " + ", ".join(rp.start_event) if rp.start_event else "anything active")
                  + ", so one user can count in several cohorts")
    else:
        cohort = f"first: each user once, in the period of their start ({start})"
    ret = (("one of the events " + ", ".join(rp.return_event) + " (start events count only if listed)")
           if rp.return_event else "any active event")
    out = {
        "DAU / WAU / MAU": f"distinct users active on the day / in the 7 days / in the {w} days ending on it; "
                           f"DAU is shown for every day, WAU from the 7th day of data and MAU from the {w}th "
                           "(before, their window would reach before the data).",
        "DAU/MAU, WAU/MAU": "the day's DAU and WAU as a share of its MAU, on days where both exist.",
        "Power-user curve": "for each complete calendar month, the users active in it by their number of distinct "
                            "active days, as a share of the month's active users. Smile: a second hump on the "
                            "right; cliff: a fall with no hump.",
        "Trailing activity": "L" + ", L".join(str(n) for n in params.trailing_days) + ": the same over the last "
                             "n days of data (stickiness.trailing_days); a window longer than the data is left out.",
        "Growth accounting": "new = first-ever activity in the period; retained = active in it and the one before; "
                             "resurrected = active, not in the period before, but earlier; churned = active in the "
                             "period before and not in this one; quick ratio = (new + resurrected) / churned, "
                             "empty when nobody churned. Incomplete periods (not entirely within the data range, "
                             "first or last) are left out; every day of the data is complete.",
        "Cohorts": f"{cohort}. Shown per {params.granularity}; every granularity is in the CSV export.",
        "Returns": f"a user returns in a period with {ret}.",
        "Cohort retention": "period k = the k-th calendar period after the cohort's own; period 0 is the cohort "
                            "itself (100%); 'on' = a return in period k, 'on or after' = in k or later. Cells whose "
                            "period is not complete (not entirely within the data range) are empty. The average "
                            "curve pools the cohorts that reached k (weighted by cohort size), leaving out the "
                            "first cohort when it is left-censored (without signups it holds everyone already "
                            "active when the data began) and cohorts that started before the data; intervals are "
                            "95% Wilson.",
        "Day-N retention": f"daily cohorts of the last {rp.day_cohorts} days of data, days D0..D{rp.max_day}; "
                           "D1 is the local calendar day after the start day, whatever the hour (also across a "
                           "daylight-saving change).",
        "Headline figures": f"quoted only for a cohort of at least {params.min_cohort_size:,} users "
                            "(stickiness.min_cohort_size; every user when the log has fewer): D1/D7/D30 pool the "
                            "latest daily cohorts until they hold that many; the period-1 figure takes the latest "
                            "cohort that large.",
        "Usage cadence": "each user's median gap in days between consecutive active days; a typical gap up to 3 "
                         "days is a daily product (judge by DAU/MAU), up to 14 a weekly one (WAU/MAU), longer "
                         "a monthly one (monthly retention). A log shorter than one MAU window is judged by what "
                         "it can show: daily retention, DAU, WAU and L7.",
    }
    if rp.brackets:
        out["Brackets"] = ("the share of a cohort with a return on a day in each range of days since each user's "
                           "start (" + ", ".join(f"{a}-{b}" for a, b in rp.brackets) + "); a bracket is shown only "
                           "once the data covers its last day for every member of the cohort.")
    return out
