"""Cohort laddering: the Ladder of Engagement over time, by cohort and between periods.

Every user acquired by a period is on exactly one rung in it (``Inactive`` when not active); the
rung definitions, the period grid and the treatment of incomplete periods are documented in
:mod:`.rungs` and ``docs/ladder.md``. The per (user, period) table stays in
the engine; the functions here return small aggregates only.

Outputs (periods and cohorts as the period's first day):

- :func:`composition`: per period and scope (``all``: users acquired by then; ``recent``: users
  acquired in the last ``ladder.recent_periods`` periods, current one included), users and share
  on each rung.
- :func:`cohorts`: per acquisition cohort and age (periods since the start period, 0 = start
  period), users and share on each rung; :func:`at_or_above`: share at or above each rung.
- :func:`transitions`: rung in one period -> rung in the next, pooled over all consecutive pairs
  of complete periods; :func:`transition_rates` (climb / slide / stay per period) and
  :func:`rung_stability` (per rung).
- Validation: :mod:`.validation`; the headline in words: :mod:`.narrative`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...data.engine import fetch
from ...data.log import EventLog
from ...data.params import LadderParams
from .rungs import first_cohort, ladder_rungs, period_dates, rung_table
from ...core.portable import count_true

if TYPE_CHECKING:  # the breakdown calls back into this module: no import at run time
    from ..segments.assign import Segments

__all__ = [
    "composition",
    "cohorts",
    "at_or_above",
    "transitions",
    "transition_rates",
    "pool_rates",
    "rung_stability",
]


def _names(ladder: LadderParams) -> dict[int, str]:
    return {r.order: r.name for r in ladder_rungs(ladder)}


def _complete(df: pd.DataFrame, keys: list[str], ladder: LadderParams) -> pd.DataFrame:
    """Every rung for every key seen (zeros where nobody is on it), with names and shares."""
    names = _names(ladder)
    seen = df[keys].drop_duplicates()
    full = seen.merge(pd.DataFrame({"rung_order": list(names)}), how="cross")
    out = full.merge(df, on=[*keys, "rung_order"], how="left").fillna({"users": 0})
    out["users"] = out["users"].astype("int64")
    total = out.groupby(keys)["users"].transform("sum")
    out["share"] = out["users"] / total
    out["rung"] = out["rung_order"].map(names)
    return out


def composition(log: EventLog, *, ladder: LadderParams | None = None, by: Segments | None = None) -> pd.DataFrame:
    """Rung composition per complete period, among all acquired users and among recent ones.

    For period p, scope ``all`` counts every user whose start period is <= p, scope ``recent``
    those whose start period is in ``(p - ladder.recent_periods, p]`` (so accumulated churn does
    not hide change). ``share`` divides by the scope's users in that period. Only complete periods
    are shown; a period with no user in a scope has no rows for that scope.

    Returns
    -------
    DataFrame: ``period`` (first day), ``scope`` (all | recent), ``rung``, ``rung_order``,
    ``users``, ``share``.

    Examples
    --------
    >>> comp = composition(log, ladder=lad)
    >>> comp.rung.unique().tolist(), sorted(comp.scope.unique())
    (['Inactive', 'Visitor', 'Saver', 'Creator', 'Sharer'], ['all', 'recent'])
    >>> bool(comp.groupby(["period", "scope"]).share.sum().round(9).eq(1).all())
    True
    """
    ladder = ladder or LadderParams()
    t = rung_table(log, ladder=ladder)
    if by is not None:  # each segment's users alone: the segment is one more group-by key
        t = by.keyed(t)
    keys = [] if by is None else ["segment"]
    n = ladder.recent_periods
    allg = t.group_by([*keys, "period", "rung_order"]).aggregate(users=t.count())
    r = t.filter(t.cohort > t.period - n)
    recg = r.group_by([*keys, "period", "rung_order"]).aggregate(users=r.count())
    frames = [fetch(allg), fetch(recg)]
    if by is not None:
        return by.split(lambda a, rc: _composition(a, rc, log, ladder), *frames)
    return _composition(*frames, log, ladder)


def _composition(allg: pd.DataFrame, recg: pd.DataFrame, log: EventLog, ladder: LadderParams) -> pd.DataFrame:
    parts = []
    for scope, df in (("all", allg), ("recent", recg)):
        if len(df):
            parts.append(_complete(df, ["period"], ladder).assign(scope=scope))
    if not parts:
        return pd.DataFrame(columns=["period", "scope", "rung", "rung_order", "users", "share"])
    out = pd.concat(parts, ignore_index=True).sort_values(["scope", "period", "rung_order"], kind="stable")
    out["period"] = period_dates(out["period"], ladder.period, log.params.week_start)
    return out[["period", "scope", "rung", "rung_order", "users", "share"]].reset_index(drop=True)


def cohorts(log: EventLog, *, ladder: LadderParams | None = None, by: Segments | None = None) -> pd.DataFrame:
    """The cohort ladder: per acquisition cohort and age, users and share on each rung.

    ``cohort`` is the start period, ``age`` the periods since it (0 = the start period), up to the
    last complete period. ``share`` divides by ``cohort_users``, the cohort's users on the grid at
    that age (all of the cohort, except users who started before the first complete period).
    Every row is a complete period. ``new_cohort`` is False for cohorts that are not really new
    or not fully observed: the left-censored cohort holding the first day of data (without a users
    table) and cohorts starting before the first complete period (their early ages are missing);
    :func:`retention_kit.ladder_validation.findings` does not compare them.

    Returns
    -------
    DataFrame: ``cohort`` (first day), ``age``, ``rung``, ``rung_order``, ``users``, ``share``,
    ``cohort_users``, ``new_cohort``.

    Examples
    --------
    >>> co = cohorts(log, ladder=lad)
    >>> co.columns.tolist()
    ['cohort', 'age', 'rung', 'rung_order', 'users', 'share', 'cohort_users', 'new_cohort']
    >>> int(co[co.new_cohort].age.min())  # new cohorts are seen from their start period
    0
    >>> bool(co.groupby(["cohort", "age"]).share.sum().round(9).eq(1).all())
    True
    """
    ladder = ladder or LadderParams()
    t = rung_table(log, ladder=ladder)
    if by is not None:  # each segment's users alone: the segment is one more group-by key
        t = by.keyed(t)
        df = fetch(t.group_by(["segment", "cohort", "age", "rung_order"]).aggregate(users=t.count()))
        return by.split(lambda part: _cohorts(part, log, ladder), df)
    return _cohorts(fetch(t.group_by(["cohort", "age", "rung_order"]).aggregate(users=t.count())), log, ladder)


def _cohorts(df: pd.DataFrame, log: EventLog, ladder: LadderParams) -> pd.DataFrame:
    cols = ["cohort", "age", "rung", "rung_order", "users", "share", "cohort_users", "new_cohort"]
    if not len(df):
        return pd.DataFrame(columns=cols)
    out = _complete(df, ["cohort", "age"], ladder)
    out["cohort_users"] = out.groupby(["cohort", "age"])["users"].transform("sum")
    out["new_cohort"] = out["cohort"] >= first_cohort(log, ladder.period)
    out = out.sort_values(["cohort", "age", "rung_order"], kind="stable")
    out["cohort"] = period_dates(out["cohort"], ladder.period, log.params.week_start)
    return out[cols].reset_index(drop=True)


def at_or_above(cohort_ladder: pd.DataFrame) -> pd.DataFrame:
    """Share of each cohort at or above each rung by age, from :func:`cohorts`' result.

    For rung R (order >= 1): users on a rung of order >= R's, divided by the cohort's users at that
    age. Inactive is left out (everyone is at or above it).

    Returns
    -------
    DataFrame: ``cohort``, ``age``, ``rung``, ``rung_order``, ``users``, ``share``,
    ``cohort_users``.

    Examples
    --------
    >>> co = cohorts(log, ladder=lad)
    >>> above = at_or_above(co)
    >>> above.rung.unique().tolist()
    ['Visitor', 'Saver', 'Creator', 'Sharer']
    >>> visitor_up = above[above.rung == "Visitor"].set_index(["cohort", "age"]).share
    >>> inactive = co[co.rung == "Inactive"].set_index(["cohort", "age"]).share
    >>> bool((visitor_up + inactive).round(9).eq(1).all())  # Visitor or above = not Inactive
    True
    """
    c = cohort_ladder.sort_values(["cohort", "age", "rung_order"], ascending=[True, True, False], kind="stable")
    c = c.assign(users=c.groupby(["cohort", "age"])["users"].cumsum())
    c = c[c["rung_order"] > 0].sort_values(["cohort", "age", "rung_order"], kind="stable")
    c = c.assign(share=c["users"] / c["cohort_users"])
    return c[["cohort", "age", "rung", "rung_order", "users", "share", "cohort_users"]].reset_index(drop=True)


def transitions(log: EventLog, *, ladder: LadderParams | None = None, by: Segments | None = None) -> pd.DataFrame:
    """Rung-to-rung moves between consecutive complete periods, pooled over all period pairs.

    Each user-period with a next complete period counts once, from its rung to the same user's
    rung in the next period. ``share`` is the row share: ``users / users leaving from_rung``.
    Every (from, to) pair of the ladder is listed for each from-rung that occurs (zeros kept).

    Returns
    -------
    DataFrame: ``from_rung``, ``to_rung``, ``users``, ``share``, ``from_order``, ``to_order``.

    Examples
    --------
    >>> tr = transitions(log, ladder=lad)
    >>> tr.columns.tolist()
    ['from_rung', 'to_rung', 'users', 'share', 'from_order', 'to_order']
    >>> len(tr)  # 5 rungs (Inactive included), every pair listed
    25
    >>> bool(tr.groupby("from_rung").share.sum().round(9).eq(1).all())
    True
    """
    ladder = ladder or LadderParams()
    t = rung_table(log, ladder=ladder)
    m = t.filter(t.next_rung.notnull())
    if by is not None:  # each segment's users alone: the segment is one more group-by key
        m = by.keyed(m)
        df = fetch(m.group_by(["segment", "rung_order", "next_rung"]).aggregate(users=m.count()))
        return by.split(lambda part: _transitions(part, ladder), df)
    return _transitions(fetch(m.group_by(["rung_order", "next_rung"]).aggregate(users=m.count())), ladder)


def _transitions(df: pd.DataFrame, ladder: LadderParams) -> pd.DataFrame:
    names = _names(ladder)
    cols = ["from_rung", "to_rung", "users", "share", "from_order", "to_order"]
    if not len(df):
        return pd.DataFrame(columns=cols)
    df = df.rename(columns={"rung_order": "from_order", "next_rung": "to_order"})
    full = df[["from_order"]].drop_duplicates().merge(pd.DataFrame({"to_order": list(names)}), how="cross")
    out = full.merge(df, on=["from_order", "to_order"], how="left").fillna({"users": 0})
    out["users"] = out["users"].astype("int64")
    out["share"] = out["users"] / out.groupby("from_order")["users"].transform("sum")
    out["from_rung"] = out["from_order"].map(names)
    out["to_rung"] = out["to_order"].map(names)
    return out.sort_values(["from_order", "to_order"], kind="stable")[cols].reset_index(drop=True)


def transition_rates(log: EventLog, *, ladder: LadderParams | None = None) -> pd.DataFrame:
    """Climb, slide and stay rates per pair of consecutive complete periods.

    For the user-periods of period p that have a next period: ``climb`` moved to a higher rung in
    p + 1, ``slide`` to a lower one, ``stay`` kept their rung; rates divide by ``users``.

    Returns
    -------
    DataFrame: ``period`` (first day of the *from* period), ``users``, ``climb``, ``slide``,
    ``stay``, ``climb_rate``, ``slide_rate``, ``stay_rate``.

    Examples
    --------
    >>> rates = transition_rates(log, ladder=lad)
    >>> rates.columns.tolist()
    ['period', 'users', 'climb', 'slide', 'stay', 'climb_rate', 'slide_rate', 'stay_rate']
    >>> bool((rates.climb + rates.slide + rates.stay == rates.users).all())
    True
    """
    ladder = ladder or LadderParams()
    t = rung_table(log, ladder=ladder)
    m = t.filter(t.next_rung.notnull())
    g = m.group_by("period").aggregate(
        users=m.count(),
        climb=count_true(m.next_rung > m.rung_order),
        slide=count_true(m.next_rung < m.rung_order),
        stay=count_true(m.next_rung == m.rung_order),
    )
    df = fetch(g, sort=["period"])
    df["period"] = period_dates(df["period"], ladder.period, log.params.week_start)
    return _with_rates(df)


def _with_rates(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for k in ("climb", "slide", "stay"):
        df[k] = df[k].astype("int64")
        df[f"{k}_rate"] = df[k] / df["users"].where(df["users"] > 0)
    return df


def pool_rates(rates: pd.DataFrame) -> pd.DataFrame:
    """Pooled climb / slide / stay over all period pairs of :func:`transition_rates` (one row)."""
    tot = rates[["users", "climb", "slide", "stay"]].sum().to_frame().T.astype("int64")
    return _with_rates(tot)


def rung_stability(transition_table: pd.DataFrame) -> pd.DataFrame:
    """Per from-rung of :func:`transitions`: ``users`` leaving it, ``stay_rate`` (same rung next
    period), ``climb_rate`` (higher), ``slide_rate`` (lower)."""
    t = transition_table
    key = t.assign(
        stay=np.where(t["to_order"] == t["from_order"], t["users"], 0),
        climb=np.where(t["to_order"] > t["from_order"], t["users"], 0),
        slide=np.where(t["to_order"] < t["from_order"], t["users"], 0),
    )
    g = key.groupby(["from_order", "from_rung"], as_index=False)[["users", "stay", "climb", "slide"]].sum()
    g = g.rename(columns={"from_order": "rung_order", "from_rung": "rung"})
    return _with_rates(g)[["rung", "rung_order", "users", "stay_rate", "climb_rate", "slide_rate"]]
