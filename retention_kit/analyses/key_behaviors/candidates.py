"""Key-behaviour discovery: which early behaviours go with users staying.

Definitions (calendar days in the product's timezone):

- **Start**: a user's signup day from the users table when given, else their first active day
  (:meth:`EventLog.starts`). ``day_n`` = days since the start day (0 = the start day).
- **Behaviour window**: ``day_n`` in ``[0, window_days)``.
- **Outcome**: *retained* = active on at least one day with ``day_n`` in
  ``[outcome_start, outcome_end)``. The outcome window must begin at or after the behaviour window
  ends (else :class:`ParamsError`): an overlap would count retention as its own cause.
- **Eligible users**: start day on or after the first day of the data and day
  ``outcome_end - 1`` on or before its last day (both windows fully observed). Others are left
  out and counted.
- **Candidates**: each event type (after ``data.exclude_events`` and ``key_behaviors.exclude``)
  and threshold k in 1..max_threshold: *did* = at least k events of that type in the behaviour
  window. Baseline candidate ``__active_days__``: active on at least k distinct days in the window.
- **Per candidate** (cells a = did & retained, b = did & not, c = not & retained, d = not & not):
  n_did, share_did = n_did / n_eligible, retained_did = a / n_did, retained_not = c / (n - n_did),
  lift = retained_did / retained_not, phi, precision (= retained_did), recall = a / (a + c),
  Wilson 95% intervals, Fisher's exact two-sided p-value, Benjamini-Hochberg q-value over all
  candidates of the same split, and the activity-adjusted (Mantel-Haenszel) odds ratio within
  strata of distinct active days in the window. ``supported``: at least max(25, 1% of eligible)
  users on each side (did and not).
- **Splits**: ``all`` eligible users; ``discovery`` = those who started on or before the day at
  which the cumulative count of eligible users (by start day) reaches two thirds; ``validation``
  = the later ones.

Counting happens in the engine: per (user, event) counts within the window are aggregated to a
grid of (split, event, count capped at max_threshold, active-day stratum) -> users, retained, and
cumulative sums over the count give every ">= k" candidate at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from pydantic import ValidationError

from ...core import stats
from ...core.periods import day_index, period_index_py
from ...data.engine import fetch
from ...data.log import EventLog
from ...data.params import KeyBehaviorParams
from ...errors import NotEnoughDataError, ParamsError
from .spec import SPEC

__all__ = ["ACTIVE_DAYS", "SPLITS", "check_windows", "eligible_users", "min_support", "candidate_stats"]

ACTIVE_DAYS = "__active_days__"
SPLITS = ("all", "discovery", "validation")
MIN_SUPPORT = 25


def check_windows(*, window_days: int, outcome_start: int, outcome_end: int, max_threshold: int = 10) -> None:
    """Raise :class:`ParamsError` if the windows are invalid (e.g. outcome overlaps behaviour)."""
    try:
        KeyBehaviorParams(window_days=window_days, outcome_start=outcome_start, outcome_end=outcome_end,
                          max_threshold=max_threshold)
    except ValidationError as e:
        msgs = "; ".join(err["msg"].removeprefix("Value error, ") for err in e.errors())
        raise ParamsError(f"key_behaviors: {msgs}") from None


def min_support(n_eligible: int | np.ndarray) -> np.ndarray:
    """Smallest number of users needed on each side of a candidate: max(25, ceil(1% of eligible))."""
    return np.maximum(MIN_SUPPORT, np.ceil(0.01 * np.asarray(n_eligible, dtype="float64")))


def eligible_users(log: EventLog, *, window_days: int = 7, outcome_start: int = 14, outcome_end: int = 28) -> tuple[ir.Table, dict[str, int]]:
    """Eligible users as an engine table, with the split and outcome, and the counts around it.

    Returns
    -------
    (table, counts): table columns ``user_id``, ``start_day``, ``start_i`` (day index), ``split``
    (discovery/validation), ``retained`` (bool), ``active_w`` (distinct active days in the
    behaviour window); counts ``users`` (all users with a start), ``eligible``, ``ineligible``,
    ``discovery``, ``validation``, ``retained`` and ``cutoff`` (last discovery start day, as a
    day index).

    Raises
    ------
    NotEnoughDataError
        When no user is eligible (the data is shorter than ``outcome_end`` days).

    Examples
    --------
    >>> users, counts = eligible_users(log, window_days=7, outcome_start=14, outcome_end=28)
    >>> users.columns
    ('user_id', 'start_day', 'start_i', 'active_w', 'split', 'retained')
    >>> users.count().execute() == counts["eligible"] == counts["discovery"] + counts["validation"]
    True
    >>> counts["eligible"] + counts["ineligible"] == counts["users"]
    True
    """
    check_windows(window_days=window_days, outcome_start=outcome_start, outcome_end=outcome_end)
    table, counts = log.memoized(f"behaviors.eligible_users:{window_days}:{outcome_start}:{outcome_end}",
                                 lambda: _eligible(log, window_days, outcome_start, outcome_end))
    return table, dict(counts)


def _eligible(log: EventLog, window_days: int, outcome_start: int, outcome_end: int) -> tuple[ir.Table, dict[str, int]]:
    first_i = period_index_py(log.first_day, "day")
    last_i = period_index_py(log.last_day, "day")
    st = log.starts()
    st = st.mutate(start_i=day_index(st.start_day))
    ok = (st.start_i >= first_i) & (st.start_i + (outcome_end - 1) <= last_i)
    el = st.filter(ok)
    per_day = fetch(el.group_by("start_i").aggregate(users=el.count()), sort=["start_i"])
    n_all = int(fetch(st.aggregate(users=st.count()))["users"].iloc[0])
    n_el = int(per_day["users"].sum())
    if n_el == 0:
        raise NotEnoughDataError(
            f"no user is eligible: a user needs {outcome_end} days of data after their start day "
            f"(outcome window days {outcome_start}-{outcome_end - 1}), and the data runs from "
            f"{log.first_day:%Y-%m-%d} to {log.last_day:%Y-%m-%d}"
        )
    cum = per_day["users"].cumsum().to_numpy()
    cutoff = int(per_day["start_i"].iloc[int(np.searchsorted(cum, 2 * n_el / 3 - 1e-9))])
    a = log.active_days()
    j = a.join(el.select("user_id", "start_i"), "user_id")
    j = j.mutate(dn=day_index(j.day) - j.start_i)
    per_user = j.group_by("user_id").aggregate(
        active_w=((j.dn >= 0) & (j.dn < window_days)).cast("int64").sum(),
        retained_i=((j.dn >= outcome_start) & (j.dn < outcome_end)).cast("int64").max(),
    )
    u = el.left_join(per_user, "user_id").select(el.user_id, el.start_day, el.start_i, "active_w", "retained_i")
    # cached: the candidate grid, the baseline, the totals and the segments all start from it
    u = u.mutate(
        split=ibis.ifelse(u.start_i <= cutoff, "discovery", "validation"),
        retained=u.retained_i.fill_null(0) > 0,
        active_w=u.active_w.fill_null(0),
    ).drop("retained_i").cache()
    tot = fetch(u.group_by("split").aggregate(users=u.count(), retained=u.retained.cast("int64").sum()))
    by = dict(zip(tot["split"], tot["users"]))
    counts = {"users": n_all, "eligible": n_el, "ineligible": n_all - n_el, "discovery": int(by.get("discovery", 0)),
              "validation": int(by.get("validation", 0)), "retained": int(tot["retained"].sum()), "cutoff": cutoff}
    return u, counts


def window_counts(log: EventLog, users: ir.Table, *, window_days: int, exclude: Sequence[str],
                   events: Sequence[str] | None = None) -> ir.Table:
    """Per (user, event): ``cnt`` = events of that type in the behaviour window (engine table)."""
    d = log.daily
    if exclude:
        d = d.filter(~d.event.isin(list(exclude)))
    if events is not None:
        d = d.filter(d.event.isin(list(events)))
    j = d.join(users, "user_id")
    j = j.mutate(dn=day_index(j.day) - j.start_i)
    j = j.filter((j.dn >= 0) & (j.dn < window_days))
    return j.group_by(["user_id", "event"]).aggregate(cnt=j.n.sum())


def candidate_grid(log: EventLog, users: ir.Table, *, window_days: int, max_threshold: int, exclude: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The small tables everything else is computed from.

    grid: split, event, c (count capped at max_threshold, >= 1), s (active-day stratum), users,
    retained. totals: split, s, users, retained (all eligible users, including those with no
    events of any candidate type).
    """
    k = max_threshold
    uc = window_counts(log, users, window_days=window_days, exclude=exclude)
    uc = uc.join(users.select("user_id", "split", "retained", "active_w"), "user_id")
    uc = uc.mutate(c=ibis.least(uc.cnt, k).cast("int64"))
    g = uc.group_by(["split", "event", "c", uc.active_w.name("s")]).aggregate(
        users=uc.count(), retained=uc.retained.cast("int64").sum())
    base = users.filter(users.active_w > 0)
    base = base.mutate(event=ibis.literal(ACTIVE_DAYS), c=ibis.least(base.active_w, k).cast("int64"))
    gb = base.group_by(["split", "event", "c", base.active_w.name("s")]).aggregate(
        users=base.count(), retained=base.retained.cast("int64").sum())
    grid = fetch(g.union(gb), sort=["split", "event", "c", "s"])
    totals = fetch(users.group_by(["split", users.active_w.name("s")]).aggregate(
        users=users.count(), retained=users.retained.cast("int64").sum()), sort=["split", "s"])
    return grid, totals


