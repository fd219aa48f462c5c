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

from typing import TYPE_CHECKING, Literal

import ibis
import numpy as np
import pandas as pd

from ...data.engine import fetch
from ...data.log import EventLog
from ...core.periods import period_start
from .retention import return_periods
from ...core.portable import count_true

if TYPE_CHECKING:  # the breakdown calls back into this module: no import at run time
    from ..segments.assign import Segments

__all__ = ["growth_accounting"]

_STATUSES = ("new", "retained", "resurrected")


def growth_accounting(log: EventLog, *, granularity: Literal["day", "week", "month"] = "month",
                      by: Segments | None = None) -> pd.DataFrame:
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
    log.complete_periods(granularity)  # no complete period: NotEnoughDataError before any query
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
    if by is not None:  # each segment's users alone: the segment is one more group-by key
        up = by.keyed(up)
        agg = fetch(up.group_by(["segment", "p", "status"]).aggregate(users=up.count(), churners=count_true(up.churns)))
        return by.split(lambda part: _accounts(part, log, granularity), agg)
    agg = fetch(up.group_by(["p", "status"]).aggregate(users=up.count(), churners=count_true(up.churns)))
    return _accounts(agg, log, granularity)


def _accounts(agg: pd.DataFrame, log: EventLog, granularity: str) -> pd.DataFrame:
    """The table of :func:`growth_accounting` from arrivals and churners per period and status."""
    ws = log.params.week_start
    lo, hi = log.complete_periods(granularity)
    n = hi - lo + 1
    p = agg["p"].to_numpy().astype("int64")
    st = agg["status"].map({s: i for i, s in enumerate(_STATUSES)}).to_numpy().astype("int64")
    came = np.zeros((n, len(_STATUSES)), dtype="int64")
    inside = (p >= lo) & (p <= hi)
    np.add.at(came, (p[inside] - lo, st[inside]), agg["users"].to_numpy().astype("int64")[inside])
    # a user last seen in t-1 churns in t
    went = np.zeros((n, len(_STATUSES)), dtype="int64")
    q = p + 1
    inside = (q >= lo) & (q <= hi)
    np.add.at(went, (q[inside] - lo, st[inside]), agg["churners"].to_numpy().astype("int64")[inside])
    idx = range(lo, hi + 1)

    out = pd.DataFrame({
        "granularity": granularity,
        "period": pd.to_datetime([period_start(p, granularity, ws) for p in idx]).astype("datetime64[ns]"),
    })
    for i, s in enumerate(_STATUSES):
        out[s] = came[:, i]
    out.insert(2, "active", out[list(_STATUSES)].sum(axis=1).astype("int64"))
    out["churned"] = went.sum(axis=1)
    churned = out["churned"].where(out["churned"] > 0)
    out["quick_ratio"] = (out["new"] + out["resurrected"]) / churned
    active = out["active"].where(out["active"] > 0)
    for s in _STATUSES:
        out[f"{s}_share"] = out[s] / active
    for i, s in enumerate(_STATUSES):
        out[f"churned_{s}"] = went[:, i]
    out["quick_ratio"] = out["quick_ratio"].astype("float64").replace([np.inf], np.nan)
    return out
