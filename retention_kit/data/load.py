"""Loading: a source becomes a validated :class:`~retention_kit.data.log.EventLog`.

The pipeline, step by step (each a function below):

1. :func:`_open` reads the source (:mod:`.sources`) and checks the mapped columns (plain or
   dotted paths into nested fields, :func:`.rules.column`);
2. :func:`_row_expressions` builds the typed columns (the user id, local time from text,
   timestamps or epoch numbers, the event as text or a constant, revenue) and the drop rules'
   tests (:mod:`.rules`);
3. the users table is read (:mod:`.users`) and its id type aligned with the events';
4. the source is **scanned** (:mod:`.scan`): one aggregate query per piece of the source gives the
   daily table's rows and counts every removed row by its reason in the same pass; with a cache
   folder (:mod:`.cache`) the pieces are kept on disk and only new or changed files are scanned
   on the next load;
5. :func:`_check_counts` fails on an empty log or an unusable time column, and when one rule drops
   more than ``data.max_dropped_share`` of the rows;
6. text user ids get integer keys (:mod:`.keys`);
7. :func:`_summarise` and :func:`_notes` describe what remains (kept in the cache while nothing
   changes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd

from ..errors import DataError, SourceError
from .cache import (FORMAT, FileInfo, ProductCache, ReadHold, Stale, StoredResults, group_pieces, params_key, shared_days,
                    source_ident)
from .keys import collisions, hash_key, hashed, integer_keys
from .log import SOURCE_KEY, DataQuality, EventLog, LoadStats
from .names import check_names, require_new_names, require_params_events
from .params import DataParams, Params
from .rules import DROP_RULES, Row, column, epoch_hint, first_of, is_kept, local_time
from .scan import PieceStats, piece_stats, scan_rows, valid_rows
from .sources import check_gzip, data_spec, engine_message, read_fix, read_source
from .users import load_users
from ..core.portable import count_true

__all__ = ["load_events"]

#: The column that names each row's file when a scan reads some of the source's files.
FILE_COLUMN = "__rk_file"
Progress = Callable[[dict[str, Any]], None]


def _fmt(n: int) -> str:
    return f"{n:,}"


def load_events(params: Params, *, source: Any = None, users: Any = None, con: Any = None,
                cache_dir: str | os.PathLike[str] | None = None, progress: Progress | None = None) -> EventLog:
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
        A folder for the activity cache (:mod:`retention_kit.data.cache`; the runner passes
        ``<out>/.cache``): the product's scanned pieces, keys and counts are kept in
        ``<cache_dir>/<product>/``, so the next load scans only files that are new or changed
        since. Used for file and demo sources (not for frames, tables or other engines).
        ``None`` caches nothing. The source itself is never written.
    progress
        Called with a dict at each step of a long load (``stage``: ``scan`` with ``piece``,
        ``pieces``, ``rows_done``, ``rows_total``; ``build``; ``done``), e.g. for a progress line.

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
    cacheable = cache_dir is not None and source is None and users is None
    store = ProductCache.for_params(cache_dir, params) if cacheable else None
    while True:
        try:
            return _load(params, source=source, users=users, con=con, store=store, text_columns=text,
                         progress=progress or (lambda _: None))
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


def _open(params: Params, source: Any, con: Any, text_columns: tuple[str, ...],
          filename: str | None = None) -> tuple[ir.Table, Any]:
    data = params.data
    if source is None and data.source is None:
        raise SourceError("data.source is not set: name the events' file or table in the params, or pass the "
                          "events to load_events(params, source=frame)")
    raw, con = read_source(source if source is not None else data.source, base=params, con=con,
                           text_columns=text_columns, filename=filename)
    if filename is not None and filename in raw.columns:
        check = raw.drop(filename)
    else:
        check = raw
    users = [column(check, c, "data.user") for c in data.user_columns]
    column(check, data.time, "data.time")
    for c in data.event_columns:
        column(check, c, "data.event")
    for c in _revenue_columns(data):
        column(check, c, "data.revenue")
    for c in data.properties:
        column(check, c, "data.properties")
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




class _Reader:
    """The source, opened on first use: a load that finds everything in its cache never reads
    it (nor generates the demo), and the log's lazy views open it when they are used."""

    def __init__(self, params: Params, source: Any, con: Any, text_columns: tuple[str, ...],
                 filename: str | None = None, as_text: bool = False):
        self.params, self.source, self.con, self.text_columns = params, source, con, text_columns
        self.filename, self.as_text = filename, as_text
        self._raw: ir.Table | None = None

    def raw(self) -> ir.Table:
        """The source as read (with the file column when reading pieces of several files)."""
        if self._raw is None:
            self._raw, self.con = _open(self.params, self.source, self.con, self.text_columns, self.filename)
        return self._raw

    def plain(self, raw: ir.Table | None = None) -> ir.Table:
        """The source's own columns (no file column)."""
        raw = self.raw() if raw is None else raw
        return raw.drop(self.filename) if self.filename and self.filename in raw.columns else raw

    def columns(self, table: ir.Table) -> _Columns:
        decimal = data_spec(self.params).decimal if self.source is None else None
        cols = _row_expressions(table, self.params.data, decimal)
        if self.as_text and not cols.user.type().is_string():
            cols = dataclasses.replace(cols, user=cols.user.cast("string"))
            cols = dataclasses.replace(cols, row=dataclasses.replace(cols.row, user=cols.user))
        return cols

    def events(self) -> ir.Table:
        t = self.plain()
        cols = self.columns(t)
        valid = is_kept(cols.row, self.params.data)
        return _valid_events(t, cols, self.params.data, valid)

    def source_rows(self, paths: list[str] | None = None) -> ir.Table:
        """The valid rows with every source column (of the files ``paths`` only, when reading
        pieces of several files)."""
        raw = self.raw()
        if paths is not None and self.filename:
            raw = raw.filter(raw[self.filename].isin(paths))
        t = self.plain(raw)
        cols = self.columns(t)
        valid = is_kept(cols.row, self.params.data)
        return _source_rows(t, cols, valid)


