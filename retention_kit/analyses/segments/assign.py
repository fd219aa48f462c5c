"""Segment assignment: one table, user -> segment, for the three kinds of segment.

Definitions (calendar days in the product's timezone):

- **A users-table attribute** (``plan``, ``country``; listed in ``data.users.attributes``): the
  user's value in the users table (each user's earliest row, :func:`retention_kit.data.users.load_users`).
- **A first-event property** (``first.platform``; the property listed in ``data.properties``):
  the property on the user's first valid event (earliest time; any event not excluded by
  ``data.exclude_events``, active or not; among events at that same time, the smallest value).
- **A behaviour cohort** (``{name: invited_3, when: {event: invite_friend, min: 3}, window_days: 7}``):
  users for whom the condition (:mod:`retention_kit.core.conditions`, property filters included)
  holds over their first ``window_days`` days, day 0 (the start day, ``EventLog.starts``) to day
  ``window_days - 1``: segment ``invited_3``; users for whom it does not: ``not invited_3``; users
  whose window is not over by the last day of data: ``(window not over)`` (they may still qualify).
- Every user of the log (with an event, or in the users table) has exactly one segment; a user
  without a value (no users-table row, a null attribute, no start) is ``(missing)``.
- **Top segments**: the ``top`` segments with the most users are kept (ties by name); the users
  of all others become ``(other)``.

The assignment is one engine query, built once per log and breakdown (``EventLog.memoized``).
Analyses join it into their queries as one more group-by key (:meth:`Segments.keyed`) and finish
each segment's frame from the one fetched aggregate (:meth:`Segments.split`), so a breakdown
never reloads or rescans the raw log nor multiplies the queries. :meth:`Segments.apply` runs any
function of a log on each segment's own restricted log (:meth:`Segments.log_for`): the slower,
independent route, for functions of one's own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from ...core import conditions
from ...core.periods import day_index, period_index_py
from ...data.engine import fetch
from ...data.log import EventLog
from ...data.names import require_events
from ...data.params import BreakdownParams
from ...errors import DataError, NotEnoughDataError

__all__ = ["Segments", "segments", "OTHER", "MISSING", "NOT_OVER", "segment_kind"]

OTHER = "(other)"
MISSING = "(missing)"
NOT_OVER = "(window not over)"


def segment_kind(by: str, breakdown: BreakdownParams) -> str:
    """``attribute``, ``first_property`` or ``cohort``.

    Examples
    --------
    >>> segment_kind("first.platform", BreakdownParams(by="first.platform"))
    'first_property'
    """
    if by.startswith("first."):
        return "first_property"
    if any(c.name == by for c in breakdown.cohorts):
        return "cohort"
    return "attribute"


@dataclasses.dataclass(frozen=True)
class Segments:
    """A breakdown of a log's users: ``table`` (engine: ``user_id``, ``segment``), the segment
    names largest first (``(other)`` last) and their users.

    Examples
    --------
    >>> from retention_kit.data.params import BreakdownParams
    >>> seg = segments(log, BreakdownParams(by="plan", top=8))
    >>> seg.names, seg.by
    (('free', 'pro'), 'plan')
    >>> sum(seg.sizes.values()) == seg.users
    True
    """

    log: EventLog = dataclasses.field(repr=False)
    by: str
    kind: str
    table: ir.Table = dataclasses.field(repr=False)
    names: tuple[str, ...]
    sizes: dict[str, int]

    @property
    def users(self) -> int:
        return sum(self.sizes.values())

    def log_for(self, name: str) -> EventLog:
        """The log restricted to the users of segment ``name``: its daily table, users table and
        event rows hold only them; the data range, quality and params are the whole log's (so a
        segment's periods are the log's, and a headline needs the log's minimum size)."""
        if name not in self.sizes:
            raise KeyError(f"no segment {name!r} in the breakdown by {self.by} (segments: {', '.join(self.names)})")
        log = self.log

        def build() -> EventLog:
            m = self.table.filter(self.table.segment == ibis.literal(name)).select("user_id")
            daily = log.daily.semi_join(m, "user_id").cache()
            users = log.users.semi_join(m, "user_id") if log.users is not None else None
            if log.user_keys is not None:
                k = log.user_keys
                ids = k.semi_join(m, k.key == m.user_id).select("user_id")
            else:
                ids = m
            # the event rows stay a lazy view: the source is opened only if an analysis needs them
            return dataclasses.replace(log, daily=daily, users=users, source_rows_view=None,
                                       events_view=lambda: log.events.semi_join(ids, "user_id"))

        return log.memoized(("segments.log_for", self.by, self._key, name), build)

    @property
    def _key(self) -> str:
        return f"{self.kind}:{self.names}"

    def keyed(self, table: ir.Table) -> ir.Table:
        """``table`` (with a ``user_id`` column) with each row's ``segment``: the breakdown as a
        group-by key, so one query serves every segment (a user without a segment cannot occur:
        every user of the log has one)."""
        return table.join(self.table, "user_id")

    def split(self, fn: Callable[..., pd.DataFrame | None], *frames: pd.DataFrame | None) -> pd.DataFrame:
        """``fn`` on each segment's rows of ``frames`` (fetched aggregates with a ``segment``
        column; ``fn`` gets one part per frame, without that column: an empty frame of the same
        columns for a segment without rows, None for a None frame), stacked as :meth:`apply`
        stacks: segments in order, leading columns ``breakdown`` and ``segment``, a segment too
        thin for ``fn`` without rows."""
        def parts(frame: pd.DataFrame | None) -> Callable[[str], pd.DataFrame | None]:
            if frame is None:
                return lambda name: None
            groups = {k: g.drop(columns="segment").reset_index(drop=True)
                      for k, g in frame.groupby("segment", sort=False)} if len(frame) else {}
            empty = frame.iloc[0:0].drop(columns="segment")
            return lambda name: groups.get(name, empty)

        getters = [parts(f) for f in frames]
        return self.stack((name, lambda name=name: fn(*(g(name) for g in getters))) for name in self.names)

    def apply(self, fn: Callable[[EventLog], pd.DataFrame | None]) -> pd.DataFrame:
        """``fn`` on each segment's log, stacked, with the leading columns ``breakdown`` (what was
        split on) and ``segment``; a segment whose data is too thin for ``fn``
        (:class:`~retention_kit.errors.NotEnoughDataError`) has no rows."""
        return self.stack((name, lambda name=name: fn(self.log_for(name))) for name in self.names)

    def stack(self, parts: Iterable[tuple[str, Callable[[], pd.DataFrame | None]]]) -> pd.DataFrame:
        """Each segment's frame (``parts``: segment name and a function making its frame), led by
        ``breakdown`` and ``segment``, stacked in order; a frame too thin
        (:class:`~retention_kit.errors.NotEnoughDataError`) or empty is left out."""
        frames = []
        for name, make in parts:
            try:
                out = make()
            except NotEnoughDataError:
                continue
            if out is None or out.empty:
                continue
            clash = {"breakdown", "segment"} & set(out.columns)
            if clash:
                raise ValueError(f"a by-segment table leads with breakdown and segment, but the table already has "
                                 f"{', '.join(sorted(clash))}")
            out = out.copy()
            out.insert(0, "segment", name)
            out.insert(0, "breakdown", self.by)
            frames.append(out)
        if not frames:
            raise NotEnoughDataError(f"no segment of the breakdown by {self.by} has enough data")
        return pd.concat(frames, ignore_index=True)


