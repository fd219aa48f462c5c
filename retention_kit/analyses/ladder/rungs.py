"""The Ladder of Engagement's rungs: definitions, condition compilation and the rung of every
acquired user in every complete period (an engine table, never pulled into pandas).

Definitions in force (see ``docs/ladder.md``):

- **Period.** Calendar weeks (``data.week_start``) or months in the product's timezone
  (``ladder.period``). Only *complete* periods are used: a period not entirely within the data
  range (:func:`retention_kit.periods.complete_range`: ending after the last day of data, or
  starting before the first day) is left out everywhere, so a half-observed week never looks like
  a drop.
- **Acquired.** A user is on the ladder from the period of their start day
  (:meth:`EventLog.starts`: signup day from the users table, else first active day) up to the last
  complete period, whether active or not. Their *cohort* is that start period and their *age* in a
  period is ``period - cohort`` (0 in the start period). Activity before the start period is
  ignored; periods before the first complete period are not on the grid. Without a users table,
  the cohort whose period holds the first day of data is left-censored (everyone already active
  when the log began); it and any cohort starting before the first complete period are not *new
  cohorts* (:func:`retention_kit.periods.first_new_cohort`).
- **Counters per (user, period).** ``active_days``: distinct days with activity in the period;
  one count per event named in a condition: events of that name in the period (any event that
  survived ``data.exclude_events``, activity or not).
- **Rung.** Users with no activity in the period are *Inactive* (order 0). An active user is on
  the highest rung whose condition holds; if no rung is a catch-all (a condition that holds for
  every active user: ``{active_days: 1}``, or ``any`` of a list holding it), an implicit
  *Active (other)* rung (order 1) sits just above Inactive for active users matching no rung.
- **Conditions.** ``{event: E, min: N}``: at least N events E in the period; ``{active_days: N}``:
  active on at least N distinct days; ``{all: [...]}`` / ``{any: [...]}``; ``{previous: C}``: C
  holds on the user's previous period (false in their first period), e.g. a loyalty-loop rung
  "bought this month and last month".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from ...core import conditions
from ...core.periods import first_new_cohort, period_index, period_start
from ...data.log import EventLog
from ...data.params import LadderParams, Rung

__all__ = [
    "RungDef",
    "INACTIVE",
    "OTHER",
    "DEFAULT_RUNGS",
    "ladder_rungs",
    "definition_table",
    "condition_events",
    "first_cohort",
    "rung_table",
    "period_dates",
]

INACTIVE = "Inactive"
OTHER = "Active (other)"

#: The default frequency ladders (distinct active days in the period), lowest rung first.
DEFAULT_RUNGS: dict[str, tuple[tuple[str, int], ...]] = {
    "week": (("1 day", 1), ("2-3 days", 2), ("4+ days", 4)),
    "month": (("1-3 days", 1), ("4-10 days", 4), ("11+ days", 11)),
}


@dataclasses.dataclass(frozen=True)
class RungDef:
    """One rung as used by the analysis: ``order`` 0 is Inactive; ``when`` is None for the
    implicit rungs (Inactive, Active (other))."""

    name: str
    order: int
    when: Mapping[str, Any] | None
    implicit: bool = False


def ladder_rungs(ladder: LadderParams | None = None) -> list[RungDef]:
    """All rungs of a ladder, lowest first, implicit ones included, with their orders.

    Without ``ladder.rungs`` the default frequency ladder of ``ladder.period`` is used.

    Examples
    --------
    >>> [r.name for r in ladder_rungs(LadderParams(period="week"))]
    ['Inactive', '1 day', '2-3 days', '4+ days']
    """
    ladder = ladder or LadderParams()
    rungs = ladder.rungs
    if rungs is None:
        rungs = [Rung(name=n, when={"active_days": k}) for n, k in DEFAULT_RUNGS[ladder.period]]
    out = [RungDef(INACTIVE, 0, None, implicit=True)]
    if not any(conditions.is_catch_all(r.when) for r in rungs):
        out.append(RungDef(OTHER, 1, None, implicit=True))
    base = len(out)
    out += [RungDef(r.name, base + i, dict(r.when)) for i, r in enumerate(rungs)]
    return out


def definition_table(ladder: LadderParams | None = None) -> pd.DataFrame:
    """The ladder as a table: ``rung_order``, ``rung``, ``condition`` (in words), ``implicit``."""
    rows = []
    for r in ladder_rungs(ladder):
        if r.name == INACTIVE:
            text = "no activity in the period (implicit)"
        elif r.name == OTHER:
            text = "active, but matching no rung above (implicit)"
        else:
            text = conditions.describe(r.when)
        rows.append({"rung_order": r.order, "rung": r.name, "condition": text, "implicit": r.implicit})
    return pd.DataFrame(rows)


def condition_events(ladder: LadderParams | None = None) -> list[str]:
    """Event names used by the ladder's conditions (sorted, unique)."""
    return conditions.events(*(r.when for r in ladder_rungs(ladder) if r.when is not None))


def first_cohort(log: EventLog, period: str) -> int:
    """Index of the earliest new, fully observed cohort (see the module docstring and
    :func:`retention_kit.periods.first_new_cohort`)."""
    return first_new_cohort(log.first_day, period, log.params.week_start, signups_known=log.signups_known)


