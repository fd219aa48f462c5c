"""Each user's own rhythm: how many days they were active and the typical gap between them.

Definition: for a user's distinct days d1 < d2 < ... < dn (local calendar days), the gaps are
d(i+1) - d(i) in days; ``median_gap`` is their median (null for users with one day). The same
computation serves active days (usage cadence, :meth:`retention_kit.data.EventLog.user_cadence`)
and purchase days (lifecycle's purchase cadence).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from .periods import day_index

__all__ = ["day_gaps"]


def day_gaps(days: ir.Table) -> ir.Table:
    """Per user from distinct (``user_id``, ``day``) rows: ``days`` (how many), ``median_gap``
    (median days between consecutive days; null with one day), ``first_day``, ``last_day``.

    Examples
    --------
    >>> import ibis, datetime as dt
    >>> t = ibis.memtable({"user_id": [1, 1, 1], "day": [dt.date(2024, 1, d) for d in (1, 3, 8)]})
    >>> day_gaps(t).execute()[["days", "median_gap"]].to_dict("records")
    [{'days': 3, 'median_gap': 3.5}]
    """
    d = days.mutate(di=day_index(days.day))
    w = ibis.window(group_by="user_id", order_by="di")
    g = d.mutate(gap=(d.di - d.di.lag().over(w)).cast("float64"))
    return g.group_by("user_id").aggregate(days=g.count(), median_gap=g.gap.median(),
                                           first_day=g.day.min(), last_day=g.day.max())
