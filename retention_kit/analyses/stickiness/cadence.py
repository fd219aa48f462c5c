"""Usage cadence: each user's median gap between active days, its distribution, and what it
says about the product (daily, weekly or monthly) and so which ratio judges its stickiness.

Definitions: see :mod:`.active_users`; the per-user gaps are
:meth:`retention_kit.data.EventLog.user_cadence`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import pandas as pd

from ...data.engine import fetch
from ...data.log import EventLog
from ...errors import NotEnoughDataError

if TYPE_CHECKING:  # the breakdown calls back into this module: no import at run time
    from ..segments.assign import Segments

__all__ = ["cadence_distribution", "cadence_profile"]

_CADENCE_CAP = 60


def cadence_distribution(log: EventLog, *, cap: int = _CADENCE_CAP, by: Segments | None = None) -> pd.DataFrame:
    """Distribution of users' median gap between consecutive active days.

    Definition: per user with at least two active days, the median of the gaps in days between
    consecutive distinct active days (:meth:`retention_kit.data.EventLog.user_cadence`); users are
    counted by that median rounded down to whole days, with every median of ``cap`` days or more
    in the last bucket (``gap_days == cap``). ``share`` divides by users with two or more active
    days; users with one active day have no gap and are left out.

    With ``by`` (a breakdown, :func:`retention_kit.analyses.segments.segments`): the same table on
    each segment's users alone, led by ``breakdown`` and ``segment``.

    Returns
    -------
    pandas.DataFrame
        ``gap_days`` (1..cap), ``users``, ``share``.

    Examples
    --------
    >>> dist = cadence_distribution(log)
    >>> dist.gap_days.iloc[[0, -1]].tolist(), round(float(dist.share.sum()), 9)
    ([1, 60], 1.0)
    >>> int(dist.users.sum()) == cadence_profile(log)["users_with_gap"]
    True
    """
    c = log.user_cadence()
    if by is not None:  # each segment's users alone: the segment is one more group-by key
        c = by.keyed(c)
    c = c.filter(c.median_gap.notnull())
    b = c.mutate(gap_days=ibis.least(c.median_gap.floor().cast("int64"), cap))
    if by is not None:
        counts = fetch(b.group_by(["segment", "gap_days"]).aggregate(users=b.count()))
        return by.split(lambda part: _gap_table(part, cap), counts)
    return _gap_table(fetch(b.group_by("gap_days").aggregate(users=b.count())), cap)


def _gap_table(counts: pd.DataFrame, cap: int) -> pd.DataFrame:
    full = counts.set_index("gap_days")["users"].reindex(range(1, cap + 1), fill_value=0)
    out = pd.DataFrame({"gap_days": full.index.astype("int64"), "users": full.to_numpy().astype("int64")})
    out["share"] = out["users"] / max(int(out["users"].sum()), 1)
    return out


def cadence_profile(log: EventLog, *, by: Segments | None = None) -> dict[str, object] | pd.DataFrame:
    """Classify the product's natural usage cadence and say which ratio judges its stickiness.

    Definition: ``typical_gap`` is the median, over users with at least two active days, of each
    user's median gap between consecutive active days. A typical gap of up to 3 days makes a
    **daily** product (judge it by DAU/MAU), up to 14 days a **weekly** product (judge it by
    WAU/MAU), longer a **monthly** product (judge it by monthly retention, not by DAU/MAU). The
    bounds sit near the geometric means of 1, 7 and 30 days.

    Returns
    -------
    dict
        ``typical_gap`` (days), ``p25``, ``p75``, ``users_with_gap``, ``one_day_users``,
        ``cadence`` (daily|weekly|monthly), ``judge_by`` (plain words). With ``by`` (a
        breakdown): a frame, one row per segment (``breakdown``, ``segment``, then those keys) of
        each segment's users alone; a segment where nobody has two active days has no row.

    Examples
    --------
    >>> profile = cadence_profile(log)
    >>> profile["typical_gap"] <= 3, profile["cadence"], profile["judge_by"]
    (True, 'daily', 'DAU/MAU')
    >>> profile["users_with_gap"] + profile["one_day_users"] == log.quality.active_users
    True
    >>> from retention_kit.analyses.segments import segments
    >>> from retention_kit.data.params import BreakdownParams
    >>> by = cadence_profile(log, by=segments(log, BreakdownParams(by="plan")))
    >>> by[["segment", "cadence"]].values.tolist()
    [['free', 'daily'], ['pro', 'daily']]
    """
    c = log.user_cadence()
    keys: list[str] = []
    if by is not None:  # one row per segment, its users alone: the segment is one more group-by key
        c, keys = by.keyed(c), ["segment"]
    g = c.filter(c.median_gap.notnull())
    aggs = dict(typical_gap=g.median_gap.median(), p25=g.median_gap.quantile(0.25),
                p75=g.median_gap.quantile(0.75), users_with_gap=g.count())
    one = c.filter(c.median_gap.isnull())
    if by is not None:
        r = fetch(g.group_by("segment").aggregate(**aggs))
        ones = fetch(one.group_by("segment").aggregate(n=one.count()))
        return by.split(lambda part, o: pd.DataFrame([_profile(part.iloc[0] if len(part) else None,
                                                               int(o["n"].sum()))]), r, ones)
    r = fetch(g.aggregate(**aggs)).iloc[0]
    return _profile(r, int(fetch(one.aggregate(n=one.count()))["n"].iloc[0]))


def _profile(r: pd.Series | None, one_day: int) -> dict[str, object]:
    if r is None or not int(r["users_with_gap"]):
        raise NotEnoughDataError("No user was active on two different days, so no cadence can be measured")
    gap = float(r["typical_gap"])
    cadence, judge = (("daily", "DAU/MAU") if gap <= 3 else ("weekly", "WAU/MAU") if gap <= 14
                      else ("monthly", "monthly retention"))
    return {"typical_gap": gap, "p25": float(r["p25"]), "p75": float(r["p75"]),
            "users_with_gap": int(r["users_with_gap"]), "one_day_users": one_day,
            "cadence": cadence, "judge_by": judge}