def _universe(log: EventLog) -> ir.Table:
    u = log.daily.select("user_id").distinct()
    if log.users is not None:
        u = u.union(log.users.select("user_id"), distinct=True)
    return u


def _attribute(log: EventLog, by: str) -> ir.Table:
    if log.users is None or by not in log.users.columns:
        raise DataError(f"breakdown.by: '{by}' is a users-table attribute, but the log has "
                        + ("no users table" if log.users is None else f"no column '{by}' in its users table")
                        + "; list it under data.users.attributes")
    u = _universe(log)
    a = log.users.select("user_id", v=log.users[by])
    j = u.left_join(a, "user_id")
    return j.select(u.user_id, segment=j.v.cast("string").fill_null(MISSING))


def _first_property(log: EventLog, by: str) -> ir.Table:
    prop = by[len("first."):]
    e = log.keyed_events()
    if prop not in e.columns:
        raise DataError(f"breakdown.by: '{by}' reads the property '{prop}', which is not among the event rows' "
                        "columns; list it under data.properties")
    # the property on the earliest event; among events at the same earliest time, the smallest
    # value (a fixed result whatever the row order)
    earliest = e.group_by("user_id").aggregate(t0=e.ts.min())
    j0 = e.join(earliest, "user_id")
    j0 = j0.filter(j0.ts == j0.t0)
    first = j0.group_by("user_id").aggregate(v=j0[prop].cast("string").min())
    u = _universe(log)
    j = u.left_join(first, "user_id")
    return j.select(u.user_id, segment=j.v.fill_null(MISSING))


