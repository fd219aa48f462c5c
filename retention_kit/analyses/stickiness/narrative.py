"""What the stickiness report says in words: the plain-language summary computed from the metric
frames, and the printed definitions.

Kept apart from the metrics so the notebook stays thin and the wording is testable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...core.i18n import month, month_year, t
from ...core.text import Raw, fill, num, pct
from ...data.params import StickinessParams
from .active_users import ratio_by_month
from .power_users import curve_shape
from .retention import event_labels, retention_headline

__all__ = ["summary", "summary_sentences", "curve_reading", "cadence_reading", "judged_by", "definitions",
           "day_n_table", "ratios_shown", "ratios_note", "trailing_note", "HEADLINE_DAYS"]

#: The day-N figures the summary quotes (those within ``stickiness.retention.max_day``).
HEADLINE_DAYS = (1, 7, 30)


def _when(ts: Any, gran: str) -> str:
    """A period's start as a page shows it: days and weeks as dates, months by name."""
    return month_year(ts) if gran == "month" else f"{ts:%Y-%m-%d}"


def _p(x: float) -> str:
    return pct(x)


def _n(key: str, n: int, **values: Any) -> str:
    """The message ``key.one`` for one, ``key.many`` otherwise (English plurals)."""
    return t(f"{key}.{'one' if n == 1 else 'many'}", n=num(n), **values)


def _end(sentence: str) -> str:
    return t("stickiness.end", sentence=sentence)


def _ratio_sentence(active: pd.DataFrame, judge: str) -> str | None:
    col, label = ("wau_mau", "WAU/MAU") if judge == "WAU/MAU" else ("dau_mau", "DAU/MAU")
    other_col, other = ("dau_mau", "DAU/MAU") if col == "wau_mau" else ("wau_mau", "WAU/MAU")
    months = ratio_by_month(active)
    if len(months):
        last = months.iloc[-1]
        s = t("stickiness.ratio.month", label=label, value=_p(last[col]), month=month_year(last["month"]))
        if len(months) > 1:
            prev = months.iloc[-2]
            diff = round(100 * (last[col] - prev[col]))
            s += (t("stickiness.ratio.level", prev=month(prev["month"])) if diff == 0 else
                  _n(f"stickiness.ratio.{'up' if diff > 0 else 'down'}", abs(diff), prev=month(prev["month"])))
        return s + t("stickiness.ratio.other", other=other, value=_p(last[other_col]))
    tail = active[active[col].notna()].tail(28)
    if tail.empty:
        return None
    return t("stickiness.ratio.days", label=label, value=_p(tail[col].mean()), days=num(len(tail)))


def _short_log_sentence(active: pd.DataFrame, mau_window: int) -> str:
    """What a log shorter than one MAU window can show: DAU, and WAU once 7 days are in."""
    n = len(active)
    last7 = active.tail(7)
    s = t("stickiness.short_log", covers=_n("stickiness.days", n), window=num(mau_window),
          dau=num(last7["dau"].mean(), 1 if last7["dau"].mean() < 10 else 0), last=_n("stickiness.days", len(last7)))
    wau = active["wau"].dropna()
    s += t("stickiness.short_log.wau", wau=num(int(wau.iloc[-1]))) if len(wau) else t("stickiness.short_log.no_wau")
    return _end(s)


def _curve_sentence(curve: pd.DataFrame) -> str:
    latest = curve[curve["month"] == curve["month"].max()]
    shape = curve_shape(latest["active_days"], latest["share"])
    n = shape["days"]
    half = int(np.ceil(n / 2))
    return t("stickiness.curve.sentence", share=_p(shape["half_share"]), month=month(latest["month"].iloc[0]),
             half=num(half), days=num(n), words=t(f"stickiness.curve.words.{shape['shape']}"))


def _and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c' (in the report language)."""
    return items[0] if len(items) == 1 else t("common.list_sep").join(items[:-1]) + t("common.and") + items[-1]


def _recurring(cells: pd.DataFrame) -> bool:
    return bool("cohort_type" in cells.columns and len(cells) and cells["cohort_type"].iloc[0] == "recurring")


def _members_word(cells: pd.DataFrame, *, one: bool = False) -> str:
    return t(f"stickiness.who.{'members' if _recurring(cells) else 'users'}.{'one' if one else 'many'}")