def stratified_cells(grid: pd.DataFrame, totals: pd.DataFrame, split: str, max_threshold: int) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """2x2 cells per (event, k, stratum) for one split ('all' sums both halves).

    Returns events and arrays a, b, c, d of shape (events, max_threshold, strata).
    """
    if split != "all":
        grid = grid[grid["split"] == split]
        totals = totals[totals["split"] == split]
    strata = np.sort(totals["s"].unique())
    events = sorted(grid["event"].unique())
    e_ix = {e: i for i, e in enumerate(events)}
    s_ix = {s: i for i, s in enumerate(strata)}
    u = np.zeros((len(events), max_threshold + 1, len(strata)))
    r = np.zeros_like(u)
    ei = grid["event"].map(e_ix).to_numpy()
    ci = grid["c"].to_numpy()
    si = grid["s"].map(s_ix).to_numpy()
    np.add.at(u, (ei, ci, si), grid["users"].to_numpy())
    np.add.at(r, (ei, ci, si), grid["retained"].to_numpy())
    # users with at least k events = sum over capped counts c >= k
    did = np.cumsum(u[:, ::-1, :], axis=1)[:, ::-1, :][:, 1:, :]
    a = np.cumsum(r[:, ::-1, :], axis=1)[:, ::-1, :][:, 1:, :]
    t_u = np.zeros(len(strata))
    t_r = np.zeros(len(strata))
    np.add.at(t_u, totals["s"].map(s_ix).to_numpy(), totals["users"].to_numpy())
    np.add.at(t_r, totals["s"].map(s_ix).to_numpy(), totals["retained"].to_numpy())
    b = did - a
    c = t_r[None, None, :] - a
    d = (t_u - t_r)[None, None, :] - b
    return events, a, b, c, d