def _until(data: DataParams) -> dt.date:
    return data.valid_until or (dt.datetime.now(zoneinfo.ZoneInfo(data.timezone)).date() + dt.timedelta(days=1))


def _users_table(params: Params, users: Any, con: Any, text_columns: tuple[str, ...],
                 store: ProductCache | None) -> tuple[ir.Table | None, str | None]:
    """The users table and (when cached) the identity of its source."""
    data = params.data
    if not (data.users or users is not None):
        return None, None
    ident = None
    if store is not None and users is None:
        found = source_ident(params, data.users.source)
        if found is not None:
            up = data.users.model_dump(mode="json")
            payload = json.dumps({"users": up, "files": [(f.path, f.fp) for f in found[1]], "base": params.base_dir,
                                  "text": sorted(text_columns)}, sort_keys=True, default=str)
            ident = hashlib.sha256(payload.encode()).hexdigest()[:16]
            name = f"users-{ident}.parquet"
            if store.path(name).exists():
                return con.read_parquet(str(store.path(name))), ident
            t = load_users(params, data.users, None, con, text_columns)
            store.write_parquet(t, name)
            return con.read_parquet(str(store.path(name))), ident
    return load_users(params, data.users, users, con, text_columns), ident


def _load(params: Params, *, source: Any, users: Any, con: Any, store: ProductCache | None,
          text_columns: tuple[str, ...], progress: Progress) -> EventLog:
    t0 = time.perf_counter()
    found = source_ident(params, params.data.source) if store is not None else None
    if found is None:
        return _load_once(params, source=source, users=users, con=con, text_columns=text_columns, t0=t0)
    if con is None:
        from .engine import connect

        con = connect(timezone=params.data.timezone)
    lock = store.lock()
    log = None
    with lock.shared_now():
        try:
            # a hit writes nothing: kernels of one run load side by side under the shared lock
            log = _load_cached(params, dataclasses.replace(store, readonly=True), found, con, text_columns,
                               progress, t0)
            hold = ReadHold(lock)
        except Stale:
            pass
    if log is None:
        lock.exclusive()
        try:
            log = _load_cached(params, store, found, con, text_columns, progress, t0)
            hold = ReadHold(lock)
        finally:
            lock.release_exclusive()
    object.__setattr__(log, "_hold", hold)
    return log