def _events_clause(cells: pd.DataFrame) -> str:
    """' (start: a; return: b)' for configured events, '' for the defaults."""
    parts = []
    for col, word in (("start_event", "start"), ("return_event", "return")):
        if col in cells.columns and len(cells) and str(cells[col].iloc[0] or ""):
            parts.append(t(f"stickiness.events.{word}", events=cells[col].iloc[0]))
    if _recurring(cells):
        parts.insert(0, t("stickiness.events.recurring"))
    return t("stickiness.events", parts=t("stickiness.sep").join(parts)) if parts else ""


def _mode(cells: pd.DataFrame) -> str:
    return "" if cells["mode"].iloc[0] == "on" else t("stickiness.mode.on_or_after.suffix")


def _retention_sentence(cells: pd.DataFrame, avg: pd.DataFrame, shown: int, min_size: int) -> str | None:
    """Period-1 retention of the latest complete new cohort of at least ``min_size`` users."""
    if cells.empty:
        return None
    gran = str(cells["granularity"].iloc[0])
    label = t(f"stickiness.retention.label.{gran}", mode=_mode(cells), events=_events_clause(cells))
    unit = t(f"stickiness.gran.{gran}")
    h = retention_headline(cells, periods=(1,), min_size=min_size, pool=False).iloc[0]
    who = _members_word(cells)
    if not h["quoted"]:
        if not h["available"]:
            return t("stickiness.retention.not_available", label=label, gran=unit)
        return t("stickiness.retention.not_quoted", label=label, gran=unit, need=num(min_size), who=who,
                 largest=num(h["largest"]))
    one = cells[(cells["period"] == 1) & cells["new_cohort"].astype(bool)] if "new_cohort" in cells else cells[cells["period"] == 1]
    latest = h["last_cohort"] == one["cohort"].max()
    which = (t("stickiness.retention.which.latest") if latest
             else t("stickiness.retention.which.large", need=num(min_size), who=who))
    s = t("stickiness.retention.quoted", label=label, which=which, gran=unit, when=_when(h["last_cohort"], gran),
          size=num(h["cohort_size"]), who=who, value=_p(h["retention"]), low=_p(h["ci_low"]), high=_p(h["ci_high"]))
    a = avg[avg["period"] == 1]
    if len(a) and int(a["cohorts"].iloc[0]) > 1:
        m = float(a["retention"].iloc[0])
        where = "above" if h["ci_low"] > m else "below" if h["ci_high"] < m else "in_line"
        s += t(f"stickiness.retention.average.{where}", cohorts=num(min(shown, int(a["cohorts"].iloc[0]))),
               value=_p(m))
    return _end(s)


def _day_n_sentence(day_cells: pd.DataFrame, min_size: int, max_day: int, day_cohorts: int) -> str | None:
    """D1/D7/D30 of the latest daily cohorts pooled to at least ``min_size`` users each."""
    if day_cells.empty:
        return None
    days = [d for d in HEADLINE_DAYS if d <= min(max_day, day_cohorts - 1)]
    who = _members_word(day_cells)
    h = retention_headline(day_cells, periods=days, min_size=min_size, pool=True)
    quoted, missing = h[h["quoted"]], h[~h["quoted"]]
    parts = [t("stickiness.day_n.part." + ("on" if r["first_cohort"] == r["last_cohort"] else "range"),
               day=int(r["period"]), value=_p(r["retention"]), low=_p(r["ci_low"]), high=_p(r["ci_high"]),
               size=num(r["cohort_size"]), who=who, first=f"{r['first_cohort']:%Y-%m-%d}",
               last=f"{r['last_cohort']:%Y-%m-%d}")
             for _, r in quoted.iterrows()]
    s = (t("stickiness.day_n.lead", mode=_mode(day_cells), events=_events_clause(day_cells),
           parts=t("stickiness.sep").join(parts)) if parts else "")
    clauses = []
    short = missing[missing["available"] > 0]
    if len(short):
        names = _and([f"D{int(p)}" for p in short["period"]])
        counts = _and([num(int(n)) for n in short["available"]])
        ks = _and([str(int(p)) for p in short["period"]])
        one = len(short) == 1 and int(short["available"].iloc[0]) == 1
        clauses.append(t(f"stickiness.day_n.short.{'one' if one else 'many'}", names=names, days=num(day_cohorts),
                         counts=counts, who=_members_word(day_cells, one=one), ks=ks, need=num(min_size)))
    none = missing[missing["available"] == 0]
    if len(none):
        names = "/".join(f"D{int(p)}" for p in none["period"])
        clauses.append(t("stickiness.day_n.none", names=names, day=int(none["period"].min())))
    for c in clauses:
        s = t("stickiness.day_n.join", first=s, then=c) if s else c
    skipped = [d for d in HEADLINE_DAYS if d not in days]
    if skipped:
        s += t("stickiness.day_n.skipped", names="D" + "/D".join(str(d) for d in skipped), day=max(skipped))
    return _end(s) if s else None


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
    when = (t("stickiness.growth.when.day", period=_when(r["period"], gran)) if gran == "day"
            else t("stickiness.growth.when", gran=t(f"stickiness.gran.{gran}"), period=_when(r["period"], gran)))
    s = t("stickiness.growth.sentence", when=when, active=num(int(r["active"])), new=num(int(r["new"])),
          retained=num(int(r["retained"])), resurrected=num(int(r["resurrected"])), churned=num(int(r["churned"])))
    if pd.notna(r["quick_ratio"]):
        trend = t("stickiness.growth.gaining" if r["quick_ratio"] > 1 else "stickiness.growth.losing")
        s += t("stickiness.growth.quick_ratio", ratio=num(r["quick_ratio"], 2), trend=trend)
    return _end(s)