def _cohort(log: EventLog, cohort: Any) -> ir.Table:
    cond, window = dict(cohort.when), int(cohort.window_days)
    # a name that matches no event would put every user in "not <name>": an error, not a segment
    require_events(log, conditions.events(cond) or None, key=f"breakdown.cohorts['{cohort.name}'].when")
    leaves = conditions.leaves(cond)
    cols = {conditions.leaf_key(lf): f"e{i}" for i, lf in enumerate(leaves)}
    s = log.starts().select("user_id", s0=day_index(ibis._.start_day))
    d = log.daily
    d = d.join(s, "user_id").mutate(di=day_index(d.day))
    d = d.filter((d.di >= d.s0) & (d.di < d.s0 + window))
    aggs: dict[str, Any] = {"active_days": d.day.nunique(where=d.active)}
    for lf in leaves:
        if "where" not in lf:
            aggs[cols[conditions.leaf_key(lf)]] = d.n.sum(where=d.event == lf["event"])
    counts = d.group_by("user_id").aggregate(**aggs)
    for lf in leaves:
        if "where" in lf:
            c = cols[conditions.leaf_key(lf)]
            f = log.filtered_daily(lf).join(s, "user_id")
            f = f.mutate(di=day_index(f.day))
            f = f.filter((f.di >= f.s0) & (f.di < f.s0 + window)).group_by("user_id").aggregate(**{c: ibis._.n.sum()})
            counts = counts.left_join(f, "user_id").select(*counts.columns, c)
    t = s.left_join(counts, "user_id").select(
        s.user_id, s.s0, **{c: ibis._[c].fill_null(0).cast("int64") for c in ["active_days", *cols.values()]})
    last = period_index_py(log.last_day, "day")
    held = conditions.compile(cond, t, cols)
    seg = ibis.cases((held, ibis.literal(cohort.name)), (t.s0 + window - 1 > last, ibis.literal(NOT_OVER)),
                     else_=ibis.literal(f"not {cohort.name}"))
    assigned = t.select("user_id", segment=seg)
    u = _universe(log)
    j = u.left_join(assigned, "user_id")
    return j.select(u.user_id, segment=j.segment.fill_null(MISSING))


def segments(log: EventLog, breakdown: BreakdownParams) -> Segments:
    """The users of ``log`` split by ``breakdown.by`` (definitions in the module docstring), the
    ``breakdown.top`` largest segments kept and the rest grouped as ``(other)``.

    Raises
    ------
    DataError
        When ``by`` names an attribute the users table lacks or a property the events lack.

    Examples
    --------
    >>> from retention_kit.data.params import BreakdownParams
    >>> seg = segments(log, BreakdownParams(by="plan", top=1))
    >>> seg.names  # the largest plan, then everyone else
    ('free', '(other)')
    """
    if breakdown.by is None:
        raise ValueError("segments: the breakdown has no 'by'")
    by = breakdown.by
    kind = segment_kind(by, breakdown)
    key = ("segments.assign", by, kind, breakdown.model_dump_json())

    def build() -> tuple[ir.Table, tuple[str, ...], dict[str, int]]:
        if kind == "attribute":
            raw = _attribute(log, by)
        elif kind == "first_property":
            raw = _first_property(log, by)
        else:
            raw = _cohort(log, next(c for c in breakdown.cohorts if c.name == by))
        raw = raw.cache()
        sizes = fetch(raw.group_by("segment").aggregate(users=raw.count()))
        sizes = sizes.sort_values(["users", "segment"], ascending=[False, True])
        keep = sizes["segment"].head(int(breakdown.top)).tolist()
        rest = sizes[~sizes["segment"].isin(keep)]
        names = {s: int(n) for s, n in zip(sizes["segment"], sizes["users"]) if s in keep}
        if len(rest):
            names[OTHER] = names.get(OTHER, 0) + int(rest["users"].sum())
            table = raw.mutate(segment=ibis.ifelse(raw.segment.isin(keep), raw.segment, ibis.literal(OTHER)))
        else:
            table = raw
        order = [n for n in names if n != OTHER] + ([OTHER] if OTHER in names else [])
        return table.cache(), tuple(order), {n: names[n] for n in order}

    table, names, sizes = log.memoized(key, build)
    return Segments(log=log, by=by, kind=kind, table=table, names=names, sizes=sizes)