def _load_once(params: Params, *, source: Any, users: Any, con: Any, text_columns: tuple[str, ...],
               t0: float) -> EventLog:
    """A load without a cache: the whole source is one piece, kept in the engine."""
    data = params.data
    reader = _Reader(params, source, con, text_columns)
    raw = reader.raw()
    con = reader.con
    users_t = _users_table(params, users, con, text_columns, None)[0]
    reader.as_text = users_t is not None and users_t.user_id.type() != reader.columns(raw).user.type()
    if reader.as_text:
        # one side read its ids as numbers, the other as text (a CSV beside a frame, or a stray
        # text id): compare them as text
        users_t = users_t.mutate(user_id=users_t.user_id.cast("string"))
    cols = reader.columns(raw)
    keyed = hashed(con) and cols.user.type().is_string()
    if source is None:
        check_gzip(params)
    piece = scan_rows(raw, cols.row, cols.user, cols.revenue, data, key=keyed).cache()
    stats = piece_stats(piece, data)
    counts = _counts([stats])
    dropped = _check_counts(reader, counts, data, cols.until)
    daily, users_t, keys = _keyed(piece, None, users_t, keyed)
    quality, names = _describe(daily, users_t, keys, data, counts, dropped,
                               mixed_sources=source is not None and users is None and data.users is not None)
    stats_ = LoadStats(seconds=round(time.perf_counter() - t0, 3), rows_scanned=counts["rows"],
                       files_scanned=0, cache="miss")
    log = EventLog(daily=daily, users=users_t, quality=quality, params=data, con=con, user_keys=keys,
                   events_view=reader.events, source_rows_view=reader.source_rows, load_stats=stats_)
    log.prefill(("names.events",), names)
    return _checked(params, log)


def _keyed(served: ir.Table, ids: ir.Table | None, users_t: ir.Table | None,
           keyed: bool) -> tuple[ir.Table, ir.Table | None, ir.Table | None]:
    """The daily table with integer user keys, the users table keyed alike and the key table
    (None for integer ids). ``served`` holds scanned rows (:func:`.scan.scan_rows`) with text or
    integer ids in ``user_id`` and, when ``keyed``, their hashed keys in ``key``; ``ids`` is its
    distinct (``user_id``, ``key``) pairs when already at hand."""
    if not served.user_id.type().is_string():
        return valid_rows(served, keyed=False), users_t, None
    if keyed:
        if ids is None:
            ids = served.filter(served.reason == 0).select("user_id", "key").distinct()
        keys = _with_user_keys(ids, users_t).cache()
        if not collisions(keys):
            if users_t is not None:
                users_t = users_t.mutate(user_id=hash_key(users_t.user_id))
            return valid_rows(served, keyed=True), users_t, keys
    # another engine, or (never seen) two ids with one hash: ranked keys
    return integer_keys(valid_rows(served, keyed=False), users_t, hash_ok=False)


def _with_user_keys(keys: ir.Table, users_t: ir.Table | None) -> ir.Table:
    """The events' keys plus those of users-table ids the events do not have."""
    if users_t is None:
        return keys
    u = users_t.select("user_id").distinct()
    only = u.anti_join(keys, "user_id")
    return keys.union(only.mutate(key=hash_key(only.user_id)))


def _counts(stats: list[PieceStats]) -> dict[str, Any]:
    """The pieces' counts added up, and their ranges combined."""
    c: dict[str, Any] = {"rows": 0, "time_null_any": 0, "time_unusable": 0, "kept": 0}
    c.update({f"rule_{rule.name}": 0 for rule in DROP_RULES})
    excl: dict[str, int] = {}
    days, active = [], []
    for s in stats:
        c["rows"] += s.rows
        c["time_null_any"] += s.time_null
        c["time_unusable"] += s.time_unusable
        c["kept"] += s.kept
        for name, n in s.rules.items():
            c[f"rule_{name}"] += n
        for name, n in s.excluded.items():
            excl[name] = excl.get(name, 0) + n
        if s.first_day is not None:
            days += [s.first_day, s.last_day]
        if s.first_active_day is not None:
            active.append(s.first_active_day)
    c["excluded_events"] = excl
    c["excluded"] = sum(excl.values())
    c["first_day"], c["last_day"] = (min(days), max(days)) if days else (None, None)
    c["first_active_day"] = min(active) if active else None
    return c


