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
  candidates of the same split. ``supported``: at least max(25, 1% of eligible) users on each
  side (did and not).
- **Filtered candidates** (``key_behaviors.candidates``, :func:`filtered_candidates`): an event
  type counted only on the events whose properties pass a filter (``{event: purchase, where:
  {amount: {gte: 50}}}``), under its own name (default ``purchase (amount ≥ 50)``), judged at
  every threshold exactly like an event type, counted from :meth:`EventLog.filtered_daily`.
- **Activity strata**: users with the same number of distinct active days in the window and the
  same *event volume* (events of all candidate types in the window, counted exactly up to 31 and
  in bins of 1/8 of a doubling, under 9% wide, from 32 on: :func:`volume_stratum`). Filtered
  candidates add nothing to the volume: their events are already counted under their event type,
  and counting them twice would make a user's volume depend on which filters the params list.
- **Activity-adjusted** figures compare doers with non-doers within activity strata: the
  Mantel-Haenszel odds ratio with its Robins-Breslow-Greenland 95% CI
  (``adjusted_odds_ratio``, ``adjusted_or_low/high``), the Cochran-Mantel-Haenszel p-value
  (``adjusted_p_value``) and its Benjamini-Hochberg q-value over the split's behaviour candidates
  (``adjusted_q_value``). Empty for the baseline, which is activity itself. Why both days and
  volume: with days alone, "did X at least k times" measures how many events a user has on
  those days, so any frequent event passes for a behaviour (see docs/key_behaviors.md, *The
  null*).
- **Splits**: ``all`` eligible users; ``discovery`` = those who started on or before the day at
  which the cumulative count of eligible users (by start day) reaches two thirds; ``validation``
  = the later ones.

Counting happens in the engine: per (user, event) counts within the window are aggregated to a
grid of (split, event, count capped at max_threshold, active days, volume stratum) -> users,
retained, and cumulative sums over the count give every ">= k" candidate at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from pydantic import ValidationError

from ...core import stats
from ...core.periods import day_index, period_index_py
from ...data.engine import fetch
from ...data.log import EventLog
from ...data.names import require_events, require_new_names, require_properties
from ...data.params import FilteredCandidate, KeyBehaviorParams
from ...errors import NotEnoughDataError, ParamsError
from .findings import judge
from .spec import ACTIVE_DAYS, SPEC
from ...core.portable import count_true, flag

__all__ = ["ACTIVE_DAYS", "SPLITS", "check_windows", "eligible_users", "filtered_candidates", "min_support",
           "volume_stratum", "volume_stratum_py", "candidate_stats"]

#: A filtered candidate as the analyses take it: (name, leaf), the leaf ``{event, where}``.
Filter = tuple[str, dict[str, Any]]

SPLITS = ("all", "discovery", "validation")
MIN_SUPPORT = 25
#: Event volumes below this are strata of their own; above, bins of 1/VOLUME_BINS of a doubling.
EXACT_VOLUME = 32
VOLUME_BINS = 8


def check_windows(*, window_days: int, outcome_start: int, outcome_end: int, max_threshold: int = 10) -> None:
    """Raise :class:`ParamsError` if the windows are invalid (e.g. outcome overlaps behaviour)."""
    try:
        KeyBehaviorParams(window_days=window_days, outcome_start=outcome_start, outcome_end=outcome_end,
                          max_threshold=max_threshold)
    except ValidationError as e:
        msgs = "; ".join(err["msg"].removeprefix("Value error, ") for err in e.errors())
        raise ParamsError(f"key_behaviors: {msgs}") from None


