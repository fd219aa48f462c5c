"""Loading: a source becomes a validated :class:`~retention_kit.data.log.EventLog`.

The pipeline, step by step (each a function below):

1. :func:`_open` reads the source (:mod:`.sources`) and checks the mapped columns (plain or
   dotted paths into nested fields, :func:`.rules.column`);
2. :func:`_row_expressions` builds the typed columns (the user id, local time from text,
   timestamps or epoch numbers, the event as text or a constant, revenue) and the drop-rule
   masks (:mod:`.rules`);
3. the users table is read (:mod:`.users`) and its id type aligned with the events';
4. a cache entry is used when the run has one (:mod:`.cache`), else
5. :func:`_count_rows` counts rows by rule in one aggregate query and :func:`_enforce_limits`
   fails when one rule drops more than ``data.max_dropped_share``;
6. the valid rows are aggregated to the daily table and keyed (:mod:`.keys`);
7. :func:`_summarise` and :func:`_notes` describe what remains;
8. the entry is stored for the run's other notebooks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import zoneinfo
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd

from ..errors import DataError, SourceError
from .cache import ActivityCache, Entry
from .keys import integer_keys, with_keys
from .log import SOURCE_KEY, DataQuality, EventLog
from .names import check_names, require_params_events
from .params import DataParams, Params
from .rules import DROP_RULES, Row, column, epoch_hint, first_of, local_time, row_checks
from .sources import check_gzip, data_spec, engine_message, read_fix, read_source
from .users import load_users
from ..core.portable import count_true

__all__ = ["load_events"]


def _fmt(n: int) -> str:
    return f"{n:,}"


def load_events(params: Params, *, source: Any = None, users: Any = None, con: Any = None,
                cache_dir: str | os.PathLike[str] | None = None) -> EventLog:
    """Read, validate and index a product's event log.

    Parameters
    ----------
    params
        Validated params; ``params.data`` says where the log is and how to read it.
    source, users
        Optional pandas DataFrame or Ibis table used instead of ``data.source`` / ``data.users``
        (params built for a frame need no ``data.source``). The users table is ``users`` when
        given, else ``data.users`` read whole, also when ``source`` is a subset of the events: the
        quality notes then say how many users-table users have no events (they count as signed
        up and never active, which dilutes retention; pass ``users=`` to match).
    con
        Optional DuckDB connection from :func:`retention_kit.data.engine.connect`.
    cache_dir
        The run's activity cache folder (:mod:`retention_kit.data.cache`; the runner passes one
        to every notebook): the daily table and the quality counts are stored there under a key
        of the data params and the source files' sizes and times, so the notebooks of one run
        scan the raw log once between them. ``None`` caches nothing. The source itself is never
        written.

    Raises
    ------
    SourceError, DataError
        With the column, the number of offending rows and the fix.

    Examples
    --------
    >>> from retention_kit import load_events, params_from_dict
    >>> params = params_from_dict({"product": "doc", "data": {"source": {"demo": {"n_users": 200}}}})
    >>> load_events(params).quality.users
    200
    """
    text: tuple[str, ...] = ()
    cache = ActivityCache(Path(cache_dir)) if cache_dir is not None and source is None and users is None else None
    while True:
        try:
            return _load(params, source=source, users=users, con=con, cache=cache, text_columns=text)
        except duckdb.Error as e:
            # The CSV reader guesses column types from the first rows; a later row that contradicts
            # the guess (an id 'abc' after 30,000 numbers, one bad time) fails mid-scan. Read that
            # column as text and validate it like any text column; anything else is a read error.
            m = re.search(r'converting column "([^"]+)"', str(e))
            if m and m.group(1) not in text and source is None:
                text = (*text, m.group(1))
                continue
            where = "the event table"
            if source is None:
                spec = data_spec(params)
                where = f"data.source ({params.resolve(spec.path)})" if spec.path else "data.source"
            raise SourceError(f"{where}: the engine failed while reading the data: {engine_message(e)}"
                              f"{read_fix(e, 'csv')}") from None


@dataclasses.dataclass(frozen=True)
class _Columns:
    """The source's columns as the kit reads them (step 2)."""

    row: Row
    user: ir.Value
    revenue: ir.FloatingValue | None
    until: dt.date


