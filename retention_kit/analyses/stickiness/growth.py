"""Growth accounting: where each period's active users come from and where last period's went.

Definitions (calendar days, weeks or months in the product's timezone, weeks starting on
``data.week_start``):

- active(t): distinct users active at least once in period t;
- new(t): active in t, and t is the period of their first-ever activity in the data;
- retained(t): active in t and in t-1;
- resurrected(t): active in t, not in t-1, active in some period before t-1;
- churned(t): active in t-1 and not in t (a positive count; charts draw it below zero);
- quick ratio(t) = (new + resurrected) / churned, empty where churned is 0.

Identities that hold by construction (and are tested): active = new + retained + resurrected;
churned(t) = active(t-1) - retained(t). Churned users are also split by what they were in t-1
(``churned_new``, ``churned_retained``, ``churned_resurrected``). Only complete periods are
reported: those lying entirely within the data range (:func:`retention_kit.core.periods.complete_range`).
A partial last period would count as churned users who may still come back in it; a partial first
period would look like a small start. Activity in a partial first period still counts as history:
it makes users retained or churned in the first complete period. Activity before the log began is
unknown, so the first complete period's "new" also holds users who were active before the data.
"""

from __future__ import annotations

from typing import Literal

import ibis
import numpy as np
import pandas as pd

from ...data.engine import fetch
from ...data.log import EventLog
from ...core.periods import period_start
from .retention import return_periods
from ...core.portable import count_true

__all__ = ["growth_accounting"]

_STATUSES = ("new", "retained", "resurrected")


def growth_accounting(log: EventLog, *, granularity: Literal["day", "week", "month"] = "month") -> pd.DataFrame:
    """Growth accounting per complete calendar day, week or month (PostHog's "lifecycle").

    Definition: see the module docstring (active, new, retained, resurrected, churned, quick
    ratio). Each user's distinct active periods are ordered; the gap to the previous one (LAG)
    classifies the period as new / retained / resurrected, the gap to the next one (LEAD) says
    whether the user churns in the following period. Periods run from the first to the last
    complete one (entirely within the data range; every day of it, for days); a period with no
    activity is a real zero (and still has a row, with its churned users). The first row's
    churned counts users active in the (partial) period before it, when there is one.

    Returns
    -------
    pandas.DataFrame
        ``granularity``, ``period`` (first day), ``active``, ``new``, ``retained``,
        ``resurrected``, ``churned``, ``quick_ratio`` (NaN where churned is 0), ``new_share``,
        ``retained_share``, ``resurrected_share`` (composition of active, fractions; NaN when
        active is 0), ``churned_new``, ``churned_retained``, ``churned_resurrected``.

    Examples
    --------
    >>> ga = growth_accounting(log, granularity="week")
    >>> bool((ga.active == ga.new + ga.retained + ga.resurrected).all())
    True
    >>> bool((ga.churned == ga.churned_new + ga.churned_retained + ga.churned_resurrected).all())
    True
    >>> daily = growth_accounting(log, granularity="day")  # a row for every day of the data
    >>> len(daily) == (log.last_day - log.first_day).days + 1
    True
    """
    if granularity not in ("day", "week", "month"):
        raise ValueError(f"granularity must be 'day', 'week' or 'month', got {granularity!r}")
    ws = log.params.week_start
    lo, hi = log.complete_periods(granularity)
    up = return_periods(log, granularity)  # distinct (user, period) of activity, shared with retention
    w = ibis.window(group_by="user_id", order_by="p")
    up = up.mutate(prev=up.p.lag().over(w), nxt=up.p.lead().over(w))
    up = up.mutate(
        status=ibis.cases(
            (up.prev.isnull(), "new"),
            (up.prev == up.p - 1, "retained"),
            else_="resurrected",
        ),
        churns=up.nxt.isnull() | (up.nxt > up.p + 1),
    )
    # one pass over the windowed table: arrivals by status, and how many of them leave after
    agg = fetch(up.group_by(["p", "status"]).aggregate(users=up.count(), churners=count_true(up.churns)))
    came = agg[["p", "status", "users"]]
    went = agg.loc[agg["churners"] > 0, ["p", "status"]].assign(users=agg.loc[agg["churners"] > 0, "churners"])
    idx = pd.Index(range(lo, hi + 1), name="p")
    came_w = came.pivot_table(index="p", columns="status", values="users", aggfunc="sum").reindex(index=idx, columns=list(_STATUSES), fill_value=0).fillna(0)
    went_w = went.pivot_table(index="p", columns="status", values="users", aggfunc="sum")
    # a user last seen in t-1 churns in t
    went_w = went_w.reindex(columns=list(_STATUSES), fill_value=0).fillna(0)
    went_w.index = went_w.index + 1
    went_w = went_w.reindex(index=idx, fill_value=0).fillna(0)

    out = pd.DataFrame({
        "granularity": granularity,
        "period": pd.to_datetime([period_start(p, granularity, ws) for p in idx]).astype("datetime64[ns]"),
    })
    for s in _STATUSES:
        out[s] = came_w[s].to_numpy().astype("int64")
    out.insert(2, "active", out[list(_STATUSES)].sum(axis=1).astype("int64"))
    out["churned"] = went_w.sum(axis=1).to_numpy().astype("int64")
    churned = out["churned"].where(out["churned"] > 0)
    out["quick_ratio"] = (out["new"] + out["resurrected"]) / churned
    active = out["active"].where(out["active"] > 0)
    for s in _STATUSES:
        out[f"{s}_share"] = out[s] / active
    for s in _STATUSES:
        out[f"churned_{s}"] = went_w[s].to_numpy().astype("int64")
    out["quick_ratio"] = out["quick_ratio"].astype("float64").replace([np.inf], np.nan)
    return out