def _check_counts(reader: _Reader, counts: dict[str, Any], data: DataParams, until: dt.date) -> dict[str, int]:
    """Fail on an empty log or an unusable time column; the rows dropped per reason (every
    rule, in order), failing for the first rule that drops more than ``data.max_dropped_share``
    of the rows."""
    rows = counts["rows"]
    if rows == 0:
        raise DataError("the event log is empty (0 rows); check data.source points at the right file")
    if counts["time_null_any"] == rows:
        raise DataError(f"column '{data.time}' (data.time) is empty: all {_fmt(rows)} rows are null"
                        f"{_nested_hint(data, 'time_null')}; map data.time to the column holding event times")
    if counts["time_unusable"] == rows:
        raw = reader.plain()
        r = reader.columns(raw).row
        sample = raw.filter(r.time_raw.notnull()).select(v=r.time_raw.cast("string")).limit(1).execute()["v"].iloc[0]
        fix = ("give ISO timestamps such as 2024-03-01 14:05:00" if data.time_unit is None else
               f"data.time_unit is {data.time_unit}, but {epoch_hint(r.time_raw)}")
        raise DataError(
            f"column '{data.time}' (data.time): none of its {_fmt(rows)} values parse as a time "
            f"(e.g. {str(sample)[:40]!r}); {fix}"
        )
    dropped: dict[str, int] = {}
    for rule in DROP_RULES:
        n = counts[f"rule_{rule.name}"]
        label = rule.label(data, until)
        dropped[label] = n
        if n and n / rows > data.max_dropped_share:
            example = _nested_hint(data, rule.name) if n == rows else ""
            if rule.shows_example and not example:
                raw = reader.plain()
                r = reader.columns(raw).row
                v = raw.filter(rule.fails(r)).select(v=r.time_raw.cast("string")).limit(1).execute()["v"]
                example = f" (e.g. {str(v.iloc[0])[:40]!r})" if len(v) else ""
            raise DataError(
                f"{_fmt(n)} of {_fmt(rows)} rows ({n / rows:.1%}) have a {label}{example}, more than "
                f"data.max_dropped_share ({data.max_dropped_share:.0%}); {rule.fix}"
            )
    return dropped


def _describe(daily: ir.Table, users_t: ir.Table | None, keys: ir.Table | None, data: DataParams,
              counts: dict[str, Any], dropped: dict[str, int], *,
              mixed_sources: bool = False) -> tuple[DataQuality, tuple[str, ...]]:
    """The data quality of the loaded log and its event names (after ``data.exclude_events``,
    sorted: what :func:`.names.event_names` gives)."""
    kept = counts["kept"]
    if kept == 0:
        raise DataError(
            f"no events left after filters: {_fmt(counts['rows'])} rows read, {_fmt(sum(dropped.values()))} "
            f"dropped as invalid, {_fmt(counts['excluded'])} removed by data.exclude_events; "
            "check data.exclude_events and the source"
        )
    present = set(daily.select("event").distinct().execute()["event"])
    first_active = counts["first_active_day"]
    if first_active is None:  # no event counts as activity: only a wrong data.active_events can do that
        check_names(data.active_events, present, key="data.active_events",
                    where=f"in column '{data.event_label}' of the {_fmt(kept)} valid rows")
        raise DataError(f"none of the {_fmt(kept)} valid rows counts as activity, so no user is ever active; "
                        "check data.active_events")
    summary = _summarise(daily)
    first_day = counts["first_day"]
    before = _rows_before(daily, first_active) if first_active > first_day else {}
    excluded_events = counts["excluded_events"]
    quality = DataQuality(
        rows_read=counts["rows"],
        dropped={k: v for k, v in dropped.items() if v},
        excluded=counts["excluded"],
        rows_kept=kept,
        users=int(summary["users"]),
        active_users=int(summary["active_users"]),
        event_types=len(present),
        first_day=first_day,
        last_day=counts["last_day"],
        first_active_day=first_active,
        rows_before_activity=sum(before.values()),
        excluded_events={name: excluded_events.get(name, 0) for name in data.exclude_events},
        notes=tuple(_notes(daily, users_t, keys, data, first_active, before, mixed_sources=mixed_sources)),
    )
    return quality, tuple(sorted(str(e) for e in present))


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _splittable(files: list[FileInfo]) -> bool:
    """Whether the engine can read some of these files by name (CSV, JSON and Parquet can;
    workbooks and database files are read whole)."""
    from .sources import _kind

    return all(_kind(f.path) in ("csv", "json", "parquet") for f in files)