def _open(params: Params, source: Any, con: Any, text_columns: tuple[str, ...]) -> tuple[ir.Table, Any]:
    data = params.data
    if source is None and data.source is None:
        raise SourceError("data.source is not set: name the events' file or table in the params, or pass the "
                          "events to load_events(params, source=frame)")
    raw, con = read_source(source if source is not None else data.source, base=params, con=con,
                           text_columns=text_columns)
    users = [column(raw, c, "data.user") for c in data.user_columns]
    column(raw, data.time, "data.time")
    for c in data.event_columns:
        column(raw, c, "data.event")
    for c in _revenue_columns(data):
        column(raw, c, "data.revenue")
    for c in data.properties:
        column(raw, c, "data.properties")
    user = first_of(users)
    if not (user.type().is_string() or user.type().is_integer()):
        raise DataError(f"column '{data.user_label}' (data.user) has type {user.type()}; "
                        "user ids must be text or whole numbers")
    return raw, con


def _revenue_columns(data: DataParams) -> list[str]:
    return [data.revenue] if isinstance(data.revenue, str) else list(data.revenue or [])


def _row_expressions(raw: ir.Table, data: DataParams, decimal: str | None = None) -> _Columns:
    tz = zoneinfo.ZoneInfo(data.timezone)
    until = data.valid_until or (dt.datetime.now(tz).date() + dt.timedelta(days=1))
    revenue = None
    for c in _revenue_columns(data):
        v = column(raw, c, "data.revenue", want="number")
        if v.type().is_string() and decimal == ",":
            # a column the reader left as text: 1.234,5 is 1234.5 (a point groups thousands)
            v = v.replace(".", "").replace(",", ".")
        revenue = v.cast("float64") if revenue is None else revenue * v.cast("float64")
    if revenue is not None:
        # a NaN is no amount: DuckDB reads a pandas NaN as null, Spark keeps it as NaN, and one
        # NaN would make every sum it enters NaN
        revenue = ibis.ifelse(revenue.isnan(), ibis.null("float64"), revenue)
    # ids are used exactly as written: trimming every id costs a second per 10M rows per pass
    user = first_of([column(raw, c, "data.user") for c in data.user_columns])
    time_raw = column(raw, data.time, "data.time", want="number" if data.time_unit else "any")
    if data.event_constant is not None:
        event = ibis.literal(data.event_constant, type="string")
    else:
        event = first_of([column(raw, c, "data.event").cast("string") for c in data.event_columns])
    row = Row(
        user=user,
        time_raw=time_raw,
        ts=local_time(time_raw, "data.time", data.time, unit=data.time_unit, zone=data.source_timezone),
        event=event,
        lo=ibis.timestamp(dt.datetime.combine(data.valid_from, dt.time())),
        hi=ibis.timestamp(dt.datetime.combine(until + dt.timedelta(days=1), dt.time())),
    )
    return _Columns(row=row, user=user, revenue=revenue, until=until)


def _valid_events(raw: ir.Table, cols: _Columns, data: DataParams, valid: ir.BooleanValue) -> ir.Table:
    r = cols.row
    active = r.event.isin(data.active_events) if data.active_events is not None else ibis.literal(True)
    sel: dict[str, Any] = {"user_id": cols.user, "ts": r.ts, "event": r.event, "active": active}
    if cols.revenue is not None:
        sel["revenue"] = cols.revenue
    for c in data.properties:  # kept as read (numbers stay numbers) for filters and breakdowns
        sel[c] = column(raw, c, "data.properties")
    events = raw.filter(valid).select(**sel)
    return events.mutate(day=events.ts.date())