def filtered_candidates(log: EventLog, candidates: Sequence[FilteredCandidate | Mapping[str, Any]], *,
                        exclude: Sequence[str] = ()) -> list[Filter]:
    """The filtered candidates (``key_behaviors.candidates``) as (name, leaf) pairs, checked as
    the params are at load: each a :class:`~retention_kit.data.params.FilteredCandidate` (a
    mapping is validated into one), its event in the log, its properties listed in
    ``data.properties``, its name unique and no event's.

    Raises
    ------
    ParamsError
        Naming ``key_behaviors.candidates[i]`` and what is wrong.
    DataError
        When a candidate's event matches no event (with the nearest names).

    Examples
    --------
    >>> filtered_candidates(log, [])  # the demo lists no data.properties, so it can filter on none
    []
    >>> filtered_candidates(log, [{"event": "share", "where": {"platform": ["ios", "android"]}}])
    Traceback (most recent call last):
    ...
    retention_kit.errors.ParamsError: key_behaviors.candidates[0]: the filter reads property 'platform', which is not listed in data.properties (listed: none); add it there
    """
    if not candidates:
        return []
    try:
        kb = KeyBehaviorParams(exclude=list(exclude), candidates=[
            c if isinstance(c, FilteredCandidate) else FilteredCandidate.model_validate(dict(c)) for c in candidates])
    except ValidationError as e:
        msgs = "; ".join(err["msg"].removeprefix("Value error, ") for err in e.errors())
        raise ParamsError(f"key_behaviors.candidates: {msgs}") from None
    for i, c in enumerate(kb.candidates):
        key = f"key_behaviors.candidates[{i}]"
        require_properties(log, c.leaf, key=key)
        require_events(log, [c.event], key=f"{key}.event")
    require_new_names(log, [(f"key_behaviors.candidates[{i}].name", c.label) for i, c in enumerate(kb.candidates)])
    return [(c.label, c.leaf) for c in kb.candidates]


def min_support(n_eligible: int | np.ndarray) -> np.ndarray:
    """Smallest number of users needed on each side of a candidate: max(25, ceil(1% of eligible))."""
    return np.maximum(MIN_SUPPORT, np.ceil(0.01 * np.asarray(n_eligible, dtype="float64")))


def volume_stratum(v: ir.IntegerValue) -> ir.IntegerValue:
    """The volume stratum of ``v`` events in the window (an engine expression): ``v`` itself below
    32, else ``32 + floor(8 · log2(v / 32))``, so each bin is 1/8 of a doubling (under 9% wide).

    Exact small counts matter most (a user with 3 events is not one with 4); above 31 the bins are
    narrow enough that retention barely changes within one, and their number grows with the log
    of the largest volume, which keeps the candidate grid small on any log.
    """
    vf = v.cast("float64")
    # the epsilon keeps bin edges that are exact powers of two in the upper bin on every engine
    binned = EXACT_VOLUME + (VOLUME_BINS * (vf / EXACT_VOLUME).log2() + 1e-9).floor().cast("int64")
    return ibis.ifelse(v < EXACT_VOLUME, v.cast("int64"), binned)


def volume_stratum_py(v: int) -> int:
    """:func:`volume_stratum` for one count, in Python.

    Examples
    --------
    >>> [volume_stratum_py(v) for v in (0, 31, 32, 34, 35, 64, 1000)]
    [0, 31, 32, 32, 33, 40, 71]
    """
    return v if v < EXACT_VOLUME else EXACT_VOLUME + int(np.floor(VOLUME_BINS * np.log2(v / EXACT_VOLUME) + 1e-9))


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
        active_w=count_true((j.dn >= 0) & (j.dn < window_days)),
        retained_i=flag((j.dn >= outcome_start) & (j.dn < outcome_end)).max(),
    )
    u = el.left_join(per_user, "user_id").select(el.user_id, el.start_day, el.start_i, "active_w", "retained_i")
    # cached: the candidate grid, the baseline, the totals and the segments all start from it
    u = u.mutate(
        split=ibis.ifelse(u.start_i <= cutoff, "discovery", "validation"),
        retained=u.retained_i.fill_null(0) > 0,
        active_w=u.active_w.fill_null(0),
    ).drop("retained_i").cache()
    tot = fetch(u.group_by("split").aggregate(users=u.count(), retained=count_true(u.retained)))
    by = dict(zip(tot["split"], tot["users"]))
    counts = {"users": n_all, "eligible": n_el, "ineligible": n_all - n_el, "discovery": int(by.get("discovery", 0)),
              "validation": int(by.get("validation", 0)), "retained": int(tot["retained"].sum()), "cutoff": cutoff}
    return u, counts


def window_counts(log: EventLog, users: ir.Table, *, window_days: int, exclude: Sequence[str],
                   events: Sequence[str] | None = None) -> ir.Table:
    """Per (user, event): ``cnt`` = events of that type in the behaviour window (engine table);
    ``users`` needs ``user_id`` and ``start_i``."""
    d = log.daily
    if exclude:
        d = d.filter(~d.event.isin(list(exclude)))
    if events is not None:
        d = d.filter(d.event.isin(list(events)))
    j = d.join(users, "user_id")
    j = j.mutate(dn=day_index(j.day) - j.start_i)
    j = j.filter((j.dn >= 0) & (j.dn < window_days))
    return j.group_by(["user_id", "event"]).aggregate(cnt=j.n.sum())


