"""What the key-behaviour report says in words: the summary, each finding, the activity proxies,
the baseline, the ranked table as shown, and the definitions in force.

Counts and verdicts come from the ``verdict`` column of the candidate table
(:func:`.findings.judge`); a figure that cannot be computed is replaced by the reason, never
printed as nan or inf.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ...core.text import Raw, code, fill, num, pct
from ...data.params import KeyBehaviorParams
from .findings import NEAR_ONE, Q_MAX
from .spec import ACTIVE_DAYS

__all__ = ["VERDICT_LABELS", "summary", "finding", "proxies", "baseline", "ranked_table", "definitions", "NO_FINDING",
           "adjusted_for"]

#: How each verdict reads on the page.
VERDICT_LABELS = {"baseline": "baseline", "beyond_activity": "beyond activity", "activity_proxy": "activity proxy",
                  "not_significant": "not significant", "too_few_users": "too few users"}


def _ok(x: Any) -> bool:
    """A finite number (not None, NaN, NA or inf)."""
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def adjusted_for(p: KeyBehaviorParams) -> str:
    """What the activity adjustment holds equal, in words (plain text)."""
    return f"the same number of active days and of events in their first {p.window_days} days"


def _ratio(x: float) -> str:
    """An odds ratio: two decimals below 1 (0.33), one above (5.0)."""
    return num(x, 2 if x < 1 else 1)


def _q(x: float) -> str:
    return "< 0.001" if x < 0.001 else f"{x:.2g}"


def _lift(x: float) -> str:
    """A lift, or why there is none (no retained user among the rest: the ratio is infinite)."""
    return f"lift {num(x, 1)}" if _ok(x) else "no lift: nobody among the rest was retained"


def _held(r: pd.Series) -> str:
    early, late = r.get("lift_discovery"), r.get("lift_validation")
    if not _ok(early):
        return "it cannot be compared between earlier and later users (no lift on earlier users)"
    if not bool(r.get("supported_validation", False)) or not _ok(late):
        return (f"there are too few later users to check whether it holds on them (lift {num(early, 1)} on "
                f"earlier users)")
    verb = "the effect holds on later users" if r["stable"] else "it does not clearly hold on later users"
    return f"{verb} (lift {num(early, 1)} on earlier vs {num(late, 1)} on later users)"


def _adjusted(r: pd.Series, p: KeyBehaviorParams) -> str:
    same = adjusted_for(p)
    orr, lo, hi = r["adjusted_odds_ratio"], r["adjusted_or_low"], r["adjusted_or_high"]
    if not (_ok(orr) and _ok(lo) and _ok(hi)):
        return (f"overall activity explains it: no group of users with {same} has both users who did it "
                f"and users who did not, so it adds nothing to activity")
    ci = f"activity-adjusted odds ratio {_ratio(orr)} [{_ratio(lo)}, {_ratio(hi)}]"
    if r["verdict"] == "beyond_activity":
        return f"it is not explained by overall activity: among users with {same}, {ci}"
    return f"it is largely explained by overall activity: among users with {same}, {ci}"


def summary(table: pd.DataFrame, counts: dict[str, int], p: KeyBehaviorParams) -> Raw:
    """The "In short" paragraph: who is eligible, how many retained, what was tested and found
    (the counts of the ``verdict`` column)."""
    verdicts = table["verdict"].value_counts()
    return fill(
        "**In short.** Of {users} users, **{eligible}** are eligible (their first {oe} days lie in the data; "
        "{inel} started too late or before the data and are left out). {ret} of them were active again in days "
        "{o1}-{o2}. {n_cand} candidate behaviours were tested ({ev} event types x thresholds 1-{K}, plus "
        "active days); {n_beyond} go with staying or leaving beyond overall activity (compared among users "
        "with {same}), {n_proxy} only mark that the user was active.",
        users=num(counts["users"]), eligible=num(counts["eligible"]), oe=p.outcome_end,
        inel=num(counts["ineligible"]), ret=pct(counts["retained"] / counts["eligible"]),
        o1=p.outcome_start, o2=p.outcome_end - 1, n_cand=num((table["split"] == "all").sum()),
        ev=num(table.loc[table["event"] != ACTIVE_DAYS, "event"].nunique()), K=p.max_threshold,
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
    return fill(
        "- Users who did {event} {times} in their first {w} days: **{rd}** [{rdl}, {rdh}] "
        "active in days {o1}-{o2}, against **{rn}** [{rnl}, {rnh}] for the rest "
        "(n = {n} of {N}; {lift}, phi {phi}, q {q}); {held}, and {adj}.",
        event=code(r["event"]),
        times="at least once" if r["threshold"] == 1 else f"at least {int(r['threshold'])} times",
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
        adj = (f"adjusted {_ratio(r['adjusted_odds_ratio'])}" if _ok(r["adjusted_odds_ratio"])
               else "no users of equal activity differ in it")
        parts.append(f"{code(r['event']).text} ({_lift(r['lift'])}; {adj})")
    ways = set(np.where(px["lift"] < 1, "leaving", "staying"))
    return fill("**Activity proxies:** {names} {verb} with {way} only because of how active their users are: "
                "among users with {same}, the link of each is not significant, near 1 (within [{lo}, {hi}]) or "
                "reversed (activity-adjusted odds ratios in brackets). Doing more of them is not a lever by itself.",
                names=Raw(", ".join(parts)), verb="goes" if len(px) == 1 else "go",
                way=" or ".join(sorted(ways, reverse=True)), same=adjusted_for(p), lo=NEAR_ONE[0], hi=NEAR_ONE[1])


def baseline(found: pd.DataFrame, p: KeyBehaviorParams) -> Raw | None:
    """The activity baseline in words, or None when it was not computed."""
    base = found[found["verdict"] == "baseline"]
    if not len(base):
        return None
    b = base.iloc[0]
    return fill("**Baseline:** users active on at least {k} of their first {w} days: {rd} retained against "
                "{rn} for the rest ({lift}, phi {phi}). A behaviour is interesting when it adds to this.",
                k=int(b["threshold"]), w=p.window_days, rd=pct(b["retained_did"]),
                rn=pct(b["retained_not"]), lift=_lift(b["lift"]), phi=num(b["phi"], 2))


def ranked_table(found: pd.DataFrame) -> pd.DataFrame:
    """The ranked findings as the page shows them: verdicts in words, the main columns."""
    cols = ["rank", "event", "threshold", "verdict", "direction", "n_did", "share_did", "retained_did", "retained_not",
            "lift", "phi", "q_value", "adjusted_odds_ratio", "adjusted_q_value", "lift_discovery", "lift_validation",
            "stable"]
    return found[cols].assign(verdict=found["verdict"].map(VERDICT_LABELS))


NO_FINDING = ("No behaviour goes with retention beyond overall activity (compared among users with the same "
              f"number of active days and events in the window) at q < {Q_MAX} with enough users on both sides.")


def definitions(p: KeyBehaviorParams) -> dict[str, str]:
    """The key-behaviour definitions in force, worded from the params."""
    return {
        "Start": "signup day from the users table when given, else the first active day; day_n = calendar days since it.",
        "Behaviour window": f"day_n in [0, {p.window_days}).",
        "Retained": f"active on at least one day with day_n in [{p.outcome_start}, {p.outcome_end}).",
        "Eligible users": f"start day on or after the first day of the data and day {p.outcome_end - 1} on or before its last day.",
        "Candidates": f"each event type (minus excluded events: {', '.join(p.exclude) or 'none'}) done at least k times "
                      f"in the window, k = 1..{p.max_threshold}; baseline: active on at least k distinct days in the window.",
        "Lift": "retained share of users who did it ÷ retained share of the rest.",
        "Phi": "Pearson correlation of did (0/1) and retained (0/1).",
        "Intervals": "95% Wilson score intervals.",
        "p and q": "Fisher's exact two-sided p-value; Benjamini-Hochberg q-value over all candidates of the split.",
        "Supported": "at least max(25, 1% of eligible) users on each side.",
        "Activity strata": f"users with the same number of distinct active days in the first {p.window_days} days and "
                           "the same number of events (of all candidate types) in them; event counts from 32 on are "
                           "grouped in bins under 9% wide.",
        "Activity-adjusted odds ratio": "Mantel-Haenszel odds ratio of staying, doers against non-doers, within "
                                        "activity strata, with its 95% Robins-Breslow-Greenland interval; its "
                                        "Cochran-Mantel-Haenszel p-value gets a Benjamini-Hochberg q-value over the "
                                        "split's behaviour candidates.",
        "Verdicts": f"beyond activity: q < {Q_MAX}, adjusted q < {Q_MAX}, the adjusted odds ratio's interval excludes 1 "
                    f"and the ratio lies outside [{NEAR_ONE[0]}, {NEAR_ONE[1]}] on the side of the lift; activity "
                    f"proxy: q < {Q_MAX} but not beyond activity; not significant: q >= {Q_MAX}; too few users: "
                    "not supported at any threshold.",
        "Held-out check": "discovery = eligible users who started up to the day two thirds of them had started; "
                          "validation = the later ones. Stable: on validation users the same sign, at least half the phi, p < 0.05.",
        "Breadth / depth": "share of the segment's users who did it / median times per active week among them.",
    }