def ratios_shown(active: pd.DataFrame | None) -> bool:
    """Whether the page can show DAU/MAU and WAU/MAU: some day has its whole MAU window in the data."""
    return active is not None and bool(active["mau"].notna().any())


def ratios_note(active: pd.DataFrame, params: StickinessParams) -> str | None:
    """Why the ratio chart is missing on a log shorter than one MAU window (None when it is shown)."""
    if ratios_shown(active):
        return None
    return t("stickiness.note.ratios", window=num(params.mau_window), days=num(len(active)))


def trailing_note(trailing: pd.DataFrame, params: StickinessParams, *, span_days: int) -> str | None:
    """Which trailing windows (``stickiness.trailing_days``) are left out for being longer than the data."""
    longer = [n for n in params.trailing_days if n not in set(trailing["days"])]
    if not longer:
        return None
    return t(f"stickiness.note.trailing.{'one' if len(longer) == 1 else 'many'}",
             windows="L" + ", L".join(map(str, longer)), days=num(span_days))


def judged_by(profile: dict[str, Any], *, ratios_shown: bool = True) -> str:
    """What the product's stickiness is judged by, given its cadence (:func:`.cadence.cadence_profile`)
    and whether the page can show DAU/MAU and WAU/MAU (a log shorter than one MAU window cannot):
    then daily retention, with DAU, WAU or the L7 curve, instead of a ratio the page lacks. In
    the report language.

    Examples
    --------
    >>> judged_by({"cadence": "daily", "judge_by": "DAU/MAU"}), judged_by({"cadence": "daily", "judge_by": "DAU/MAU"}, ratios_shown=False)
    ('DAU/MAU', 'daily retention (D1, D7) and the L7 curve, for now')
    """
    if ratios_shown:
        key = {"DAU/MAU": "daily", "WAU/MAU": "weekly", "monthly retention": "monthly"}.get(str(profile["judge_by"]))
        return t(f"stickiness.judge.{key}") if key else str(profile["judge_by"])
    return t(f"stickiness.judge.short.{profile['cadence']}")


def _cadence_sentence(profile: dict[str, Any], *, ratios_shown: bool = True, span_days: int | None = None) -> str:
    c = profile["cadence"]
    judge = judged_by(profile, ratios_shown=ratios_shown)
    short = t("stickiness.cadence.short", days=num(span_days)) if span_days and span_days < 60 else ""
    s = t("stickiness.cadence.sentence", gap=f"{profile['typical_gap']:g}", short=short,
          kind=t(f"stickiness.cadence.kind.{c}"), judge=judge)
    if c != "daily" and ratios_shown:
        s += t("stickiness.cadence.not_dau_mau")
    return _end(s)


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
    return out or [t("stickiness.summary.thin")]


def summary(**frames: Any) -> Raw:
    """The "In short" paragraph: :func:`summary_sentences` of the same arguments."""
    return fill(t("stickiness.summary"), text=t("common.sentence_sep").join(summary_sentences(**frames)))


