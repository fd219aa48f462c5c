"""What the key-behaviour report says in words: the summary, each finding, the activity proxies,
the baseline, the ranked table as shown, the sections' headings and introductions, and the
definitions in force.

Counts and verdicts come from the ``verdict`` column of the candidate table
(:func:`.findings.judge`); a figure that cannot be computed is replaced by the reason, never
printed as nan or inf. Every sentence is a message of the report language
(``messages/<language>/key_behaviors.yaml``); event names are data and are never translated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...core import conditions
from ...core.i18n import t
from ...core.text import Raw, code, fill, num, pct
from ...data.params import KeyBehaviorParams
from .. import words
from .findings import NEAR_ONE, Q_MAX
from .spec import ACTIVE_DAYS

__all__ = ["VERDICT_LABELS", "SECTIONS", "verdict_label", "segment_label", "section", "caption", "page_table",
           "summary", "finding", "proxies", "baseline", "ranked_table", "filtered_names", "definitions", "no_finding",
           "adjusted_for"]

#: How each verdict reads on an English page (:func:`verdict_label`: in the report language).
VERDICT_LABELS = {"baseline": "baseline", "beyond_activity": "beyond activity", "activity_proxy": "activity proxy",
                  "not_significant": "not significant", "too_few_users": "too few users"}
#: The report's sections, in page order (:func:`section`).
SECTIONS = ("ranked_findings", "threshold_curves", "window_scan", "segments", "caution", "definitions")
_F = "key_behaviors"


def verdict_label(verdict: str) -> str:
    """A verdict (a value of ``key_behaviors.csv``'s ``verdict`` column) as the page shows it.

    Examples
    --------
    >>> verdict_label("beyond_activity")
    'beyond activity'
    """
    return t(f"{_F}.verdict.{verdict}")


def segment_label(segment: str) -> str:
    """A segment of :func:`.segments.behavior_segments` as the page shows it: the kit's segments
    (power, occasional, retained, churned) in the report language, attribute segments
    (``plan=pro``) as they are."""
    return words.label(_F, "segment", segment)


def section(name: str) -> Raw:
    """A section's Markdown heading and introduction, one of :data:`SECTIONS`.

    Examples
    --------
    >>> print(section("caution").text.splitlines()[0])
    ## Caution
    """
    return words.section(_F, name, SECTIONS)


def caption(name: str, /, **values: Any) -> str:
    """A caption or a short line of the page (plain text), message ``key_behaviors.caption.<name>``."""
    return t(f"{_F}.caption.{name}", **values)


def page_table(frame: pd.DataFrame, *, percent: Sequence[str] = (), caption: str | None = None) -> dict[str, Any]:
    """:func:`retention_kit.reporting.report.show_table`'s arguments for ``frame``, headers in the
    report language (:func:`retention_kit.analyses.words.page_table`)."""
    return words.page_table(_F, frame, percent=percent, caption=caption)


def _ok(x: Any) -> bool:
    """A finite number (not None, NaN, NA or inf)."""
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def adjusted_for(p: KeyBehaviorParams) -> str:
    """What the activity adjustment holds equal, in words (plain text)."""
    return t(f"{_F}.adjusted_for", w=p.window_days)


def _ratio(x: float) -> str:
    """An odds ratio: two decimals below 1 (0.33), one above (5.0)."""
    return num(x, 2 if x < 1 else 1)


def _q(x: float) -> str:
    return "< 0.001" if x < 0.001 else f"{x:.2g}"


def _lift(x: float) -> str:
    """A lift, or why there is none (no retained user among the rest: the ratio is infinite)."""
    return t(f"{_F}.lift", lift=num(x, 1)) if _ok(x) else t(f"{_F}.lift.none")


def _held(r: pd.Series) -> str:
    early, late = r.get("lift_discovery"), r.get("lift_validation")
    if not _ok(early):
        return t(f"{_F}.held.no_early")
    if not bool(r.get("supported_validation", False)) or not _ok(late):
        return t(f"{_F}.held.few_late", early=num(early, 1))
    key = f"{_F}.held.stable" if r["stable"] else f"{_F}.held.unstable"
    return t(key, early=num(early, 1), late=num(late, 1))


def _adjusted(r: pd.Series, p: KeyBehaviorParams) -> str:
    same = adjusted_for(p)
    orr, lo, hi = r["adjusted_odds_ratio"], r["adjusted_or_low"], r["adjusted_or_high"]
    if not (_ok(orr) and _ok(lo) and _ok(hi)):
        return t(f"{_F}.adjusted.none", same=same)
    ci = t(f"{_F}.adjusted.ci", orr=_ratio(orr), lo=_ratio(lo), hi=_ratio(hi))
    if r["verdict"] == "beyond_activity":
        return t(f"{_F}.adjusted.beyond", same=same, ci=ci)
    return t(f"{_F}.adjusted.explained", same=same, ci=ci)


def summary(table: pd.DataFrame, counts: dict[str, int], p: KeyBehaviorParams) -> Raw:
    """The "In short" paragraph: who is eligible, how many retained, what was tested and found
    (the counts of the ``verdict`` column)."""
    verdicts = table["verdict"].value_counts()
    filtered = {c.label for c in p.candidates}
    names = set(table.loc[table["event"] != ACTIVE_DAYS, "event"])
    n_types, n_filtered = len(names - filtered), len(names & filtered)
    ev = (t(f"{_F}.summary.events_filtered", n=num(n_types), f=num(n_filtered)) if n_filtered
          else t(f"{_F}.summary.events", n=num(n_types)))
    return fill(
        t(f"{_F}.summary"),
        users=num(counts["users"]), eligible=num(counts["eligible"]), oe=p.outcome_end,
        inel=num(counts["ineligible"]), ret=pct(counts["retained"] / counts["eligible"]),
        o1=p.outcome_start, o2=p.outcome_end - 1, n_cand=num((table["split"] == "all").sum()),
        ev=ev, K=p.max_threshold,
        n_beyond=int(verdicts.get("beyond_activity", 0)), n_proxy=int(verdicts.get("activity_proxy", 0)),
        same=adjusted_for(p))


def finding(r: pd.Series, p: KeyBehaviorParams) -> Raw:
    """One finding (a row of :func:`.findings.findings`) in plain words.

    Examples
    --------
    >>> from retention_kit.analyses.key_behaviors import candidate_stats, findings
    >>> f = findings(candidate_stats(log)[0])
    >>> print(finding(f.iloc[1], params.key_behaviors))  # doctest: +ELLIPSIS
    - Users who did `invite_friend` at least 3 times in their first 7 days: **...
    """
    k = int(r["threshold"])
    return fill(
        t(f"{_F}.finding"),
        event=code(r["event"]),
        times=t(f"{_F}.times.once") if k == 1 else t(f"{_F}.times.many", k=k),
        w=p.window_days,
        rd=pct(r["retained_did"]), rdl=pct(r["ci_did_low"]), rdh=pct(r["ci_did_high"]),
        rn=pct(r["retained_not"]), rnl=pct(r["ci_not_low"]), rnh=pct(r["ci_not_high"]),
        o1=p.outcome_start, o2=p.outcome_end - 1, n=num(r["n_did"]), N=num(r["n_eligible"]),
        lift=_lift(r["lift"]), phi=num(r["phi"], 2), q=_q(r["q_value"]), held=_held(r), adj=_adjusted(r, p),
    )


def proxies(found: pd.DataFrame, p: KeyBehaviorParams) -> Raw | None:
    """The sentence naming the activity proxies (verdict ``activity_proxy``, at most six), each
    with its lift and its activity-adjusted odds ratio, or None when there is none."""
    px = found[found["verdict"] == "activity_proxy"].head(6)
    if not len(px):
        return None
    parts = []
    for _, r in px.iterrows():
        adj = (t(f"{_F}.proxies.adjusted", orr=_ratio(r["adjusted_odds_ratio"])) if _ok(r["adjusted_odds_ratio"])
               else t(f"{_F}.proxies.no_strata"))
        parts.append(t(f"{_F}.proxies.item", event=code(r["event"]).text, lift=_lift(r["lift"]), adj=adj))
    ways = set(np.where(px["lift"] < 1, "leaving", "staying"))
    return fill(t(f"{_F}.proxies"),
                names=Raw(t(f"{_F}.list_separator").join(parts)),
                verb=t(f"{_F}.proxies.verb.one") if len(px) == 1 else t(f"{_F}.proxies.verb.many"),
                way=t(f"{_F}.or").join(t(f"{_F}.way.{w}") for w in sorted(ways, reverse=True)),
                same=adjusted_for(p), lo=NEAR_ONE[0], hi=NEAR_ONE[1])


def baseline(found: pd.DataFrame, p: KeyBehaviorParams) -> Raw | None:
    """The activity baseline in words, or None when it was not computed."""
    base = found[found["verdict"] == "baseline"]
    if not len(base):
        return None
    b = base.iloc[0]
    return fill(t(f"{_F}.baseline"),
                k=int(b["threshold"]), w=p.window_days, rd=pct(b["retained_did"]),
                rn=pct(b["retained_not"]), lift=_lift(b["lift"]), phi=num(b["phi"], 2))


def ranked_table(found: pd.DataFrame) -> pd.DataFrame:
    """The ranked findings as the page shows them: verdicts and directions in words, the
    baseline's name, the main columns (headers stay the contract's names; :func:`page_table`
    words them)."""
    cols = ["rank", "event", "threshold", "verdict", "direction", "n_did", "share_did", "retained_did", "retained_not",
            "lift", "phi", "q_value", "adjusted_odds_ratio", "adjusted_q_value", "lift_discovery", "lift_validation",
            "stable"]
    direction = {"with staying": t(f"{_F}.direction.staying"), "with leaving": t(f"{_F}.direction.leaving")}
    yes_no = {True: t(f"{_F}.value.true"), False: t(f"{_F}.value.false")}
    return found[cols].assign(
        event=found["event"].map(lambda e: t(f"{_F}.table.active_days") if e == ACTIVE_DAYS else e),
        verdict=found["verdict"].map(verdict_label),
        direction=found["direction"].map(lambda d: direction.get(d, d)),
        stable=found["stable"].map(lambda v: yes_no[bool(v)]))


def no_finding() -> str:
    """The note when no behaviour goes with retention beyond activity (plain text)."""
    return t(f"{_F}.no_finding", q=Q_MAX)


def filtered_names(p: KeyBehaviorParams) -> str:
    """The filtered candidates in words (plain text): each name, and what it counts when the
    name is the analyst's own (``big_purchase = purchase (amount ≥ 50)``); empty without any.

    Examples
    --------
    >>> from retention_kit.data.params import KeyBehaviorParams
    >>> filtered_names(KeyBehaviorParams(candidates=[{"event": "purchase", "where": {"amount": {"gte": 50}}},
    ...     {"event": "purchase", "where": {"amount": {"gte": 200}}, "name": "big_purchase"}]))
    'purchase (amount ≥ 50), big_purchase = purchase (amount ≥ 200)'
    """
    parts = []
    for c in p.candidates:
        plain = conditions.leaf_label(c.leaf)
        parts.append(plain if c.label == plain else f"{c.label} = {plain}")
    return t(f"{_F}.list_separator").join(parts)


def definitions(p: KeyBehaviorParams) -> dict[str, str]:
    """The key-behaviour definitions in force, worded from the params (the filtered candidates'
    entry only when the params list some)."""
    d = f"{_F}.definition"
    filtered = ({t(f"{d}.filtered.term"): t(f"{d}.filtered", items=filtered_names(p), K=p.max_threshold)}
                if p.candidates else {})
    return {
        t(f"{d}.start.term"): t(f"{d}.start"),
        t(f"{d}.window.term"): t(f"{d}.window", w=p.window_days),
        t(f"{d}.retained.term"): t(f"{d}.retained", o1=p.outcome_start, o2=p.outcome_end),
        t(f"{d}.eligible.term"): t(f"{d}.eligible", last=p.outcome_end - 1),
        t(f"{d}.candidates.term"): t(f"{d}.candidates", excluded=t(f"{_F}.list_separator").join(p.exclude)
                                     or t(f"{d}.candidates.none"), K=p.max_threshold),
        **filtered,
        t(f"{d}.lift.term"): t(f"{d}.lift"),
        t(f"{d}.phi.term"): t(f"{d}.phi"),
        t(f"{d}.intervals.term"): t(f"{d}.intervals"),
        t(f"{d}.pq.term"): t(f"{d}.pq"),
        t(f"{d}.supported.term"): t(f"{d}.supported"),
        t(f"{d}.strata.term"): t(f"{d}.strata", w=p.window_days),
        t(f"{d}.odds_ratio.term"): t(f"{d}.odds_ratio"),
        t(f"{d}.verdicts.term"): t(f"{d}.verdicts", q=Q_MAX, lo=NEAR_ONE[0], hi=NEAR_ONE[1]),
        t(f"{d}.held_out.term"): t(f"{d}.held_out"),
        t(f"{d}.breadth.term"): t(f"{d}.breadth"),
    }