def stats_frame(events: list[str], a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, *,
                 adjusted: bool = True) -> pd.DataFrame:
    """Per-candidate statistics from stratified cells (see the module docstring)."""
    ne, nk, _ = a.shape
    A, B, C, D = (x.sum(axis=-1).ravel() for x in (a, b, c, d))
    n = A + B + C + D
    n_did = A + B
    n_not = C + D
    with np.errstate(divide="ignore", invalid="ignore"):
        r_did = np.where(n_did > 0, A / n_did, np.nan)
        r_not = np.where(n_not > 0, C / n_not, np.nan)
        out = pd.DataFrame({
            "event": np.repeat(events, nk),
            "threshold": np.tile(np.arange(1, nk + 1), ne),
            "n_eligible": n.astype("int64"),
            "n_did": n_did.astype("int64"),
            "n_not": n_not.astype("int64"),
            "share_did": np.where(n > 0, n_did / n, np.nan),
            "retained_did": r_did,
            "retained_not": r_not,
            "lift": np.where(r_not > 0, r_did / r_not, np.nan),
            "phi": stats.phi(A, B, C, D),
            "precision": r_did,
            "recall": np.where(A + C > 0, A / (A + C), np.nan),
            "odds_ratio": np.where(B * C > 0, A * D / (B * C), np.nan),
        })
    out["ci_did_low"], out["ci_did_high"] = stats.wilson_interval(A, n_did)
    out["ci_not_low"], out["ci_not_high"] = stats.wilson_interval(C, n_not)
    out["p_value"] = stats.fisher_exact_p(A, B, C, D)
    out["q_value"] = stats.bh_qvalues(out["p_value"].to_numpy())
    if adjusted:
        mh, lo, hi = stats.mantel_haenszel(*(x.reshape(ne * nk, -1) for x in (a, b, c, d)))
        out["adjusted_odds_ratio"], out["adjusted_or_low"], out["adjusted_or_high"] = mh, lo, hi
    m = min_support(n)
    out["supported"] = (n_did >= m) & (n_not >= m)
    return out


