"""Breadth and depth of each behaviour by segment (the "writers vs readers" comparison).

Definitions (calendar days in the product's timezone; events after ``data.exclude_events`` and
``key_behaviors.exclude``):

- **Segments and their period.**

  - ``power`` / ``occasional``: every user with activity, by the number of distinct active days
    in *their last 28 days* (the 28 days ending on their own last active day, inclusive): power
    users have at least ``power_user_days``. Their period is those 28 days.
  - ``<attribute>=<value>`` for each users-table column in ``attributes`` (``(missing)`` for
    nulls): users with activity, over the same last-28-day period.
  - ``retained`` / ``churned``: eligible users of the key-behaviour analysis by its outcome
    (active in days ``[outcome_start, outcome_end)`` after their start); their period is the
    behaviour window ``[0, window_days)``, i.e. what retained and churned users did early on.

- **Weeks of a period**: consecutive 7-day blocks counted from the period's end (last 28 days)
  or from the start day (behaviour window); a user's *active weeks* are the blocks with at least
  one active day.
- **breadth** = users of the segment who did the event at least once in the period / users of
  the segment.
- **depth_median** = median, over the segment's users who did the event, of (events of that
  type in the period / the user's active weeks in it). Users who did it with no active week
  (only non-activity events) are left out of the median.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pandas as pd

from .candidates import eligible_users
from ...data.engine import fetch
from ...errors import DataError, NotEnoughDataError
from ...data.log import EventLog
from ...core.periods import day_index

if TYPE_CHECKING:  # the breakdown calls back into this module: no import at run time
    from ..segments.assign import Segments

__all__ = ["behavior_segments", "RECENT_DAYS"]

RECENT_DAYS = 28
MISSING = "(missing)"


def _weekly_rates(log: EventLog, bounds: ir.Table, exclude: Sequence[str]) -> ir.Table:
    """Per (user, event) in each user's period: ``rate`` = events / active weeks (engine table).

    ``bounds`` has user_id, lo, hi (day indexes, inclusive) and ``anchor`` (day index from which
    week blocks are counted; blocks run forwards from ``lo`` or backwards from ``hi``).
    """
    a = log.active_days()
    a = a.mutate(di=day_index(a.day)).join(bounds, "user_id")
    a = a.filter((a.di >= a.lo) & (a.di <= a.hi))
    weeks = a.group_by("user_id").aggregate(weeks=(((a.di - a.anchor).abs()) // 7).nunique())
    d = log.daily
    if exclude:
        d = d.filter(~d.event.isin(list(exclude)))
    d = d.mutate(di=day_index(d.day)).join(bounds, "user_id")
    d = d.filter((d.di >= d.lo) & (d.di <= d.hi))
    ue = d.group_by(["user_id", "event"]).aggregate(times=d.n.sum())
    ue = ue.left_join(weeks, "user_id").select(ue.user_id, ue.event, ue.times, "weeks")
    return ue.mutate(rate=ue.times.cast("float64") / ue.weeks.nullif(0).cast("float64"))


#: The breakdown's segment while this table's own ``segment`` is in use.
_BY = "breakdown_segment"


def _per_segment(members: ir.Table, rates: ir.Table, keys: list[str]) -> tuple[ir.Table, ir.Table]:
    j = members.join(rates, "user_id")
    agg = j.group_by([*keys, "segment", "event"]).aggregate(doers=j.count(), depth_median=j.rate.median())
    sizes = members.group_by([*keys, "segment"]).aggregate(segment_users=members.count())
    return agg, sizes


def behavior_segments(log: EventLog, *, power_user_days: int = 8, attributes: Sequence[str] = (),
                      window_days: int = 7, outcome_start: int = 14, outcome_end: int = 28,
                      exclude: Sequence[str] = (), by: Segments | None = None) -> pd.DataFrame:
    """Breadth and depth of every event type in every segment (definitions in the module docstring).

    With ``by`` (a breakdown, :func:`retention_kit.analyses.segments.segments`): the same table
    on each breakdown segment's users alone (power and occasional, retained and churned among
    them), led by ``breakdown`` and ``segment`` (the breakdown's); this table's own segment is
    then ``behavior_segment`` (``behavior_segments_by_segment.csv``).

    Returns
    -------
    DataFrame with ``segment``, ``event``, ``segment_users``, ``breadth`` (fraction),
    ``depth_median`` (events per active week; NaN when nobody in the segment did it), ``doers``,
    ``family`` (activity / attribute name / outcome) and ``period`` (``last 28 days`` or
    ``behaviour window``): one row per segment and event, zeros included.

    Raises
    ------
    DataError
        An attribute is not a column of the users table (or there is no users table).

    Examples
    --------
    >>> seg = behavior_segments(log, power_user_days=8, attributes=["plan"])
    >>> print(seg.drop_duplicates("segment")[["segment", "family", "period"]].to_string(index=False))
       segment   family           period
    occasional activity     last 28 days
         power activity     last 28 days
       churned  outcome behaviour window
      retained  outcome behaviour window
     plan=free     plan     last 28 days
      plan=pro     plan     last 28 days
    >>> bool((seg.breadth == seg.doers / seg.segment_users).all())
    True
    >>> from retention_kit.analyses.segments import segments
    >>> from retention_kit.data.params import BreakdownParams
    >>> behavior_segments(log, by=segments(log, BreakdownParams(by="plan"))).columns.tolist()[:4]
    ['breakdown', 'segment', 'behavior_segment', 'event']
    """
    if attributes and (log.users is None or any(a not in log.users.columns for a in attributes)):
        have = [c for c in (log.users.columns if log.users is not None else []) if c not in ("user_id", "signup_day")]
        raise DataError(
            f"key_behaviors.segment_attributes {list(attributes)}: not all are columns of the users table "
            f"(available: {', '.join(have) or 'none'}); list them under data.users.attributes first"
        )
    a = log.active_days()
    a = a.mutate(di=day_index(a.day))
    # each user's last active day and the recent segments feed both queries of each period below;
    # computed once (at 100M events this table took 18.3 s without, 15.6 s with)
    last = a.group_by("user_id").aggregate(hi=a.di.max()).cache()
    recent = last.mutate(lo=last.hi - (RECENT_DAYS - 1), anchor=last.hi)
    ra = a.join(recent, "user_id")
    ra = ra.filter(ra.di >= ra.lo)
    act = ra.group_by("user_id").aggregate(days=ra.count())
    power = act.select("user_id", segment=ibis.ifelse(act.days >= power_user_days, "power", "occasional"),
                       family=ibis.literal("activity"))
    members = [power]
    for attr in attributes:
        u = log.users.join(last.select("user_id"), "user_id")
        val = u[attr].cast("string").fill_null(MISSING)
        members.append(u.select("user_id", segment=ibis.literal(f"{attr}=") + val, family=ibis.literal(attr)))
    m_recent = members[0]
    for m in members[1:]:
        m_recent = m_recent.union(m)
    m_recent = m_recent.cache()
    cached = [last, m_recent]
    keys: list[str] = []
    if by is not None:  # each breakdown segment's users alone: the breakdown is one more group-by key
        keys = [_BY]

        def keyed(t: ir.Table) -> ir.Table:
            return t.join(by.table.rename(**{_BY: "segment"}), "user_id")

        m_recent = keyed(m_recent)
    agg_r, size_r = _per_segment(m_recent, _weekly_rates(log, recent.select("user_id", "lo", "hi", "anchor"), exclude), keys)

    parts = [(agg_r, size_r, "last 28 days")]
    try:
        users, _ = eligible_users(log, window_days=window_days, outcome_start=outcome_start, outcome_end=outcome_end)
    except NotEnoughDataError:
        users = None
    if users is not None:
        m_out = users.select("user_id", segment=ibis.ifelse(users.retained, "retained", "churned"),
                             family=ibis.literal("outcome"))
        if keys:
            m_out = keyed(m_out)
        win = users.select("user_id", lo=users.start_i, hi=users.start_i + (window_days - 1), anchor=users.start_i)
        agg_w, size_w = _per_segment(m_out, _weekly_rates(log, win, exclude), keys)
        parts.append((agg_w, size_w, "behaviour window"))

    frames = []
    for agg, sizes, period in parts:
        fam = fetch(sizes.join(
            (m_recent if period == "last 28 days" else m_out).select("segment", "family").distinct(), "segment"))
        frames.append((fam, fetch(agg), period))
    for t in cached:
        t.release()
    if by is None:
        return _breadth_table(frames)

    def one(name: str) -> pd.DataFrame:
        mine = [(f[f[_BY] == name].drop(columns=_BY), g[g[_BY] == name].drop(columns=_BY), period)
                for f, g, period in frames]
        return _breadth_table(mine).rename(columns={"segment": "behavior_segment"})

    return by.stack((name, lambda name=name: one(name)) for name in by.names)


def _breadth_table(frames: list[tuple[pd.DataFrame, pd.DataFrame, str]]) -> pd.DataFrame:
    """The table of :func:`behavior_segments` from each period's segment sizes and families
    (``fam``) and its (segment, event) doers and depth (``g``)."""
    events = sorted(set().union(*(set(g["event"]) for _, g, _ in frames)))
    if not events:
        raise NotEnoughDataError("no events to describe by segment")
    out = []
    for fam, g, period in frames:
        full = fam.merge(pd.DataFrame({"event": events}), how="cross").merge(g, on=["segment", "event"], how="left")
        full["doers"] = full["doers"].fillna(0).astype("int64")
        full["breadth"] = full["doers"] / full["segment_users"]
        full["period"] = period
        out.append(full)
    df = pd.concat(out, ignore_index=True)
    fam_order = {"activity": 0, "outcome": 1}
    df["_f"] = df["family"].map(fam_order).fillna(2)
    df = df.sort_values(["_f", "family", "segment", "event"], kind="stable").drop(columns="_f").reset_index(drop=True)
    return df[["segment", "event", "segment_users", "breadth", "depth_median", "doers", "family", "period"]]