def rung_table(log: EventLog, *, ladder: LadderParams | None = None) -> ir.Table:
    """Each acquired user's rung in each complete period, as a cached engine table.

    Columns: ``user_id``, ``cohort`` and ``period`` (integer period indices, see
    :mod:`retention_kit.periods`), ``age`` (periods since the cohort), ``active_days``,
    ``rung_order`` (see :func:`ladder_rungs`), ``next_rung`` and ``next_active_days`` (the same
    user's next period; null in the last complete period). One row per user and period from
    ``max(cohort, first period of the data)`` to the last complete period (module docstring).

    Examples
    --------
    >>> t = rung_table(log, ladder=lad)
    >>> t.columns
    ('user_id', 'cohort', 'period', 'age', 'active_days', 'rung_order', 'next_rung', 'next_active_days')
    >>> df = t.execute()
    >>> bool((df.age == df.period - df.cohort).all()), bool(df.duplicated(["user_id", "period"]).any())
    (True, False)
    >>> bool(df.loc[df.period == df.period.max(), "next_rung"].isna().all())
    True
    """
    ladder = ladder or LadderParams()
    return log.memoized(("ladder.rung_table", ladder.model_dump_json()), lambda: _build(log, ladder))


def _side_by_side(parts: list[ir.Table]) -> ir.Table:
    """Per (``user_id``, ``period``) tables of counts side by side, every pair that any of them
    holds kept (a period may have condition events and no active day, when they are outside
    ``data.active_events``, or the reverse); a count a table lacks is null. One union and one
    grouping, which every backend runs (chained outer joins do not compose in Ibis)."""
    names = [c for p in parts for c in p.columns if c not in ("user_id", "period")]
    cols = [p.select("user_id", "period", **{c: (p[c] if c in p.columns else ibis.null()).cast("int64") for c in names})
            for p in parts]
    u = cols[0]
    for p in cols[1:]:
        u = u.union(p)
    return u.group_by(["user_id", "period"]).aggregate(**{c: u[c].sum() for c in names})


def _build(log: EventLog, ladder: LadderParams) -> ir.Table:
    period, ws = ladder.period, log.params.week_start
    first, last = log.complete_periods(period, hint="; use a shorter ladder.period or a longer log")
    rungs = ladder_rungs(ladder)
    leaves = conditions.leaves(*(r.when for r in rungs if r.when is not None))
    # generated column names keep event names (free text) out of the schema
    cols = {conditions.leaf_key(lf): f"e{i}" for i, lf in enumerate(leaves)}

    # active days per period from the shared distinct active days, and the conditions' event
    # counts from those events' rows alone: a distinct count over the whole daily table cost
    # most of this table (at 100M events the build took 20.8 s with it, 15.9 s without)
    a = log.active_days()
    a = a.mutate(period=period_index(a.day, period, ws))
    a = a.filter(a.period <= last)
    parts = [a.group_by(["user_id", "period"]).aggregate(active_days=a.count())]
    plain = [lf for lf in leaves if "where" not in lf]
    if plain:
        d = log.daily
        d = d.filter(d.event.isin(sorted({str(lf["event"]) for lf in plain})))
        d = d.mutate(period=period_index(d.day, period, ws))
        d = d.filter(d.period <= last)
        parts.append(d.group_by(["user_id", "period"]).aggregate(
            **{cols[conditions.leaf_key(lf)]: d.n.sum(where=d.event == lf["event"]) for lf in plain}))
    for lf in leaves:
        if "where" in lf:  # a property filter: counted on the event rows (data.properties)
            c = cols[conditions.leaf_key(lf)]
            f = log.filtered_daily(lf)
            f = f.mutate(period=period_index(f.day, period, ws))
            parts.append(f.filter(f.period <= last).group_by(["user_id", "period"]).aggregate(**{c: ibis._.n.sum()}))
    counts = parts[0] if len(parts) == 1 else _side_by_side(parts)

    s = log.starts()
    s = s.select("user_id", cohort=period_index(s.start_day, period, ws))
    s = s.filter(s.cohort <= last)
    # each user's periods from acquisition to the last complete one, generated in the engine
    # (a client-side table of periods would not reach every backend, e.g. PySpark)
    grid = s.mutate(period=ibis.range(s.cohort, last + 1).unnest().cast("int64"))
    grid = grid.filter(grid.period >= first)
    t = grid.left_join(counts, ["user_id", "period"]).select(
        "user_id", "cohort", "period",
        **{c: ibis._[c].fill_null(0).cast("int64") for c in ["active_days", *cols.values()]},
    )
    w = ibis.window(group_by="user_id", order_by="period")
    if any(r.when is not None and conditions.uses_previous(r.when) for r in rungs):
        # the grid is dense from acquisition, so the previous row is the previous period
        t = t.mutate(**{conditions.PREVIOUS_PREFIX + c: t[c].lag().over(w).fill_null(0)
                        for c in ["active_days", *cols.values()]})
    branches = [(t.active_days == 0, 0)]
    branches += [(conditions.compile(r.when, t, cols), r.order) for r in reversed(rungs) if r.when is not None]
    other = 1 if any(r.name == OTHER for r in rungs) else rungs[-1].order  # unreachable if a catch-all exists
    t = t.mutate(age=t.period - t.cohort, rung_order=ibis.cases(*branches, else_=other).cast("int64"))
    t = t.mutate(next_rung=t.rung_order.lead().over(w), next_active_days=t.active_days.lead().over(w))
    return t.select("user_id", "cohort", "period", "age", "active_days", "rung_order", "next_rung",
                    "next_active_days")


def period_dates(idx: pd.Series, period: str, week_start: str = "monday") -> pd.Series:
    """Integer period indices as the periods' first days (datetime64, for ISO export)."""
    starts = {i: period_start(int(i), period, week_start) for i in pd.unique(idx)}
    return pd.to_datetime(idx.map(starts)).astype("datetime64[ns]")