def filtered_window_counts(log: EventLog, users: ir.Table, *, window_days: int,
                           filters: Sequence[Filter]) -> ir.Table | None:
    """Per (user, filtered candidate): ``event`` = the candidate's name, ``cnt`` = its events in
    the behaviour window (engine table, the columns of :func:`window_counts`); None without
    filters. ``users`` needs ``user_id`` and ``start_i``."""
    parts = []
    for name, leaf in filters:
        f = log.filtered_daily(leaf)
        j = f.join(users, "user_id")
        j = j.mutate(dn=day_index(j.day) - j.start_i)
        j = j.filter((j.dn >= 0) & (j.dn < window_days))
        g = j.group_by("user_id").aggregate(cnt=j.n.sum().cast("int64"))
        parts.append(g.select("user_id", event=ibis.literal(name, "string"), cnt=g.cnt))
    out = None
    for p in parts:
        out = p if out is None else out.union(p)
    return out


def candidate_grid(log: EventLog, *, window_days: int, outcome_start: int, outcome_end: int, max_threshold: int,
                   exclude: Sequence[str], filters: Sequence[Filter] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The small tables everything else is computed from.

    grid: split, event, c (count capped at max_threshold, >= 1), s (active days in the window),
    v (volume stratum, :func:`volume_stratum`), users, retained; a filtered candidate's rows carry
    its name in ``event``. totals: split, s, v, users, retained (all eligible users, including
    those with no events of any candidate type). The volume counts event types only.
    """
    k = max_threshold
    users, _ = eligible_users(log, window_days=window_days, outcome_start=outcome_start, outcome_end=outcome_end)
    # per (user, event) counts, read three times below: cached in the engine for this log
    uc = log.memoized(("behaviors.window_counts", window_days, outcome_start, outcome_end, tuple(exclude)),
                      lambda: window_counts(log, users, window_days=window_days, exclude=exclude))
    # the volume from event types alone: a filtered candidate's events are already among them
    vol = uc.group_by("user_id").aggregate(volume=uc.cnt.sum())
    u = users.left_join(vol, "user_id").select(users.user_id, users.split, users.retained, users.active_w, "volume")
    u = u.mutate(s=u.active_w, v=volume_stratum(u.volume.fill_null(0)))
    fc = filtered_window_counts(log, users, window_days=window_days, filters=filters)
    if fc is not None:
        uc = uc.select("user_id", uc.event.cast("string").name("event"), uc.cnt.cast("int64").name("cnt")).union(fc)
    uc = uc.join(u.select("user_id", "split", "retained", "s", "v"), "user_id")
    uc = uc.mutate(c=ibis.least(uc.cnt, k).cast("int64"))
    g = uc.group_by(["split", "event", "c", "s", "v"]).aggregate(users=uc.count(), retained=count_true(uc.retained))
    base = u.filter(u.active_w > 0)
    base = base.mutate(event=ibis.literal(ACTIVE_DAYS), c=ibis.least(base.active_w, k).cast("int64"))
    gb = base.group_by(["split", "event", "c", "s", "v"]).aggregate(
        users=base.count(), retained=count_true(base.retained))
    grid = fetch(g.union(gb), sort=["split", "event", "c", "s", "v"])
    totals = fetch(u.group_by(["split", "s", "v"]).aggregate(users=u.count(), retained=count_true(u.retained)),
                   sort=["split", "s", "v"])
    return grid, totals


def stratified_cells(grid: pd.DataFrame, totals: pd.DataFrame, split: str, max_threshold: int, *,
                     strata: Sequence[str] = ("s", "v"), include: Sequence[str] = ()
                     ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """2x2 cells per (event, k, stratum) for one split ('all' sums both halves); a stratum is one
    combination of the ``strata`` columns (none: one stratum). Events in ``include`` are there
    even when nobody did them (a filtered candidate the params asked for: n_did = 0, not absent).

    Returns events and arrays a, b, c, d of shape (events, max_threshold, strata).
    """
    if split != "all":
        grid = grid[grid["split"] == split]
        totals = totals[totals["split"] == split]
    cols = list(strata)
    keys = totals[cols].drop_duplicates().sort_values(cols) if cols else pd.DataFrame(index=[0])
    s_index = pd.MultiIndex.from_frame(keys) if cols else None
    events = sorted(set(grid["event"].unique()) | set(include))
    e_ix = {e: i for i, e in enumerate(events)}
    u = np.zeros((len(events), max_threshold + 1, len(keys)))
    r = np.zeros_like(u)
    ei = grid["event"].map(e_ix).to_numpy()
    ci = grid["c"].to_numpy()

    def s_of(frame: pd.DataFrame) -> np.ndarray:
        if s_index is None:
            return np.zeros(len(frame), dtype="int64")
        ix = s_index.get_indexer(pd.MultiIndex.from_frame(frame[cols]))
        if (ix < 0).any():
            raise ValueError("a candidate's stratum is missing from the totals")
        return ix

    si = s_of(grid)
    np.add.at(u, (ei, ci, si), grid["users"].to_numpy())
    np.add.at(r, (ei, ci, si), grid["retained"].to_numpy())
    # users with at least k events = sum over capped counts c >= k
    did = np.cumsum(u[:, ::-1, :], axis=1)[:, ::-1, :][:, 1:, :]
    a = np.cumsum(r[:, ::-1, :], axis=1)[:, ::-1, :][:, 1:, :]
    t_u = np.zeros(len(keys))
    t_r = np.zeros(len(keys))
    ti = s_of(totals)
    np.add.at(t_u, ti, totals["users"].to_numpy())
    np.add.at(t_r, ti, totals["retained"].to_numpy())
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
        cells = [x.reshape(ne * nk, -1) for x in (a, b, c, d)]
        mh, lo, hi = stats.mantel_haenszel(*cells)
        out["adjusted_odds_ratio"], out["adjusted_or_low"], out["adjusted_or_high"] = mh, lo, hi
        adj_p = stats.cmh_test(*cells)
        base = out["event"].to_numpy() == ACTIVE_DAYS
        # the baseline is activity itself: nothing to adjust, and not one of the tests
        for col in ("adjusted_odds_ratio", "adjusted_or_low", "adjusted_or_high"):
            out.loc[base, col] = np.nan
        adj_p = np.where(base, np.nan, adj_p)
        out["adjusted_p_value"] = adj_p
        out["adjusted_q_value"] = stats.bh_qvalues(adj_p)
    m = min_support(n)
    out["supported"] = (n_did >= m) & (n_not >= m)
    return out


def candidate_stats(log: EventLog, *, window_days: int = 7, outcome_start: int = 14, outcome_end: int = 28,
                    max_threshold: int = 10, exclude: Sequence[str] = (),
                    candidates: Sequence[FilteredCandidate | Mapping[str, Any]] = ()) -> tuple[pd.DataFrame, dict[str, int]]:
    """Every candidate (event x threshold, the filtered ``candidates`` x threshold, plus the
    ``__active_days__`` baseline) on every split.

    Definitions in the module docstring. One row per (split, event, threshold) with the columns of
    the ``key_behaviors.csv`` export: event, threshold, window_days, outcome_start, outcome_end,
    split (all|discovery|validation), n_eligible, n_did, share_did, retained_did, retained_not,
    lift, phi, ci_did_low, ci_did_high, ci_not_low, ci_not_high, p_value, q_value (BH within the
    split), adjusted_odds_ratio (Mantel-Haenszel within activity strata: active days and event
    volume in the window; NaN for the baseline, which is activity itself), plus n_not, precision,
    recall, odds_ratio, adjusted_or_low/high, supported, adjusted_p_value, adjusted_q_value and
    ``verdict`` (on each event's chosen threshold row of the ``all`` split, empty elsewhere:
    :func:`.findings.judge`). A filtered candidate (:func:`filtered_candidates`) is one more
    ``event``, under its name, in the same Benjamini-Hochberg family as every other candidate of
    the split.

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
    _, counts = eligible_users(log, window_days=window_days, outcome_start=outcome_start, outcome_end=outcome_end)
    filters = filtered_candidates(log, candidates, exclude=exclude)
    grid, totals = candidate_grid(log, window_days=window_days, outcome_start=outcome_start, outcome_end=outcome_end,
                                  max_threshold=max_threshold, exclude=exclude, filters=filters)
    frames = []
    for split in SPLITS:
        if split != "all" and not (totals["split"] == split).any():
            continue
        events, a, b, c, d = stratified_cells(grid, totals, split, max_threshold, include=[n for n, _ in filters])
        if not events:
            continue
        frames.append(stats_frame(events, a, b, c, d).assign(split=split))
    if not frames:
        raise NotEnoughDataError("no eligible user did anything in the behaviour window")
    out = pd.concat(frames, ignore_index=True)
    out = out.assign(window_days=window_days, outcome_start=outcome_start, outcome_end=outcome_end)
    return SPEC.export("key_behaviors").frame(judge(out)), counts