def _same_type(a: Any, b: Any) -> bool:
    return a.copy(nullable=True) == b.copy(nullable=True)


def _load_cached(params: Params, store: ProductCache, found: tuple[str, list[FileInfo]], con: Any,
                 text_columns: tuple[str, ...], progress: Progress, t0: float) -> EventLog:
    """A load through the product's cache folder (see :mod:`.cache`): reuse the pieces whose
    files kept their fingerprint, scan the rest, and serve the daily table from the pieces."""
    data = params.data
    kind, files = found
    old = store.read_manifest() or {}
    base = params_key(params, ())
    trusted = old.get("base") == base
    text = tuple(sorted(set(text_columns) | set(old.get("text_columns", []) if trusted else [])))
    multi = kind == "files" and len(files) > 1 and _splittable(files)
    reader = _Reader(params, None, con, text, filename=FILE_COLUMN if multi else None)
    users_t, users_ident = _users_table(params, None, con, text, store)
    # the events' id type decides how the users table is compared with them; the manifest
    # knows it while the params and columns read as text are the same
    user_type = None
    if trusted and old.get("text_columns") == list(text) and old.get("user_type"):
        user_type = ibis.dtype(old["user_type"])
    if user_type is None:
        user_type = reader.columns(reader.plain()).user.type()
    as_text = users_t is not None and not _same_type(users_t.user_id.type(), user_type)
    if as_text:
        users_t = users_t.mutate(user_id=users_t.user_id.cast("string"))
    reader.as_text = as_text
    keyed = hashed(con) and (as_text or user_type.is_string())
    key = params_key(params, text) + ("-text" if as_text else "")
    m: dict[str, Any] = old if old.get("params") == key else {}
    m = {"format": old.get("format"), "pieces": {}, "next": 1, **m}
    m.update(format=FORMAT, params=key, base=base, text_columns=list(text), user_type=str(user_type))
    until = _until(data)
    current = {f.path: f for f in files}

    live: dict[str, dict[str, Any]] = {}
    m_pieces_before = list(m["pieces"])
    for pid, piece in m["pieces"].items():
        ok = all(p in current and current[p].fp == fp for p, fp in piece["files"].items())
        moved = data.valid_until is None and piece.get("until") != until.isoformat()
        if ok and moved and piece["stats"]["rules"].get("too_late", 0):
            ok = False  # its too-late rows may be in the window now
        if ok and store.path(piece["file"]).exists():
            live[pid] = piece
    covered = {p for piece in live.values() for p in piece["files"]}
    to_scan = [f for f in files if f.path not in covered]
    if to_scan and not multi:
        to_scan, live = list(files), {}  # read whole: one piece, scanned again when any file changes
    if to_scan and store.readonly:
        raise Stale("scan")
    groups = (group_pieces(to_scan) if multi else [to_scan]) if to_scan else []
    if kind == "files" and to_scan:
        check_gzip(params, [f.path for f in to_scan])
    rows_total, rows_done, scanned_rows = sum(f.rows for f in to_scan), 0, 0
    for i, group in enumerate(groups):
        progress({"stage": "scan", "piece": i + 1, "pieces": len(groups), "rows_done": rows_done,
                  "rows_total": rows_total, "files": len(to_scan)})
        raw = reader.raw()
        if multi:
            raw = raw.filter(raw[FILE_COLUMN].isin([f.path for f in group]))
        plain = reader.plain(raw)
        cols = reader.columns(plain)
        pid = str(m["next"])
        m["next"] += 1
        name = f"piece-{pid}.parquet"
        store.write_parquet(scan_rows(plain, cols.row, cols.user, cols.revenue, data, key=keyed), name)
        pt = con.read_parquet(str(store.path(name)))
        st = piece_stats(pt, data)
        entry: dict[str, Any] = {"files": {f.path: f.fp for f in group}, "stats": st.to_json(),
                                 "until": until.isoformat(), "file": name}
        if keyed:
            entry["keys"] = f"keys-{pid}.parquet"
            store.write_parquet(pt.filter(pt.reason == 0).select("user_id", "key").distinct(), entry["keys"])
        live[pid] = entry
        rows_done += sum(f.rows for f in group)
        scanned_rows += st.rows
    if groups:
        progress({"stage": "scan", "piece": len(groups), "pieces": len(groups), "rows_done": rows_total,
                  "rows_total": rows_total, "files": len(to_scan)})
    m["pieces"] = live
    order = sorted(live, key=int)
    stats = [PieceStats.from_json(live[p]["stats"]) for p in order]
    counts = _counts(stats)
    dropped = _check_counts(reader, counts, data, until)

    progress({"stage": "build"})
    pieces_t = con.read_parquet([str(store.path(live[p]["file"])) for p in order])
    shared = shared_days(stats)
    served = pieces_t
    m.pop("merge", None)
    if shared:
        # rows of days that several pieces cover, aggregated across the pieces once
        on_shared = ibis.or_(*[pieces_t.day.between(lo, hi) for lo, hi in shared])
        mname = f"merge-{_digest(order, shared)}.parquet"
        if not store.path(mname).exists():
            store.write_parquet(_merged(pieces_t.filter((pieces_t.reason == 0) & on_shared)), mname)
        m["merge"] = mname
        served = pieces_t.filter(~on_shared.fill_null(False)).union(con.read_parquet(str(store.path(mname))))
    ids = None
    if keyed:
        ids = _all_keys(store, con, m, live, order)
    daily, users_k, keys = _keyed(served, ids, users_t, keyed)

    m["users"] = f"users-{users_ident}.parquet" if users_ident else None
    sig = _digest(order, shared, users_ident, as_text, None if users_t is None or users_ident else t0)
    summary = m.get("summary") or {}
    if summary.get("sig") == sig:
        quality = _quality_from(summary["quality"], counts, dropped, data)
        names = tuple(summary["names"])
    else:
        quality, names = _describe(daily, users_k, keys, data, counts, dropped)
        m["summary"] = {"sig": sig, "quality": _quality_json(quality), "names": list(names)}
    keep = set(_files_named(m)) | set(_files_named(old))
    if not store.readonly or json.loads(json.dumps(m, sort_keys=True, default=str)) != old:
        store.write_manifest(m)  # a readonly handle raises Stale here: the load is redone exclusively
    store.sweep(keep)
    # hit: nothing scanned and nothing gone; miss: nothing reused
    gone = set(m_pieces_before) - set(live)
    cache = "miss" if len(live) == len(groups) else ("hit" if not groups and not gone else "partial")
    stats_ = LoadStats(seconds=round(time.perf_counter() - t0, 3), rows_scanned=scanned_rows,
                       files_scanned=len(to_scan) if kind == "files" else 0, cache=cache)
    progress({"stage": "done", "cache": cache, "rows_scanned": scanned_rows})
    log = EventLog(daily=daily, users=users_k, quality=quality, params=data, con=con, user_keys=keys,
                   events_view=reader.events, source_rows_view=reader.source_rows, load_stats=stats_,
                   stored=_stored(store, reader, m, live, order, shared, multi, daily, sig))
    log.prefill(("names.events",), names)
    return _checked(params, log)