def _load(params: Params, *, source: Any, users: Any, con: Any, cache: ActivityCache | None,
          text_columns: tuple[str, ...]) -> EventLog:
    data = params.data
    raw, con = _open(params, source, con, text_columns)
    cols = _row_expressions(raw, data, data_spec(params).decimal if source is None else None)
    first_fail, excluded, valid = row_checks(cols.row, data)

    users_t = load_users(params, data.users, users, con, text_columns) if (data.users or users is not None) else None
    if users_t is not None and users_t.user_id.type() != cols.user.type():
        # one side read its ids as numbers, the other as text (a CSV beside a frame, or a stray
        # text id): compare them as text
        users_t = users_t.mutate(user_id=users_t.user_id.cast("string"))
        cols = dataclasses.replace(cols, user=cols.user.cast("string"))
    events = _valid_events(raw, cols, data, valid)

    key = cache.key(params) if cache is not None else None
    hit = cache.get(key, con) if cache is not None and key is not None else None
    if hit is not None:
        if hit.keys is not None and users_t is not None:
            users_t = with_keys(users_t, hit.keys)
        return _checked(params, EventLog(events=events, daily=hit.daily, users=users_t, quality=hit.quality,
                                         params=data, con=con, user_keys=hit.keys, source_rows=_source_rows(raw, cols, valid)))

    if source is None:
        check_gzip(params)
    counts = _count_rows(raw, cols, data, first_fail, excluded, valid)
    dropped = _enforce_limits(raw, cols, data, counts)

    aggs: dict[str, Any] = {"n": events.count()}
    if data.revenue:
        aggs["revenue"] = events.revenue.sum()
    daily = events.group_by(["user_id", "day", "event", "active"]).aggregate(**aggs)
    daily, users_t, keys = integer_keys(daily, users_t)

    summary = _summarise(daily)
    kept = int(summary["rows"]) if pd.notna(summary["rows"]) else 0
    if kept == 0:
        raise DataError(
            f"no events left after filters: {_fmt(counts['rows'])} rows read, {_fmt(sum(dropped.values()))} "
            f"dropped as invalid, {_fmt(counts['excluded'])} removed by data.exclude_events; "
            "check data.exclude_events and the source"
        )
    first_active = pd.Timestamp(summary["first_active_day"]).date() if pd.notna(summary["first_active_day"]) else None
    if first_active is None:  # no event counts as activity: only a wrong data.active_events can do that
        present = set(daily.select("event").distinct().execute()["event"])
        check_names(data.active_events, present, key="data.active_events",
                    where=f"in column '{data.event_label}' of the {_fmt(kept)} valid rows")
        raise DataError(f"none of the {_fmt(kept)} valid rows counts as activity, so no user is ever active; "
                        "check data.active_events")
    first_day = pd.Timestamp(summary["first_day"]).date()
    before = _rows_before(daily, first_active) if first_active > first_day else {}
    quality = DataQuality(
        rows_read=counts["rows"],
        dropped={k: v for k, v in dropped.items() if v},
        excluded=counts["excluded"],
        rows_kept=kept,
        users=int(summary["users"]),
        active_users=int(summary["active_users"]),
        event_types=int(summary["event_types"]),
        first_day=first_day,
        last_day=pd.Timestamp(summary["last_day"]).date(),
        first_active_day=first_active,
        rows_before_activity=sum(before.values()),
        excluded_events={name: counts[f"excl_{i}"] for i, name in enumerate(data.exclude_events)},
        notes=tuple(_notes(daily, users_t, keys, data, first_active, before,
                           mixed_sources=source is not None and users is None and data.users is not None)),
    )
    if cache is not None and key is not None:
        cache.put(key, Entry(daily=daily, keys=keys, quality=quality))
    return _checked(params, EventLog(events=events, daily=daily, users=users_t, quality=quality, params=data,
                                     con=con, user_keys=keys, source_rows=_source_rows(raw, cols, valid)))