def candidate_stats(log: EventLog, *, window_days: int = 7, outcome_start: int = 14, outcome_end: int = 28,
                    max_threshold: int = 10, exclude: Sequence[str] = ()) -> tuple[pd.DataFrame, dict[str, int]]:
    """Every candidate (event x threshold, plus the ``__active_days__`` baseline) on every split.

    Definitions in the module docstring. One row per (split, event, threshold) with the columns of
    the ``key_behaviors.csv`` export: event, threshold, window_days, outcome_start, outcome_end,
    split (all|discovery|validation), n_eligible, n_did, share_did, retained_did, retained_not,
    lift, phi, ci_did_low, ci_did_high, ci_not_low, ci_not_high, p_value, q_value (BH within the
    split), adjusted_odds_ratio (Mantel-Haenszel within strata of distinct active days in the
    window; NaN for the baseline, which is activity itself), plus n_not, precision, recall,
    odds_ratio, adjusted_or_low/high and supported.

    Returns
    -------
    (table, counts) where counts are those of :func:`eligible_users`.

    Examples
    --------
    >>> table, counts = candidate_stats(log, window_days=7, outcome_start=14, outcome_end=28)
    >>> sorted(table.split.unique()), "__active_days__" in set(table.event)
    (['all', 'discovery', 'validation'], True)
    >>> bool((table.n_did + table.n_not == table.n_eligible).all())
    True
    >>> bool((table.query("split == 'all'").n_eligible == counts["eligible"]).all())
    True
    """
    users, counts = eligible_users(log, window_days=window_days, outcome_start=outcome_start, outcome_end=outcome_end)
    grid, totals = candidate_grid(log, users, window_days=window_days, max_threshold=max_threshold, exclude=exclude)
    frames = []
    for split in SPLITS:
        if split != "all" and not (totals["split"] == split).any():
            continue
        events, a, b, c, d = stratified_cells(grid, totals, split, max_threshold)
        if not events:
            continue
        f = stats_frame(events, a, b, c, d)
        f.loc[f["event"] == ACTIVE_DAYS, ["adjusted_odds_ratio", "adjusted_or_low", "adjusted_or_high"]] = np.nan
        frames.append(f.assign(split=split))
    if not frames:
        raise NotEnoughDataError("no eligible user did anything in the behaviour window")
    out = pd.concat(frames, ignore_index=True)
    out = out.assign(window_days=window_days, outcome_start=outcome_start, outcome_end=outcome_end)
    return SPEC.export("key_behaviors").frame(out), counts