def _stored(store: ProductCache, reader: _Reader, m: dict[str, Any], live: dict[str, dict[str, Any]],
            order: list[str], shared: list[Any], multi: bool, daily: ir.Table, sig: str) -> StoredResults:
    """The log's parts for results computed from raw rows (:class:`.cache.StoredResults`): one
    per piece, or the whole source when pieces share days (equal rows may then lie in two
    pieces)."""
    def part(pids: list[str]) -> tuple[str, Any]:
        files = sorted((p, live[pid]["files"][p]) for pid in pids for p in live[pid]["files"])
        key = _digest(m["params"], files)
        paths = [p for p, _ in files] if multi else None
        return key, lambda: reader.source_rows(paths)

    parts = [part(order)] if shared or not multi else [part([pid]) for pid in order]
    everything = sorted((p, fp) for piece in live.values() for p, fp in piece["files"].items())
    return StoredResults(store, tuple(parts), tag=_digest(m["params"], sig, everything), daily=daily)


def _merged(rows: ir.Table) -> ir.Table:
    """Scanned rows aggregated to one row per (user, day, event), in the scan's own columns."""
    keys = ["user_id", *(["key"] if "key" in rows.columns else []), "day", "event", "active"]
    # DuckDB sums integers to 128 bits (Ibis types the sum as int64, so a plain cast would be
    # left out): through float64, exact for counts below 2**53
    aggs: dict[str, Any] = {"n": rows.n.sum().cast("float64").cast("int64")}
    if "revenue" in rows.columns:
        aggs["revenue"] = rows.revenue.sum()
    g = rows.group_by(keys).aggregate(**aggs)
    g = g.mutate(reason=ibis.literal(0, "int8"), tn=ibis.literal(False), tu=ibis.literal(False))
    schema = rows.schema()
    return g.select(*[g[c].cast(schema[c]).name(c) for c in rows.columns])


