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

__all__ = ["user_cadence"]


def user_cadence(log: EventLog) -> ir.Table:
    """Per user (engine table): ``user_id``, ``active_days``, ``median_gap`` (days, float, null
    with one active day), ``first_active``, ``last_active``.

    Examples
    --------
    >>> user_cadence(log).execute()  # doctest: +SKIP
    """
    a = log.active_days()
    a = a.mutate(di=day_index(a.day))
    w = ibis.window(group_by="user_id", order_by="di")
    g = a.mutate(gap=(a.di - a.di.lag().over(w)).cast("float64"))
    return g.group_by("user_id").aggregate(
        active_days=g.count(),
        median_gap=g.gap.median(),
        first_active=g.day.min(),
        last_active=g.day.max(),
    )