def _source_rows(raw: ir.Table, cols: _Columns, valid: ir.BooleanValue) -> ir.Table:
    """The valid rows with every source column, plus the kit's reading of each row's user, local
    time and event (:data:`retention_kit.data.log.SOURCE_KEY`), which checks of whole rows key on."""
    user, ts, event = SOURCE_KEY
    return raw.filter(valid).mutate(**{user: cols.user, ts: cols.row.ts, event: cols.row.event})


def _checked(params: Params, log: EventLog) -> EventLog:
    """The log, once every event name the params use is known to match an event of it."""
    require_params_events(log, params.event_names())
    return log


def _count_rows(raw: ir.Table, cols: _Columns, data: DataParams, first_fail: list[ir.BooleanValue],
                excluded: ir.BooleanValue, valid: ir.BooleanValue) -> dict[str, int]:
    """One aggregate query: rows read, rows per drop rule (first failing rule), excluded rows
    (in all and per ``exclude_events`` name), and the two whole-column time checks; raises when
    the time column is unusable."""
    def s(cond: ir.BooleanValue) -> ir.IntegerScalar:
        return count_true(cond)  # a null event makes isin() null

    r = cols.row
    row = raw.aggregate(
        rows=raw.count(),
        time_null_any=s(r.time_raw.isnull()),
        time_unusable=s(r.ts.isnull()),
        excluded=s(excluded),
        **{f"rule_{rule.name}": s(mask) for rule, mask in zip(DROP_RULES, first_fail)},
        **{f"excl_{i}": s(excluded & (cols.row.event == name)) for i, name in enumerate(data.exclude_events)},
    ).execute().iloc[0]
    counts = {k: int(v) if pd.notna(v) else 0 for k, v in row.items()}
    rows = counts["rows"]
    if rows == 0:
        raise DataError("the event log is empty (0 rows); check data.source points at the right file")
    if counts["time_null_any"] == rows:
        raise DataError(f"column '{data.time}' (data.time) is empty: all {_fmt(rows)} rows are null"
                        f"{_nested_hint(data, 'time_null')}; map data.time to the column holding event times")
    if counts["time_unusable"] == rows:
        sample = raw.filter(r.time_raw.notnull()).select(v=r.time_raw.cast("string")).limit(1).execute()["v"].iloc[0]
        fix = ("give ISO timestamps such as 2024-03-01 14:05:00" if data.time_unit is None else
               f"data.time_unit is {data.time_unit}, but {epoch_hint(r.time_raw)}")
        raise DataError(
            f"column '{data.time}' (data.time): none of its {_fmt(rows)} values parse as a time "
            f"(e.g. {str(sample)[:40]!r}); {fix}"
        )
    return counts


def _enforce_limits(raw: ir.Table, cols: _Columns, data: DataParams, counts: dict[str, int]) -> dict[str, int]:
    """Rows dropped per reason (every rule, in order); raise :class:`DataError` for the first rule
    that drops more than ``data.max_dropped_share`` of the rows."""
    rows = counts["rows"]
    dropped: dict[str, int] = {}
    for rule in DROP_RULES:
        n = counts[f"rule_{rule.name}"]
        reason = rule.label(data, cols.until)
        dropped[reason] = n
        if n and n / rows > data.max_dropped_share:
            example = _nested_hint(data, rule.name) if n == rows else ""
            if rule.shows_example and not example:
                r = cols.row
                v = raw.filter(rule.fails(r)).select(v=r.time_raw.cast("string")).limit(1).execute()["v"]
                example = f" (e.g. {str(v.iloc[0])[:40]!r})" if len(v) else ""
            raise DataError(
                f"{_fmt(n)} of {_fmt(rows)} rows ({n / rows:.1%}) have a {reason}{example}, more than "
                f"data.max_dropped_share ({data.max_dropped_share:.0%}); {rule.fix}"
            )
    return dropped