def _all_keys(store: ProductCache, con: Any, m: dict[str, Any], live: dict[str, dict[str, Any]],
              order: list[str]) -> ir.Table:
    """Every text id of the pieces with its key, one row each: grown by the new pieces' ids when
    pieces were only added, rebuilt from the pieces' key files otherwise."""
    name = f"keys-all-{_digest(order)}.parquet"
    if not store.path(name).exists():
        prev, had = m.get("keys_all"), set(m.get("keys_pieces", []))
        if prev and store.path(prev).exists() and had <= set(live):
            base = con.read_parquet(str(store.path(prev)))
            added = [str(store.path(live[p]["keys"])) for p in order if p not in had]
            new = con.read_parquet(added).distinct().anti_join(base, "user_id")
            table = base.union(new)
        else:
            table = con.read_parquet([str(store.path(live[p]["keys"])) for p in order]).distinct()
        store.write_parquet(table, name)
    m["keys_all"], m["keys_pieces"] = name, order
    return con.read_parquet(str(store.path(name)))


def _files_named(m: dict[str, Any]) -> list[str]:
    out = [v for v in (m.get("merge"), m.get("keys_all"), m.get("users")) if v]
    for piece in m.get("pieces", {}).values():
        out += [piece["file"]] + ([piece["keys"]] if piece.get("keys") else [])
    return out


def _quality_json(q: DataQuality) -> dict[str, Any]:
    return {"users": q.users, "active_users": q.active_users, "event_types": q.event_types,
            "rows_before_activity": q.rows_before_activity, "notes": list(q.notes)}


def _quality_from(d: dict[str, Any], counts: dict[str, Any], dropped: dict[str, int], data: DataParams) -> DataQuality:
    excluded_events = counts["excluded_events"]
    return DataQuality(
        rows_read=counts["rows"], dropped={k: v for k, v in dropped.items() if v}, excluded=counts["excluded"],
        rows_kept=counts["kept"], users=d["users"], active_users=d["active_users"], event_types=d["event_types"],
        first_day=counts["first_day"], last_day=counts["last_day"], first_active_day=counts["first_active_day"],
        rows_before_activity=d["rows_before_activity"],
        excluded_events={name: excluded_events.get(name, 0) for name in data.exclude_events},
        notes=tuple(d["notes"]))


def _source_rows(raw: ir.Table, cols: _Columns, valid: ir.BooleanValue) -> ir.Table:
    """The valid rows with every source column, plus the kit's reading of each row's user, local
    time and event (:data:`retention_kit.data.log.SOURCE_KEY`), which checks of whole rows key on."""
    user, ts, event = SOURCE_KEY
    return raw.filter(valid).mutate(**{user: cols.user, ts: cols.row.ts, event: cols.row.event})


def _checked(params: Params, log: EventLog) -> EventLog:
    """The log, once every event name the params use is known to match an event of it."""
    require_params_events(log, params.event_names())
    require_new_names(log, [(f"key_behaviors.candidates[{i}].name", c.label)
                            for i, c in enumerate(params.key_behaviors.candidates)])
    return log


def _nested_hint(data: DataParams, rule: str) -> str:
    """When every row lacks a value at a dotted path (a key that no map, JSON object or
    key/value list holds), say so: the path is likely misspelt."""
    cols = {"user": data.user_columns, "time_null": (data.time,), "event": data.event_columns}.get(rule, ())
    nested = [c for c in cols if "." in c]
    return f" (no row has a value at {', '.join(nested)}: check the path's spelling and case)" if nested else ""


def _summarise(daily: ir.Table) -> pd.Series:
    return daily.aggregate(users=daily.user_id.nunique(), active_users=daily.user_id.nunique(where=daily.active)
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
