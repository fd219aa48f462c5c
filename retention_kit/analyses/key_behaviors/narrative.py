"""What the key-behaviour report says in words: the summary, each finding, the activity proxies,
the baseline, and the definitions in force."""

from __future__ import annotations

import pandas as pd

from ...core.text import Raw, code, fill, num, pct
from ...data.params import KeyBehaviorParams
from .candidates import ACTIVE_DAYS

__all__ = ["summary", "finding", "proxies", "baseline", "definitions"]


def summary(table: pd.DataFrame, found: pd.DataFrame, counts: dict[str, int], p: KeyBehaviorParams) -> Raw:
    """The "In short" paragraph: who is eligible, how many retained, what was tested and found."""
    return fill(
        "**In short.** Of {users} users, **{eligible}** are eligible (their first {oe} days lie in the data; "
        "{inel} started too late or before the data and are left out). {ret} of them were active again in days "
        "{o1}-{o2}. {n_cand} candidate behaviours were tested ({ev} event types x thresholds 1-{K}, plus "
        "active days); {n_beyond} go with staying or leaving beyond overall activity, {n_proxy} only mark "
        "that the user was active.",
        users=num(counts["users"]), eligible=num(counts["eligible"]), oe=p.outcome_end,
        inel=num(counts["ineligible"]), ret=pct(counts["retained"] / counts["eligible"]),
        o1=p.outcome_start, o2=p.outcome_end - 1, n_cand=num((table["split"] == "all").sum()),
        ev=num(table.loc[table["event"] != ACTIVE_DAYS, "event"].nunique()), K=p.max_threshold,
        n_beyond=int((found["verdict"] == "beyond activity").sum()),
        n_proxy=int((found["verdict"] == "activity proxy").sum()))


def finding(r: pd.Series, p: KeyBehaviorParams) -> Raw:
    """One finding (a row of :func:`.findings.findings`) in plain words."""
    held = (f"the effect holds on later users (lift {r['lift_discovery']:.1f} on earlier vs "
            f"{r['lift_validation']:.1f} on later users)" if r["stable"] else
            f"it does not clearly hold on later users (lift {r['lift_discovery']:.1f} on earlier vs "
            f"{r['lift_validation']:.1f} on later users)")
    adj = (f"it is largely explained by overall activity (activity-adjusted odds ratio "
           f"{r['adjusted_odds_ratio']:.2f} [{r['adjusted_or_low']:.2f}, {r['adjusted_or_high']:.2f}])"
           if r["activity_proxy"] else
           f"it is not explained by overall activity (activity-adjusted odds ratio "
           f"{r['adjusted_odds_ratio']:.1f} [{r['adjusted_or_low']:.1f}, {r['adjusted_or_high']:.1f}])")
    return fill(
        "- Users who did {event} {times} in their first {w} days: **{rd}** [{rdl}, {rdh}] "
        "active in days {o1}-{o2}, against **{rn}** [{rnl}, {rnh}] for the rest "
        "(n = {n} of {N}; lift {lift}, phi {phi}, q {q}); {held}, and {adj}.",
        event=code(r["event"]),
        times="at least once" if r["threshold"] == 1 else f"at least {int(r['threshold'])} times",
        w=p.window_days,
        rd=pct(r["retained_did"]), rdl=pct(r["ci_did_low"]), rdh=pct(r["ci_did_high"]),
        rn=pct(r["retained_not"]), rnl=pct(r["ci_not_low"]), rnh=pct(r["ci_not_high"]),
        o1=p.outcome_start, o2=p.outcome_end - 1, n=num(r["n_did"]), N=num(r["n_eligible"]),
        lift=num(r["lift"], 1), phi=num(r["phi"], 2), q=f"{r['q_value']:.1g}", held=held, adj=adj,
    )


def proxies(found: pd.DataFrame) -> Raw | None:
    """The sentence naming the activity proxies, or None when there is none."""
    px = found[found["verdict"] == "activity proxy"]
    if not len(px):
        return None
    return fill("**Activity proxies:** {names} {verb} with staying (lift {lifts}) only because the users who "
                "do them are active on more days: among users with the same number of active days the "
                "effect is near 1. Doing more of them is not a lever by itself.",
                names=", ".join(px["event"].head(6)), verb="goes" if len(px) == 1 else "go",
                lifts=", ".join(f"{x:.1f}" for x in px["lift"].head(6)))


def baseline(found: pd.DataFrame, p: KeyBehaviorParams) -> Raw | None:
    """The activity baseline in words, or None when it was not computed."""
    base = found[found["verdict"] == "baseline"]
    if not len(base):
        return None
    b = base.iloc[0]
    return fill("**Baseline:** users active on at least {k} of their first {w} days: {rd} retained against "
                "{rn} for the rest (lift {lift}, phi {phi}). A behaviour is interesting when it adds to this.",
                k=int(b["threshold"]), w=p.window_days, rd=pct(b["retained_did"]),
                rn=pct(b["retained_not"]), lift=num(b["lift"], 1), phi=num(b["phi"], 2))


NO_FINDING = ("No behaviour goes with retention beyond overall activity at q < 0.05 with enough users "
              "on both sides.")


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
        "Activity-adjusted odds ratio": "Mantel-Haenszel odds ratio within strata of distinct active days in the "
                                        "window (0.5 added to strata with an empty cell); near 1 = activity proxy.",
        "Held-out check": "discovery = eligible users who started up to the day two thirds of them had started; "
                          "validation = the later ones. Stable: on validation users the same sign, at least half the phi, p < 0.05.",
        "Breadth / depth": "share of the segment's users who did it / median times per active week among them.",
    }