def _nested_hint(data: DataParams, rule: str) -> str:
    """When every row lacks a value at a dotted path (a key that no map, JSON object or
    key/value list holds), say so: the path is likely misspelt."""
    cols = {"user": data.user_columns, "time_null": (data.time,), "event": data.event_columns}.get(rule, ())
    nested = [c for c in cols if "." in c]
    return f" (no row has a value at {', '.join(nested)}: check the path's spelling and case)" if nested else ""


def _summarise(daily: ir.Table) -> pd.Series:
    return daily.aggregate(
        rows=daily.n.sum(),
        users=daily.user_id.nunique(),
        active_users=daily.user_id.nunique(where=daily.active),
        event_types=daily.event.nunique(),
        first_day=daily.day.min(),
        first_active_day=daily.day.min(where=daily.active),
        last_day=daily.day.max(),
    ).execute().iloc[0]


def _rows_before(daily: ir.Table, first_active: dt.date) -> dict[str, int]:
    """Events per name on days before the first day of activity."""
    d = daily.filter(daily.day < first_active)
    df = d.group_by("event").aggregate(n=d.n.sum()).execute()
    return dict(sorted(zip(df["event"], df["n"].astype(int)), key=lambda kv: (-kv[1], kv[0])))


def _notes(daily: ir.Table, users: ir.Table | None, keys: ir.Table | None, data: DataParams,
           first_active: dt.date, before: dict[str, int], *, mixed_sources: bool = False) -> list[str]:
    """Valid-but-odd findings for the overview and ``check``: ids that mix numbers and text, ids
    that the users table and the events do not share, rows before the first day of activity."""
    notes = []
    id_table = keys if keys is not None else daily  # the source's own ids (daily may hold integer keys)
    if id_table.user_id.type().is_string():
        ids = id_table.select("user_id").distinct()
        kinds = ids.aggregate(numeric=count_true(ids.user_id.re_search(r"^[0-9]+$")),
                              total=ids.count()).execute().iloc[0]
        numeric, total = int(kinds["numeric"] or 0), int(kinds["total"])
        if 0 < numeric < total:
            # often an export (or a spreadsheet) that turned some ids into numbers; they are kept,
            # each as its own user
            notes.append(f"user ids in '{data.user_label}' mix {_fmt(numeric)} purely numeric ids with "
                         f"{_fmt(total - numeric)} other ids; if one user can appear both ways (e.g. '00123' "
                         "and '123', or 'u123'), fix the export, as they count as different users")
    if users is not None:
        # renamed apart: both sides derive from the same tables, and Ibis refuses ambiguous joins
        log_users = daily.select(lid=daily.user_id).distinct()
        table_users = users.select(tid=users.user_id)
        j = table_users.outer_join(log_users, table_users.tid == log_users.lid)
        c = j.aggregate(only_users=count_true(j.tid.notnull() & j.lid.isnull()),
                        only_events=count_true(j.lid.notnull() & j.tid.isnull()),
                        n_table=count_true(j.tid.notnull())).execute().iloc[0]
        only_users, only_events, n_table = int(c["only_users"]), int(c["only_events"]), int(c["n_table"])
        if only_users:
            why = ("the events were passed as source= but the users table is data.users, read whole: pass users= "
                   "with the matching users" if mixed_sources else
                   "if that is unexpected, check that both tables write user ids the same way")
            notes.append(f"{_fmt(only_users)} of {_fmt(n_table)} users in the users table never appear in the "
                         f"events: they count as signed up and never active; {why}")
        if only_events:
            notes.append(f"{_fmt(only_events)} users in the events are missing from the users table: they start "
                         "on their first active day")
    if before:
        names = ", ".join(f"{e} ({_fmt(n)})" for e, n in list(before.items())[:5]) + (" ..." if len(before) > 5 else "")
        notes.append(f"{_fmt(sum(before.values()))} events lie before the first day of activity ({first_active}): "
                     f"{names}; activity analyses start on {first_active}, so they neither start a period nor "
                     "make the first cohort look new")
    return notes