def curve_reading(curve: pd.DataFrame) -> Raw:
    """The latest complete month's power-user curve in words: its shape and the share of users
    active on at least half of its days (:func:`.power_users.curve_shape`)."""
    latest = curve[curve["month"] == curve["month"].max()]
    shape = curve_shape(latest["active_days"], latest["share"])
    return fill(t("stickiness.curve.reading"), shape=t(f"stickiness.curve.shape.{shape['shape']}"),
                half=pct(shape["half_share"]))


def cadence_reading(profile: dict[str, Any], *, ratios_shown: bool = True) -> Raw:
    """The usage cadence (:func:`.cadence.cadence_profile`) in words; ``ratios_shown`` False (a
    log shorter than one MAU window) judges it by what the page can show (:func:`judged_by`)."""
    return fill(t("stickiness.cadence.reading"), gap=f"{profile['typical_gap']:g}", p25=f"{profile['p25']:g}",
                p75=f"{profile['p75']:g}", n=num(profile["users_with_gap"]), one=num(profile["one_day_users"]),
                kind=t(f"stickiness.cadence.kind.{profile['cadence']}"), judge=judged_by(profile, ratios_shown=ratios_shown))


def definitions(params: StickinessParams) -> dict[str, str]:
    """The stickiness definitions in force, worded from the params, in the report language."""
    w = params.mau_window
    rp = params.retention
    sep = t("common.list_sep")
    start = (t("stickiness.def.start.events", events=sep.join(event_labels(rp.start_event))) if rp.start_event
             else t("stickiness.def.start.default"))
    if rp.cohorts == "recurring":
        did = (t("stickiness.def.did.events", events=sep.join(event_labels(rp.start_event))) if rp.start_event
               else t("stickiness.def.did.any"))
        cohort = t("stickiness.def.cohorts.recurring", did=did)
    else:
        cohort = t("stickiness.def.cohorts.first", start=start)
    ret = (t("stickiness.def.returns.events", events=sep.join(event_labels(rp.return_event))) if rp.return_event
           else t("stickiness.def.returns.any"))
    terms = {
        "dau": {"window": num(w)},
        "ratios": {},
        "curve": {},
        "trailing": {"windows": "L" + ", L".join(str(n) for n in params.trailing_days)},
        "growth": {},
        "cohorts": {"cohort": cohort, "gran": t(f"stickiness.gran.{params.granularity}")},
        "returns": {"returns": ret},
        "retention": {},
        "day_n": {"days": num(rp.day_cohorts), "max_day": rp.max_day},
        "headline": {"need": num(params.min_cohort_size)},
        "cadence": {},
    }
    out = {t(f"stickiness.def.{k}.term"): t(f"stickiness.def.{k}", **v) for k, v in terms.items()}
    if rp.brackets:
        out[t("stickiness.def.brackets.term")] = t("stickiness.def.brackets",
                                                   brackets=sep.join(f"{a}-{b}" for a, b in rp.brackets))
    return out


def caption(table: str, params: StickinessParams, *, need: int | None = None) -> str:
    """The caption of one of the page's tables, in the report language: ``average`` (the average
    retention curve), ``day_n`` (pooled to at least ``need`` users), ``brackets``, ``growth``,
    ``composition`` or ``ratios``.

    Examples
    --------
    >>> caption("composition", params.stickiness)
    'Composition of active users'
    """
    gran, mode, shown = params.granularity, params.retention_mode, params.periods_shown
    values = {"gran": t(f"stickiness.gran.{gran}"), "mode": t(f"stickiness.mode.{mode}"), "shown": num(shown),
              "days": num(params.retention.day_cohorts), "need": num(need if need is not None else params.min_cohort_size)}
    key = {"average": f"stickiness.caption.average.{gran}", "brackets": f"stickiness.caption.brackets.{gran}"}.get(
        table, f"stickiness.caption.{table}")
    return t(key, **values)


def section_name(section: str, granularity: str | None = None) -> str:
    """A section's name as a thin-data note names it (:func:`retention_kit.reporting.report.guard`):
    ``active_users``, ``curve``, ``trailing``, ``cadence``, or ``growth``, ``retention``,
    ``brackets`` per ``granularity``."""
    return t(f"stickiness.section.{section}" + (f".{granularity}" if granularity else ""))
