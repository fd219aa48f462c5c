"""The loaded event log: what every analysis starts from.

Definitions in force for every analysis:

- **Local time.** Naive timestamps are read as local time in ``data.timezone``; timezone-aware
  timestamps (and strings with an offset) are converted to it. Days, weeks and months are calendar
  periods in that zone.
- **Valid rows.** A row needs a user id (not null, not blank), a time that parses and lies in
  ``[data.valid_from, data.valid_until]`` (default 1990-01-01 to tomorrow) and an event name.
  Other rows are dropped and counted by reason (:mod:`retention_kit.data.rules`).
- **Activity.** Events in ``data.exclude_events`` are removed entirely. Of the rest, an event
  counts as activity if ``data.active_events`` is null or lists it. A user is active on a day
  with at least one such event.
- **Data range.** The log's range runs from the first to the last local day with any remaining
  event (:attr:`DataQuality.first_day`, the overview's range). Activity analyses use the activity
  range (:attr:`EventLog.first_day`): from the first day with an event that counts as activity to
  the last day with any event. Rows before the first day of activity (a campaign log that starts
  before the purchases, say) say nothing about who was active then, so they neither start a
  period nor make the first activity cohort look new; the quality notes say how many there are.

The raw rows stay in the engine: :attr:`EventLog.daily` holds one row per (user, day, event),
built once per load (:func:`retention_kit.data.load_events`). Tables that several analyses
derive from it are built once per log through :meth:`EventLog.memoized`, the kit's one cache of
derived tables.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

import ibis
import ibis.expr.types as ir
import pandas as pd

from ..core import conditions
from ..core.cadence import day_gaps
from ..core.periods import Granularity, complete_range
from ..errors import NotEnoughDataError
from .params import DataParams

__all__ = ["EventLog", "DataQuality", "LoadStats", "SOURCE_KEY"]

#: Columns added to :attr:`EventLog.source_rows`: the kit's reading of the row's user, local
#: time and event (the source may name them with dotted paths, lists or a constant).
SOURCE_KEY = ("__rk_user", "__rk_ts", "__rk_event")

T = TypeVar("T")

#: Derived tables that several notebooks build from the same log: a log loaded through the
#: activity cache keeps them there (:meth:`EventLog.memoized`), so the run's next kernel reads
#: them instead of building them again.
PERSISTED = frozenset({("log.active_days",), ("log.starts",), ("log.user_cadence",)})


@dataclasses.dataclass(frozen=True)
class DataQuality:
    """What loading found: rows read, rows dropped by reason, and what remains.

    ``dropped`` maps a plain-language reason to a row count; ``excluded`` counts rows of
    ``exclude_events`` (removed by configuration, not by fault), ``excluded_events`` per name.
    ``first_day`` and ``last_day`` bound every remaining event; ``first_active_day`` is the first
    day with activity and ``rows_before_activity`` the events before it.
    """

    rows_read: int
    dropped: dict[str, int]
    excluded: int
    rows_kept: int
    users: int
    active_users: int
    event_types: int
    first_day: dt.date
    last_day: dt.date
    first_active_day: dt.date
    rows_before_activity: int = 0
    excluded_events: dict[str, int] = dataclasses.field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def to_frame(self) -> pd.DataFrame:
        """One row per check: check, rows, share of rows read."""
        rows = [("rows read", self.rows_read)]
        rows += [(f"dropped: {k}", v) for k, v in self.dropped.items()]
        rows += [("excluded by data.exclude_events", self.excluded), ("rows kept", self.rows_kept)]
        df = pd.DataFrame(rows, columns=["check", "rows"])
        return df.assign(share=df["rows"] / max(self.rows_read, 1))


@dataclasses.dataclass(frozen=True)
class LoadStats:
    """What one load cost (the runner writes it into ``status.json`` as ``load``): ``seconds``,
    ``rows_scanned`` and ``files_scanned`` (raw rows and files read; 0 when the cache held
    everything), ``cache``: ``hit``, ``partial`` or ``miss``."""

    seconds: float
    rows_scanned: int
    files_scanned: int
    cache: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class EventLog:
    """A validated event log in the engine.

    Attributes
    ----------
    events : ibis Table
        Valid rows: ``user_id``, ``ts`` (naive local timestamp), ``day`` (local date), ``event``,
        ``active`` (bool), plus ``revenue`` when ``data.revenue`` is set, plus one column per
        ``data.properties`` entry, named as listed (for property filters and ``first.<property>``
        breakdowns); a lazy view on the source, opened on first use.
    daily : ibis Table
        The aggregate: one row per ``user_id``, ``day``, ``event`` with ``n`` (events),
        ``active`` and, with revenue, ``revenue`` (sum); held in the engine, or read from the
        activity cache's files (:mod:`retention_kit.data.cache`).
    users : ibis Table or None
        From ``data.users``: ``user_id``, ``signup_day`` (local date) and the attribute columns.
    quality : DataQuality
    params : DataParams
    source_rows : ibis Table or None
        The source's valid rows with every column as read, plus the :data:`SOURCE_KEY` columns (a
        lazy view on the source, for checks that look at whole rows, such as exact duplicates);
        None when the log was built otherwise.
    user_keys : ibis Table or None
        When the source's user ids are text, ``daily`` and ``users`` carry a dense integer key in
        ``user_id`` instead (joins and group-bys on integers run about 4x faster than on text at
        10M events); this table maps ``key`` back to the original ``user_id``. ``events`` keeps
        the original ids. Use :meth:`original_ids` before showing or exporting ids.

    load_stats : LoadStats or None
        What the load cost: seconds, raw rows and files scanned, and whether the activity cache
        held the log (``hit``), part of it (``partial``) or none of it (``miss``).

    Examples
    --------
    >>> log.quality.users > 0, log.params.timezone
    (True, 'UTC')
    """

    daily: ir.Table
    users: ir.Table | None
    quality: DataQuality
    params: DataParams
    con: Any = dataclasses.field(repr=False, compare=False)
    user_keys: ir.Table | None = dataclasses.field(default=None, repr=False, compare=False)
    #: builds :attr:`events` / :attr:`source_rows` on first use (the source is not opened before)
    events_view: Callable[[], ir.Table] | None = dataclasses.field(default=None, repr=False, compare=False)
    source_rows_view: Callable[[], ir.Table] | None = dataclasses.field(default=None, repr=False, compare=False)
    load_stats: LoadStats | None = dataclasses.field(default=None, repr=False, compare=False)
    #: the source's parts and the activity cache's stored results (set by a cached load; see
    #: :meth:`source_results`)
    stored: Any = dataclasses.field(default=None, repr=False, compare=False)
    _memo: dict[Hashable, Any] = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)
    # the activity cache's read lock, held while the log lives (set by the loader)
    _hold: Any = dataclasses.field(default=None, init=False, repr=False, compare=False)

    @property
    def events(self) -> ir.Table:
        """The valid rows (see the class docstring)."""
        if self.events_view is None:
            raise AttributeError("this log was built without its source rows")
        return self.memoized(("log.events",), self.events_view)

    @property
    def source_rows(self) -> ir.Table | None:
        """The source's valid rows with every column as read, plus the :data:`SOURCE_KEY` columns
        (a lazy view on the source, for checks that look at whole rows, such as exact
        duplicates); None when the log was built otherwise."""
        if self.source_rows_view is None:
            return None
        return self.memoized(("log.source_rows",), self.source_rows_view)

    def source_results(self, name: str, compute: Callable[[ir.Table], dict[str, Any]]) -> list[dict[str, Any]]:
        """``compute(rows)`` over the :attr:`source_rows` of each part of the source: one part for a
        log built without the activity cache, else one per cached piece of the source (one for the
        whole source when pieces share days). The results of a cached log are kept in the cache
        (``stored.json``, keyed by ``name``, the data params and the part's files), so a later load
        of the same files reads them instead of reading the raw rows again, and an incremental run
        computes them for its new piece only. For small results that add up over the parts (counts
        of whole rows, whose equal rows never lie in two parts); ``compute`` returns plain JSON
        values."""
        if self.stored is not None and self.stored.daily is self.daily:
            return self.stored.results(name, compute)
        rows = self.source_rows
        if rows is None:
            raise AttributeError("this log was built without its source rows")
        return [compute(rows)]

    def prefill(self, key: Hashable, value: Any) -> None:
        """Put a value the loader already knows (e.g. the event names) into the memo."""
        self._memo[key] = value

    def __repr__(self) -> str:
        """A short summary, as a fitted model prints itself: what is in the log and what loading
        found (the engine expressions stay out of a notebook cell)."""
        q, p = self.quality, self.params
        lines = [f"<EventLog: {q.rows_kept:,} events of {q.users:,} users>"]
        rng = f"{q.first_day} to {q.last_day}"
        if q.first_active_day != q.first_day:
            rng += f" (activity from {q.first_active_day}; {q.rows_before_activity:,} events before it)"
        lines.append(f"  range         {rng}, {p.timezone} calendar days")
        lines.append(f"  active users  {q.active_users:,}")
        lines.append(f"  event types   {q.event_types:,}")
        share = q.dropped_total / max(q.rows_read, 1)
        dropped = "; ".join(f"{n:,} {why}" for why, n in q.dropped.items())
        lines.append(f"  rows read     {q.rows_read:,}; dropped {q.dropped_total:,} ({share:.1%})"
                     + (f": {dropped}" if dropped else ""))
        if q.excluded:
            lines.append(f"  excluded      {q.excluded:,} rows of {', '.join(p.exclude_events)}")
        lines += [f"  note          {n}" for n in q.notes]
        return "\n".join(lines)

    # ------------------------------------------------------------------ the one cache

    def memoized(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()`` once per log and ``key``; every derived table that analyses share goes
        through here, so it lives and dies with the log.

        A table that ``build`` returns is cached in the engine (``.cache()``), so it is computed
        once however many queries read it; a tuple (a table with counts, say) is kept as built.
        Keys are tuples that start with the owner's name, e.g. ``("ladder.rungs", ...)``.
        """
        if key not in self._memo:
            if key in PERSISTED and self.stored is not None and self.stored.daily is self.daily:
                # shared by several notebooks: kept in the activity cache for the next kernel
                self._memo[key] = self.stored.table(key[0].replace(".", "_"), build, self.con).cache()
                return self._memo[key]
            value = build()
            lazy = isinstance(key, tuple) and key[:1] in (("log.events",), ("log.source_rows",))
            self._memo[key] = value.cache() if isinstance(value, ir.Table) and not lazy else value
        return self._memo[key]

    # ------------------------------------------------------------------ the data range

    @property
    def first_day(self) -> dt.date:
        """First day of the activity range (see the module docstring): what decides complete
        periods and left-censoring."""
        return self.quality.first_active_day

    @property
    def last_day(self) -> dt.date:
        return self.quality.last_day

    def complete_periods(self, granularity: Granularity, *, hint: str = "") -> tuple[int, int]:
        """First and last index of the periods lying wholly within the data range
        (:func:`retention_kit.core.periods.complete_range`), or NotEnoughDataError when there is
        none. ``hint`` is added to that error (what the user could change)."""
        rng = complete_range(self.first_day, self.last_day, granularity, self.params.week_start)
        if rng is None:
            raise NotEnoughDataError(
                f"the data ({self.first_day} to {self.last_day}) does not cover one complete {granularity} "
                f"(no complete {granularity} lies within it){hint}"
            )
        return rng

    # ------------------------------------------------------------------ shared derived tables

    def active_days(self) -> ir.Table:
        """Distinct (``user_id``, ``day``) pairs on which the user was active."""
        d = self.daily
        return self.memoized(("log.active_days",), lambda: d.filter(d.active).select("user_id", "day").distinct())

    def revenue_rows(self) -> ir.Table:
        """The rows of :attr:`daily` that carry revenue (not null, not zero), cached: every
        revenue total reads these alone. The sums are the same (a null or a zero adds nothing;
        a total with no such row is null, where its callers read 0 or empty as before) from a
        small part of the daily table."""
        d = self.daily
        return self.memoized(("log.revenue_rows",), lambda: d.filter(d.revenue.notnull() & (d.revenue != 0)))

    @property
    def signups_known(self) -> bool:
        """Whether the users table gives signup days (``data.users.signup_time``): then a user's
        start is their real signup and the cohort holding the first day of data is not
        left-censored. A users table of attributes alone does not."""
        if self.users is None:
            return False
        return bool(self.memoized(("log.signups_known",),
                                  lambda: (bool(self.users.signup_day.notnull().any().execute()),))[0])

    def starts(self) -> ir.Table:
        """Each user's start day: ``user_id``, ``start_day``.

        The signup day from the users table when one is given (users with no events included),
        else the first day with activity. With a users table, active users missing from it start
        on their first active day.
        """
        def build() -> ir.Table:
            first = self.active_days().group_by("user_id").aggregate(start_day=ibis._.day.min())
            if self.users is not None:
                u = self.users.filter(self.users.signup_day.notnull()).select("user_id", start_day="signup_day")
                first = u.union(first.anti_join(u, "user_id"))
            return first

        return self.memoized(("log.starts",), build)

    def user_cadence(self) -> ir.Table:
        """Per user: ``user_id``, ``active_days``, ``median_gap`` (days between consecutive active
        days, float, null with one active day), ``first_active``, ``last_active``
        (:func:`retention_kit.core.cadence.day_gaps` over :meth:`active_days`). Shared by the
        stickiness report (usage cadence) and lifecycle (thresholds, at-risk users).
        """
        def build() -> ir.Table:
            g = day_gaps(self.active_days())
            return g.select("user_id", active_days=g.days, median_gap=g.median_gap,
                            first_active=g.first_day, last_active=g.last_day)

        return self.memoized(("log.user_cadence",), build)

    def keyed_events(self) -> ir.Table:
        """:attr:`events` with ``user_id`` holding the same ids as :attr:`daily` (the dense
        integer key when the source's ids are text), so event rows join the derived tables."""
        if self.user_keys is None:
            return self.events
        e, k = self.events, self.user_keys.view()
        j = e.join(k, e.user_id == k.user_id)
        return j.select(*[k.key.name("user_id") if c == "user_id" else e[c] for c in e.columns])

    def filtered_daily(self, leaf: Mapping[str, Any]) -> ir.Table:
        """Per user and day, the events of a filtered event condition
        (``{event: purchase, where: {amount: {gte: 50}}}``, :mod:`retention_kit.core.conditions`):
        ``user_id``, ``day``, ``n``; built once per log and leaf from the event rows (the only
        read of raw rows after loading, so it is memoized)."""
        def build() -> ir.Table:
            e = self.keyed_events()
            e = e.filter((e.event == ibis.literal(str(leaf["event"]))) & conditions.where_expr(leaf["where"], e))
            return e.group_by(["user_id", "day"]).aggregate(n=e.count())

        return self.memoized(("log.filtered_daily", conditions.leaf_key(leaf)), build)

    def original_ids(self, table: ir.Table) -> ir.Table:
        """``table`` with its ``user_id`` column turned back into the source's own user ids."""
        if self.user_keys is None:
            return table
        k = self.user_keys.view()  # a fresh reference: ``table`` may itself come from a join with the keys
        j = table.join(k, table.user_id == k.key)
        return j.select(*[k.user_id.name("user_id") if c == "user_id" else table[c] for c in table.columns])
