"""Ranking the candidates: one row per event at its best threshold, with a verdict.

Definitions: see :mod:`.candidates` (candidates, splits, statistics) and :func:`findings`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import NotEnoughDataError
from .candidates import ACTIVE_DAYS

__all__ = ["findings"]


def findings(table: pd.DataFrame, *, q_max: float = 0.05) -> pd.DataFrame:
    """One row per event at its best threshold, ranked; the report's ranked table.

    - **Best threshold**: the k with the highest phi among supported candidates on the
      ``discovery`` split (so that the ``validation`` split is a true held-out check); events with
      no supported candidate keep their highest-phi k on ``all`` and ``supported`` False.
    - Headline figures (n_did, retained_did and its CI, lift, phi, q_value, adjusted odds ratio)
      are on ``all`` eligible users at that k; ``lift_discovery``, ``phi_discovery``,
      ``lift_validation``, ``phi_validation``, ``p_validation`` on the two halves.
    - **stable**: on validation users the candidate is supported, its phi has the same sign and
      at least half the size as on discovery users, and its p-value is below 0.05.
    - **activity_proxy**: significant (q < ``q_max``) and the activity-adjusted odds ratio is
      near 1 (its 95% CI includes 1, or it lies within [0.8, 1.25]), i.e. the link is no more
      than "was active".
    - **verdict**: ``baseline`` (``__active_days__``), ``beyond activity`` (significant, not a
      proxy), ``activity proxy``, ``not significant`` or ``too few users``. Rank: beyond activity
      first by the lower bound of the adjusted odds ratio (the most robust link beyond activity
      first), then proxies and the rest by phi; the baseline comes first as the reference.
      ``direction``: ``with staying`` (lift >= 1) or ``with leaving``.

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
    1    invite_friend          3  beyond activity
    """
    t = table.set_index(["split", "event", "threshold"]).sort_index()
    has_halves = "discovery" in t.index.get_level_values(0) and "validation" in t.index.get_level_values(0)
    pick_split = "discovery" if has_halves else "all"
    rows = []
    for event in sorted(t.loc["all"].index.get_level_values(0).unique()):
        cand = t.loc[(pick_split, event)] if (pick_split, event) in t.index.droplevel(2) else None
        sup = cand[cand["supported"] & cand["phi"].notna()] if cand is not None else pd.DataFrame()
        if len(sup):
            k, supported = int(sup["phi"].idxmax()), True
        else:
            allc = t.loc[("all", event)]
            allc = allc[allc["phi"].notna()]
            if allc.empty:
                continue
            k, supported = int(allc["phi"].idxmax()), False
        row = t.loc[("all", event, k)].to_dict()
        row.update(event=event, threshold=k, supported=supported and bool(row["supported"]))
        for s in ("discovery", "validation"):
            if has_halves and (s, event, k) in t.index:
                h = t.loc[(s, event, k)]
                row.update({f"lift_{s}": h["lift"], f"phi_{s}": h["phi"], f"p_{s}": h["p_value"], f"supported_{s}": bool(h["supported"])})
            else:
                row.update({f"lift_{s}": np.nan, f"phi_{s}": np.nan, f"p_{s}": np.nan, f"supported_{s}": False})
        rows.append(row)
    if not rows:
        raise NotEnoughDataError("no candidate behaviour has users on both sides")
    f = pd.DataFrame(rows)
    pd_, pv = f["phi_discovery"], f["phi_validation"]
    f["stable"] = (f["supported_validation"] & (np.sign(pv) == np.sign(pd_)) & (pv.abs() >= 0.5 * pd_.abs())
                   & (f["p_validation"] < 0.05))
    sig = f["supported"] & (f["q_value"] < q_max)
    near_one = ((f["adjusted_or_low"] <= 1) & (f["adjusted_or_high"] >= 1)) | f["adjusted_odds_ratio"].between(0.8, 1.25)
    f["significant"] = sig
    f["activity_proxy"] = sig & near_one & (f["event"] != ACTIVE_DAYS)
    f["verdict"] = np.select(
        [f["event"] == ACTIVE_DAYS, ~f["supported"], ~sig, f["activity_proxy"]],
        ["baseline", "too few users", "not significant", "activity proxy"], "beyond activity")
    f["direction"] = np.where(f["lift"] < 1, "with leaving", "with staying")
    order = {"baseline": 0, "beyond activity": 1, "activity proxy": 2, "not significant": 3, "too few users": 4}
    f["_g"] = f["verdict"].map(order)
    f["_key"] = np.where(f["verdict"] == "beyond activity", f["adjusted_or_low"].fillna(-np.inf), f["phi"].fillna(-np.inf))
    f = f.sort_values(["_g", "_key", "event"], ascending=[True, False, True], kind="stable").drop(columns=["_g", "_key"])
    # the baseline sorts first and takes rank 0, so behaviours are ranked from 1 either way
    f.insert(0, "rank", np.arange(len(f)) + int(not (f["verdict"] == "baseline").any()))
    cols = ["rank", "event", "threshold", "verdict", "direction", "supported", "n_eligible", "n_did", "share_did", "retained_did",
            "ci_did_low", "ci_did_high", "retained_not", "ci_not_low", "ci_not_high", "lift", "phi", "precision",
            "recall", "p_value", "q_value", "adjusted_odds_ratio", "adjusted_or_low", "adjusted_or_high",
            "lift_discovery", "phi_discovery", "lift_validation", "phi_validation", "p_validation", "stable",
            "significant", "activity_proxy", "window_days", "outcome_start", "outcome_end"]
    return f[cols].reset_index(drop=True)
