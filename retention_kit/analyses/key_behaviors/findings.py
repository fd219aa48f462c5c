"""Verdicts and ranking: each event's chosen threshold, its verdict, and the ranked table.

Definitions: see :mod:`.candidates` (candidates, splits, statistics, activity strata),
:func:`judge` (threshold and verdict, written into ``key_behaviors.csv``) and :func:`findings`
(the ranked table the page shows, read from those verdicts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import NotEnoughDataError
from .spec import ACTIVE_DAYS, VERDICTS

__all__ = ["Q_MAX", "NEAR_ONE", "judge", "findings"]

#: Significance level of both q-values (crude and activity-adjusted).
Q_MAX = 0.05
#: Adjusted odds ratios in this range are "near 1": too small to call a behaviour more than activity.
NEAR_ONE = (0.8, 1.25)


def _chosen_threshold(t: pd.DataFrame, event: str, pick_split: str) -> tuple[int, bool] | None:
    """The event's k: highest phi among supported candidates of ``pick_split``; else its highest
    phi on ``all`` (unsupported); None when no k has a phi."""
    if (pick_split, event) in t.index.droplevel(2):
        cand = t.loc[(pick_split, event)]
        sup = cand[cand["supported"] & cand["phi"].notna()]
        if len(sup):
            return int(sup["phi"].idxmax()), True
    allc = t.loc[("all", event)]
    allc = allc[allc["phi"].notna()]
    if allc.empty:
        return None
    return int(allc["phi"].idxmax()), False


def judge(table: pd.DataFrame, *, q_max: float = Q_MAX) -> pd.DataFrame:
    """``table`` (:func:`.candidates.candidate_stats`' candidates) with a ``verdict`` column: on
    each event's chosen threshold row of the ``all`` split, empty (None) elsewhere.

    - **Chosen threshold**: the k with the highest phi among supported candidates on the
      ``discovery`` split (so that the ``validation`` split is a true held-out check; ``all``
      when there are no halves); an event with no supported candidate keeps its highest-phi k
      on ``all``.
    - **verdict** (values and meanings in :data:`.spec.VERDICTS`), at that row of ``all``:

      - ``baseline``: the ``__active_days__`` candidate;
      - ``too_few_users``: not supported (fewer than max(25, 1% of eligible) users on a side);
      - ``not_significant``: q_value >= ``q_max`` (Fisher, BH over the split's candidates);
      - ``beyond_activity``: the activity-adjusted link holds too: adjusted_q_value < ``q_max``
        (Cochran-Mantel-Haenszel within strata of active days and event volume, BH over the
        split's behaviour candidates), the adjusted odds ratio's 95% CI excludes 1, the ratio
        lies outside :data:`NEAR_ONE` and on the same side of 1 as the lift;
      - ``activity_proxy``: significant, but not beyond activity (including when no stratum
        has both doers and non-doers: then the behaviour is fixed by activity).

    Examples
    --------
    >>> from retention_kit.analyses.key_behaviors.candidates import candidate_stats
    >>> table, _ = candidate_stats(log)  # candidate_stats calls judge
    >>> chosen = table[table.verdict.notna()]
    >>> bool((chosen.split == "all").all()), chosen.event.is_unique, len(chosen) == table.event.nunique()
    (True, True, True)
    >>> chosen.set_index("event").loc[["invite_friend", "view_note", "app_open"], "verdict"].tolist()
    ['beyond_activity', 'activity_proxy', 'activity_proxy']
    """
    out = table.drop(columns=["verdict"], errors="ignore").reset_index(drop=True)
    t = out.reset_index().set_index(["split", "event", "threshold"]).sort_index()
    splits = set(t.index.get_level_values(0))
    pick_split = "discovery" if {"discovery", "validation"} <= splits else "all"
    verdict = np.full(len(out), None, dtype=object)
    lo_near, hi_near = NEAR_ONE
    for event in sorted(t.loc["all"].index.get_level_values(0).unique()):
        chosen = _chosen_threshold(t, event, pick_split)
        if chosen is None:
            continue
        k, supported = chosen
        r = t.loc[("all", event, k)]
        if event == ACTIVE_DAYS:
            v = "baseline"
        elif not (supported and bool(r["supported"])):
            v = "too_few_users"
        elif not r["q_value"] < q_max:
            v = "not_significant"
        else:
            orr, lo, hi, lift = r["adjusted_odds_ratio"], r["adjusted_or_low"], r["adjusted_or_high"], r["lift"]
            up = orr > hi_near and lo > 1 and not lift < 1
            down = orr < lo_near and hi < 1 and lift < 1
            v = "beyond_activity" if r["adjusted_q_value"] < q_max and (up or down) else "activity_proxy"
        verdict[int(r["index"])] = v
    assert set(verdict[verdict != None]) <= set(VERDICTS)  # noqa: E711
    return out.assign(verdict=verdict)


def findings(table: pd.DataFrame) -> pd.DataFrame:
    """One row per event at its chosen threshold, ranked: the report's ranked table, read from the
    ``verdict`` column that :func:`judge` wrote into ``table``.

    - Headline figures (n_did, retained_did and its CI, lift, phi, q_value, adjusted odds ratio,
      adjusted q-value) are on ``all`` eligible users at that k; ``lift_discovery``,
      ``phi_discovery``, ``lift_validation``, ``phi_validation``, ``p_validation``,
      ``supported_validation`` on the two halves.
    - **stable**: on validation users the candidate is supported, its phi has the same sign and
      at least half the size as on discovery users, and its p-value is below 0.05.
    - ``significant`` (supported and q < 0.05) and ``activity_proxy`` (the verdict) as booleans;
      ``direction``: ``with staying`` (lift >= 1) or ``with leaving``.
    - Rank: the baseline first (rank 0, the reference), then ``beyond_activity`` by the bound of
      the adjusted odds ratio nearer 1 in log terms (the most robust link beyond activity first),
      then proxies, not significant and too few users, each by phi.

    Examples
    --------
    >>> from retention_kit.analyses.key_behaviors.candidates import candidate_stats
    >>> table, counts = candidate_stats(log)
    >>> f = findings(table)
    >>> len(f) == table.event.nunique(), f.verdict.iloc[0]
    (True, 'baseline')
    >>> f[["event", "threshold", "verdict"]].head(2)  # the demo's planted effect comes right after the baseline
                 event  threshold          verdict
    0  __active_days__          2         baseline
    1    invite_friend          3  beyond_activity
    """
    if "verdict" not in table.columns:
        raise ValueError("findings: the table has no verdict column; pass candidate_stats' table")
    t = table.set_index(["split", "event", "threshold"]).sort_index()
    chosen = table[table["verdict"].notna() & (table["split"] == "all")]
    rows = []
    for _, c in chosen.iterrows():
        event, k = c["event"], int(c["threshold"])
        row = c.to_dict()
        for s in ("discovery", "validation"):
            if (s, event, k) in t.index:
                h = t.loc[(s, event, k)]
                row.update({f"lift_{s}": h["lift"], f"phi_{s}": h["phi"], f"p_{s}": h["p_value"],
                            f"supported_{s}": bool(h["supported"])})
            else:
                row.update({f"lift_{s}": np.nan, f"phi_{s}": np.nan, f"p_{s}": np.nan, f"supported_{s}": False})
        rows.append(row)
    if not rows:
        raise NotEnoughDataError("no candidate behaviour has users on both sides")
    f = pd.DataFrame(rows)
    f["supported"] = f["supported"].astype(bool) & (f["verdict"] != "too_few_users")
    pd_, pv = f["phi_discovery"], f["phi_validation"]
    f["stable"] = (f["supported_validation"] & (np.sign(pv) == np.sign(pd_)) & (pv.abs() >= 0.5 * pd_.abs())
                   & (f["p_validation"] < 0.05))
    f["significant"] = f["supported"] & (f["q_value"] < Q_MAX)
    f["activity_proxy"] = f["verdict"] == "activity_proxy"
    f["direction"] = np.where(f["lift"] < 1, "with leaving", "with staying")
    order = {v: i for i, v in enumerate(VERDICTS)}
    f["_g"] = f["verdict"].map(order)
    # for an effect with leaving the robust bound is the high one: rank by distance from 1
    with np.errstate(divide="ignore", invalid="ignore"):
        robust = np.where(f["adjusted_odds_ratio"] >= 1, np.log(f["adjusted_or_low"]), -np.log(f["adjusted_or_high"]))
    f["_key"] = np.where(f["verdict"] == "beyond_activity", np.nan_to_num(robust, nan=-np.inf), f["phi"].fillna(-np.inf))
    f = f.sort_values(["_g", "_key", "event"], ascending=[True, False, True], kind="stable").drop(columns=["_g", "_key"])
    # the baseline sorts first and takes rank 0, so behaviours are ranked from 1 either way
    f.insert(0, "rank", np.arange(len(f)) + int(not (f["verdict"] == "baseline").any()))
    cols = ["rank", "event", "threshold", "verdict", "direction", "supported", "n_eligible", "n_did", "share_did", "retained_did",
            "ci_did_low", "ci_did_high", "retained_not", "ci_not_low", "ci_not_high", "lift", "phi", "precision",
            "recall", "p_value", "q_value", "adjusted_odds_ratio", "adjusted_or_low", "adjusted_or_high",
            "adjusted_p_value", "adjusted_q_value", "lift_discovery", "phi_discovery", "lift_validation", "phi_validation",
            "p_validation", "supported_validation", "stable", "significant", "activity_proxy", "window_days",
            "outcome_start", "outcome_end"]
    return f[cols].reset_index(drop=True)
