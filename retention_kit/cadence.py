"""Each user's own rhythm: how many days they were active and the typical gap between them.

Definition: for a user's distinct active days d1 < d2 < ... < dn (local calendar days), the gaps
are d(i+1) - d(i) in days; ``median_gap`` is their median (null for users with one active day),
``last_active`` is dn. Shared by the stickiness (usage cadence) and lifecycle (at-risk) analyses.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from .events import EventLog
from .periods import day_index

__all__ = ["user_cadence", "day_gaps"]


def day_gaps(days: ir.Table) -> ir.Table:
    """Per user from distinct (``user_id``, ``day``) rows: ``days`` (how many), ``median_gap``
    (median days between consecutive days; null with one day), ``first_day``, ``last_day``.

    The one gap computation behind active-day cadence and purchase cadence.
    """
    d = days.mutate(di=day_index(days.day))
    w = ibis.window(group_by="user_id", order_by="di")
    g = d.mutate(gap=(d.di - d.di.lag().over(w)).cast("float64"))
    return g.group_by("user_id").aggregate(days=g.count(), median_gap=g.gap.median(),
                                           first_day=g.day.min(), last_day=g.day.max())


def user_cadence(log: EventLog) -> ir.Table:
    """Per user (engine table, computed once per log): ``user_id``, ``active_days``,
    ``median_gap`` (days, float, null with one active day), ``first_active``, ``last_active``.

    Examples
    --------
    >>> user_cadence(log).execute()  # doctest: +SKIP
    """
    def build() -> ir.Table:
        g = day_gaps(log.active_days())
        return g.select("user_id", active_days=g.days, median_gap=g.median_gap,
                        first_active=g.first_day, last_active=g.last_day).cache()

    return log.memoized("cadence.user_cadence", build)
