"""The window scan: how the link of "did X at least k times in the first w days" with staying
changes with the window w (the "7 friends in 10 days" search).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import pandas as pd

from ...data.engine import fetch
from ...data.log import EventLog
from ...data.params import FilteredCandidate
from ...errors import NotEnoughDataError, ParamsError
from .candidates import (ACTIVE_DAYS, eligible_users, filtered_candidates, filtered_window_counts, stats_frame,
                         stratified_cells, window_counts)
from ...core.portable import count_true

__all__ = ["window_scan"]


def window_scan(log: EventLog, *, events: Sequence[str], windows: Sequence[int] = (1, 3, 7, 10, 14),
                outcome_start: int = 14, outcome_end: int = 28, max_threshold: int = 10,
                exclude: Sequence[str] = (),
                candidates: Sequence[FilteredCandidate | Mapping[str, Any]] = ()) -> pd.DataFrame:
    """Phi of "did the event at least k times in the first w days" for each window w and k.

    ``events`` may name filtered candidates of ``candidates`` (``key_behaviors.candidates``):
    those count only their events that pass the filter, as in :func:`.candidates.candidate_stats`.

    The outcome window keeps its length but starts no earlier than the longest scanned window:
    ``[max(outcome_start, max(windows)), that + (outcome_end - outcome_start))``, so every window
    is compared against the same outcome and the same eligible users (all splits together).

    Returns one row per (event, window_days, threshold): n_eligible, n_did, share_did,
    retained_did, retained_not, lift, phi, supported, outcome_start, outcome_end.

    Examples
    --------
    >>> scan = window_scan(log, events=["invite_friend"])
    >>> scan.window_days.unique().tolist()
    [1, 3, 7, 10, 14]
    >>> scan.n_eligible.nunique(), scan.outcome_start.unique().tolist(), scan.outcome_end.unique().tolist()
    (1, [14], [28])
    >>> longer = window_scan(log, events=["invite_friend"], windows=(7, 21))
    >>> longer.outcome_start.unique().tolist(), longer.outcome_end.unique().tolist()  # moved past day 21
    ([21], [35])
    """
    if not windows or min(windows) <= 0:
        raise ParamsError("key_behaviors.window_scan: give positive window lengths in days")
    events = [e for e in events if e != ACTIVE_DAYS and e not in set(exclude)]
    filters = [f for f in filtered_candidates(log, candidates, exclude=exclude) if f[0] in set(events)]
    plain = [e for e in events if e not in {name for name, _ in filters}]
    if not events:
        raise NotEnoughDataError("no behaviour to scan")
    o_start = max(outcome_start, max(windows))
    o_end = o_start + (outcome_end - outcome_start)
    users, _ = eligible_users(log, window_days=max(windows), outcome_start=o_start, outcome_end=o_end)
    u = users.select("user_id", "start_i", "retained")
    parts = []
    for w in sorted(set(windows)):
        uc = window_counts(log, u, window_days=w, exclude=exclude, events=plain) if plain else None
        fc = filtered_window_counts(log, u, window_days=w, filters=filters)
        if uc is not None and fc is not None:
            uc = uc.select("user_id", uc.event.cast("string").name("event"), uc.cnt.cast("int64").name("cnt")).union(fc)
        uc = fc if uc is None else uc
        uc = uc.join(u.select("user_id", "retained"), "user_id")
        uc = uc.mutate(c=ibis.least(uc.cnt, max_threshold).cast("int64"))
        parts.append(uc.group_by(["event", "c"]).aggregate(users=uc.count(), retained=count_true(uc.retained))
                     .mutate(w=ibis.literal(w, "int64")))
    expr = parts[0]
    for p in parts[1:]:
        expr = expr.union(p)
    grid = fetch(expr, sort=["w", "event", "c"])
    tot = fetch(u.aggregate(users=u.count(), retained=count_true(u.retained))).assign(split="all")
    frames = []
    for w in sorted(set(windows)):
        g = grid[grid["w"] == w].assign(split="all")
        ev, a, b, c, d = stratified_cells(g, tot, "all", max_threshold, strata=(), include=[n for n, _ in filters])
        if ev:
            frames.append(stats_frame(ev, a, b, c, d, adjusted=False).assign(window_days=w))
    out = pd.concat(frames, ignore_index=True).assign(outcome_start=o_start, outcome_end=o_end)
    cols = ["event", "window_days", "threshold", "n_eligible", "n_did", "share_did", "retained_did", "retained_not",
            "lift", "phi", "supported", "outcome_start", "outcome_end"]
    return out[cols]
