"""The event log: read a source into the engine, validate it, and keep a compact daily table.

Definitions in force for every analysis:

- **Local time.** Naive timestamps are read as local time in ``data.timezone``; timezone-aware
  timestamps (and strings with an offset) are converted to it. Days, weeks and months are calendar
  periods in that zone.
- **Valid rows.** A row needs a user id (not null, not blank), a time that parses and lies in
  ``[data.valid_from, data.valid_until]`` (default 1990-01-01 to tomorrow) and an event name.
  Other rows are dropped and counted by reason; if more than ``data.max_dropped_share`` of the
  rows would be dropped for one reason, loading fails with a :class:`DataError` instead.
- **Activity.** Events in ``data.exclude_events`` are removed entirely. Of the rest, an event
  counts as activity if ``data.active_events`` is null or lists it. A user is active on a day
  with at least one such event.
- **Data range.** From the first to the last local day with any remaining event.

The raw rows stay in the engine: :attr:`EventLog.daily` aggregates them once per load into one
row per (user, day, event) and is cached in the engine; analyses start from it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import glob as globmod
import hashlib
import json
import os
import re
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd

from . import engine
from .config import DataParams, Params, SourceSpec, UsersParams
from .errors import DataError, NotEnoughDataError, SourceError

T = TypeVar("T")

__all__ = ["EventLog", "DataQuality", "load_events", "read_source"]

_CSV = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".csv.zst")
_PARQUET = (".parquet", ".pq", ".parquet.gz")
_JSON = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
_DUCKDB = (".duckdb", ".ddb", ".db")


@dataclasses.dataclass(frozen=True)
class DataQuality:
    """What loading found: rows read, rows dropped by reason, and what remains.

    ``dropped`` maps a plain-language reason to a row count; ``excluded`` counts rows of
    ``exclude_events`` (removed by configuration, not by fault).
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
    missing_active_events: tuple[str, ...] = ()
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
class EventLog:
    """A validated event log in the engine.

    Attributes
    ----------
    events : ibis Table
        Valid rows: ``user_id``, ``ts`` (naive local timestamp), ``day`` (local date), ``event``,
        ``active`` (bool), plus ``revenue`` when ``data.revenue`` is set.
    daily : ibis Table
        Cached aggregate: one row per ``user_id``, ``day``, ``event`` with ``n`` (events),
        ``active`` and, with revenue, ``revenue`` (sum).
    users : ibis Table or None
        From ``data.users``: ``user_id``, ``signup_day`` (local date) and the attribute columns.
    quality : DataQuality
    params : DataParams
    user_keys : ibis Table or None
        When the source's user ids are text, ``daily`` and ``users`` carry a dense integer key in
        ``user_id`` instead (joins and group-bys on integers run about 4x faster than on text at
        10M events); this table maps ``key`` back to the original ``user_id``. ``events`` keeps
        the original ids. Use :meth:`original_ids` before showing or exporting ids.
    """

    events: ir.Table
    daily: ir.Table
    users: ir.Table | None
    quality: DataQuality
    params: DataParams
    con: Any = dataclasses.field(repr=False, compare=False)
    user_keys: ir.Table | None = dataclasses.field(default=None, repr=False, compare=False)
    # derived tables every analysis asks for, computed once per log and cached in the engine
    _memo: dict[str, Any] = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    def complete_periods(self, granularity: str, *, hint: str = "") -> tuple[int, int]:
        """First and last index of the periods lying wholly within the data range
        (:func:`retention_kit.periods.complete_range`), or NotEnoughDataError when there is none."""
        from .periods import complete_range

        rng = complete_range(self.first_day, self.last_day, granularity, self.params.week_start)  # type: ignore[arg-type]
        if rng is None:
            raise NotEnoughDataError(
                f"the data ({self.first_day} to {self.last_day}) does not cover one complete {granularity} "
                f"(no complete {granularity} lies within it){hint}"
            )
        return rng

    def memoized(self, key: str, build: Callable[[], T]) -> T:
        """``build()`` once per log and key: for derived tables that several analyses share
        (build them with ``.cache()`` so the engine keeps the result)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def original_ids(self, table: ir.Table) -> ir.Table:
        """``table`` with its ``user_id`` column turned back into the source's own user ids."""
        if self.user_keys is None:
            return table
        k = self.user_keys.view()  # a fresh reference: ``table`` may itself come from a join with the keys
        j = table.join(k, table.user_id == k.key)
        return j.select(*[k.user_id.name("user_id") if c == "user_id" else table[c] for c in table.columns])

    @property
    def first_day(self) -> dt.date:
        return self.quality.first_day

    @property
    def last_day(self) -> dt.date:
        return self.quality.last_day

    def active_days(self) -> ir.Table:
        """Distinct (``user_id``, ``day``) pairs on which the user was active."""
        d = self.daily
        return self.memoized("active_days", lambda: d.filter(d.active).select("user_id", "day").distinct().cache())

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
            return first.cache()

        return self.memoized("starts", build)


def _suffix(name: str) -> str:
    low = name.lower()
    for ext in (*_CSV, *_PARQUET, *_JSON, *_DUCKDB):
        if low.endswith(ext):
            return ext
    return Path(low).suffix


def _files_for(path: str) -> list[str]:
    if any(ch in path for ch in "*?["):
        return sorted(globmod.glob(path, recursive=True))
    if os.path.isdir(path):
        found = [str(p) for p in sorted(Path(path).rglob("*")) if p.is_file() and _suffix(p.name) in (*_CSV, *_PARQUET, *_JSON)]
        return found
    return [path] if os.path.exists(path) else []


def _read_files(con: Any, files: list[str], spec: SourceSpec | None, where: str,
                text_columns: tuple[str, ...] = ()) -> ir.Table:
    kinds = {("duckdb" if _suffix(f) in _DUCKDB else "parquet" if _suffix(f) in _PARQUET else "json" if _suffix(f) in _JSON else "csv") for f in files}
    fmt = spec.format if spec and spec.format else None
    if fmt is None:
        if len(kinds) > 1:
            raise SourceError(f"{where}: mixes file types ({', '.join(sorted(kinds))}); point it at one kind or set source.format")
        fmt = kinds.pop()
    try:
        if fmt == "parquet":
            return con.read_parquet(files)
        if fmt == "json":
            return con.read_json(files)
        if fmt == "duckdb":
            if not spec or not spec.table:
                raise SourceError(f"{where}: a DuckDB database needs 'table': write source as {{path: {files[0]}, table: events}}")
            db = ibis.duckdb.connect(files[0], read_only=True)
            if spec.table not in db.list_tables():
                near = difflib.get_close_matches(spec.table, db.list_tables(), n=1)
                hint = f"; did you mean '{near[0]}'?" if near else f" (tables: {', '.join(db.list_tables()) or 'none'})"
                raise SourceError(f"{where}: no table '{spec.table}' in {files[0]}{hint}")
            return db.table(spec.table)
        empty = [f for f in files if os.path.getsize(f) == 0]
        if empty:
            raise SourceError(f"{where}: {empty[0]} is empty (0 bytes); re-export the file, or remove it from the source")
        kw: dict[str, Any] = {}
        if spec and spec.delimiter:
            kw["delim"] = spec.delimiter
        t = con.read_csv(files, **kw)
        retype = [c for c in text_columns if c in t.columns and not t[c].type().is_string()]
        if retype:
            t = con.read_csv(files, types={c: "VARCHAR" for c in retype}, **kw)
        if len(t.columns) == 1 and not kw.get("delim"):
            retry = _csv_fallback(con, files, t.columns[0])
            t = retry if retry is not None else t
        return t
    except SourceError:
        raise
    except Exception as e:  # the engine's reader errors are many; keep the gist, say what to do
        raise SourceError(f"{where}: cannot read {files[0] if len(files) == 1 else f'{len(files)} files'} as {fmt}: "
                          f"{engine_message(e)}{_read_fix(e, fmt)}") from None


def _check_gzip(params: Params) -> None:
    """Fail on a truncated .gz source: the engine reads such a file up to the cut without a word,
    so a half-downloaded export would pass as a shorter log. Streams the file once (only when
    the activity cache has no entry for it)."""
    import zlib

    spec = data_spec(params)
    if spec.path is None:
        return
    for f in _files_for(params.resolve(spec.path)):
        if not f.lower().endswith(".gz"):
            continue
        d = zlib.decompressobj(wbits=31)
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                while chunk:
                    d.decompress(chunk, 0)
                    # a file may hold several gzip members one after another
                    chunk = d.unused_data if d.eof else b""
                    if chunk:
                        d = zlib.decompressobj(wbits=31)
        if not d.eof:
            raise SourceError(f"data.source ({f}): the gzip file is truncated (it ends mid-stream), so rows are "
                              "missing; download or export it again")


_DELIMS = ",;|\t^:~"


def _csv_fallback(con: Any, files: list[str], header: str) -> ir.Table | None:
    """Re-read a CSV whose dialect the engine's sniffer could not work out (an unusual delimiter,
    a ragged row or an unclosed quote further down all end as one column holding the header).

    The header's most frequent delimiter-like character splits it; every column is read as text
    with no type sniffing, so a ragged row or unclosed quote fails when the data is scanned with
    the engine's line number instead of passing as a one-column file.
    """
    counts = {d: header.count(d) for d in _DELIMS}
    delim = max(counts, key=lambda d: counts[d])
    if not counts[delim]:
        return None
    names = [n.strip().strip('"') for n in header.split(delim)]
    if len(set(names)) != len(names) or not all(names):
        return None
    return con.read_csv(files, columns={n: "VARCHAR" for n in names}, delim=delim, header=True,
                        auto_detect=False, quote='"', escape='"')


_EXPLAIN = re.compile(r"(Value with unterminated quote|Expected Number of Columns|Invalid unicode|Could not convert|"
                      r"It was not possible|No magic bytes|too small to be|Malformed JSON|not a valid)[^\n]*", re.I)


def engine_message(e: BaseException) -> str:
    """The gist of an engine error on one line: its first line plus the line that explains it
    (DuckDB's messages run to dozens of lines: the offending text, options and suggestions)."""
    text = str(e).strip()
    if not text:
        return type(e).__name__
    first = text.splitlines()[0].strip().rstrip(".")
    m = _EXPLAIN.search(text)
    msg = first if not m or m.start() < len(text.splitlines()[0]) else f"{first}: {m.group(0).strip().rstrip('.')}"
    return msg[:400]


def _read_fix(e: BaseException, fmt: str) -> str:
    text = str(e)
    if "sniffing" in text.lower():
        return ("; check that it is a complete, uncompressed (or .gz) text file, or give the delimiter: "
                "source: {path: ..., delimiter: ';'}")
    if "utf-8" in text.lower() or "unicode" in text.lower():
        return "; save the file as UTF-8"
    if "expected number of columns" in text.lower() or "unterminated quote" in text.lower():
        return "; fix that line of the file (a field with the delimiter in it needs double quotes)"
    if fmt == "parquet":
        return "; the file is not a complete Parquet file (truncated or another format?): re-export it"
    if fmt == "json":
        return "; give one JSON object per line (JSON lines)"
    return ""


def _register(con: Any, df: pd.DataFrame) -> ir.Table:
    """Expose a DataFrame to this connection without copying it or touching the caller's frame.

    An unbound ``ibis.memtable`` would run on Ibis's default backend, not on ``con``, and could
    not be joined with the connection's cached tables.
    """
    name = f"rk_frame_{id(df):x}_{len(df)}"
    con.con.register(name, df)
    return con.table(name)


def read_source(source: Any, *, base: Params | None = None, con: Any = None, what: str = "data.source",
                text_columns: tuple[str, ...] = ()) -> tuple[ir.Table, Any]:
    """Open an event (or users) source as an Ibis table, never modifying it.

    ``source`` is a path string, a :class:`SourceSpec`, a pandas DataFrame or an Ibis table.
    ``text_columns`` are read as text from CSV files instead of the type the engine guesses from
    the first rows (used after a later row contradicted the guess). Returns the table and the
    connection it lives on.
    """
    con = con if con is not None else engine.connect(timezone=base.data.timezone if base else "UTC")
    if isinstance(source, ir.Table):
        return source, source.get_backend()
    if isinstance(source, pd.DataFrame):
        return _register(con, source), con
    spec = source if isinstance(source, SourceSpec) else SourceSpec(path=str(source))
    if spec.demo is not None:
        from .datasets import make_demo_log, make_demo_users

        make = make_demo_users if spec.table == "users" else make_demo_log
        try:
            return _register(con, make(**spec.demo)), con
        except TypeError as e:
            raise SourceError(f"{what}: bad demo arguments {spec.demo}: {e}") from None
    if spec.url or spec.backend:
        try:
            from .backends import connect_source

            other = connect_source(spec, timezone=base.data.timezone if base else "UTC")
            return other.table(spec.table), other
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise SourceError(f"{what}: cannot open table '{spec.table}' on {spec.url or spec.backend}: {first}") from None
    path = base.resolve(spec.path) if base else str(Path(spec.path).resolve())
    files = _files_for(path)
    if not files:
        raise SourceError(
            f"{what}: no event file at {path} (relative paths are resolved against the params "
            f"file's folder); check the path, or generate the demo data with 'retention-kit demo'"
        )
    return _read_files(con, files, spec, f"{what} ({path})", text_columns), con


def _check_column(t: ir.Table, name: str, key: str) -> None:
    if name not in t.columns:
        near = difflib.get_close_matches(name, list(t.columns), n=1, cutoff=0.5)
        hint = f"did you mean '{near[0]}'? " if near else ""
        cols = ", ".join(t.columns[:12]) + (" ..." if len(t.columns) > 12 else "")
        delim = ""
        if len(t.columns) == 1 and any(c in t.columns[0] for c in ";|\t"):
            delim = " The file looks like it uses another delimiter: set data.source to {path: ..., delimiter: ';'}."
        raise DataError(f"column '{name}' ({key}) not found in the event source; {hint}columns are: {cols}.{delim}")


def _local_time(col: ir.Value, key: str, colname: str) -> ir.TimestampValue:
    dtype = col.type()
    if dtype.is_timestamp():
        # aware timestamps cast to the session zone (the product's); naive ones are already local
        return col.cast("timestamp") if dtype.timezone else col
    if dtype.is_date():
        return col.cast("timestamp")
    if dtype.is_string():
        # TIMESTAMPTZ parsing honours an explicit offset and reads the rest in the session zone
        return col.strip().try_cast("timestamp('UTC')").cast("timestamp")
    raise DataError(
        f"column '{colname}' ({key}) has type {dtype}, not a time; give ISO timestamps "
        "(e.g. 2024-03-01 14:05:00) or convert epoch numbers before loading"
    )


def _blank(col: ir.StringValue) -> ir.BooleanValue:
    """Null, empty or only whitespace. Only values starting with a space are trimmed: trimming
    every value would double the cost of the pass."""
    return col.isnull() | (col == "") | (col.startswith(" ") & (col.strip() == ""))


def _fmt(n: int) -> str:
    return f"{n:,}"


def data_spec(params: Params) -> SourceSpec:
    """``data.source`` as a :class:`SourceSpec` (a plain string is a path)."""
    src = params.data.source
    return src if isinstance(src, SourceSpec) else SourceSpec(path=str(src))


def _fingerprint(params: Params, source: Any) -> str | None:
    """A key for the activity cache: the data params plus the source's files (path, size, mtime)
    or demo arguments. None when the source cannot be fingerprinted cheaply (frames, tables, URLs)."""
    if source is not None:
        return None
    spec = params.data.source if isinstance(params.data.source, SourceSpec) else SourceSpec(path=str(params.data.source))
    if spec.demo is not None:
        ident: Any = {"demo": spec.demo}
    elif spec.path is not None:
        files = _files_for(params.resolve(spec.path))
        if not files:
            return None
        ident = [(f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files]
    else:
        return None
    users_ident: Any = None
    if params.data.users is not None:
        us = params.data.users.source
        uspec = us if isinstance(us, SourceSpec) else SourceSpec(path=str(us))
        if uspec.path is not None:
            users_ident = [(f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in _files_for(params.resolve(uspec.path))]
        else:
            users_ident = uspec.model_dump(mode="json")
    payload = json.dumps({"data": params.data.model_dump(mode="json"), "users": users_ident, "source": ident,
                          "base": params.base_dir, "today": dt.date.today().isoformat()}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _quality_to_json(q: DataQuality) -> str:
    d = dataclasses.asdict(q)
    d["first_day"], d["last_day"] = q.first_day.isoformat(), q.last_day.isoformat()
    return json.dumps(d)


def _quality_from_json(text: str) -> DataQuality:
    d = json.loads(text)
    d["first_day"], d["last_day"] = dt.date.fromisoformat(d["first_day"]), dt.date.fromisoformat(d["last_day"])
    d["missing_active_events"], d["notes"] = tuple(d["missing_active_events"]), tuple(d["notes"])
    return DataQuality(**d)


def load_events(params: Params, *, source: Any = None, users: Any = None, con: Any = None,
                cache_dir: str | os.PathLike[str] | None = None) -> EventLog:
    """Read, validate and index a product's event log.

    Parameters
    ----------
    params
        Validated params; ``params.data`` says where the log is and how to read it.
    source, users
        Optional pandas DataFrame or Ibis table used instead of ``data.source`` / ``data.users``.
    con
        Optional DuckDB connection from :func:`retention_kit.engine.connect`.
    cache_dir
        Folder for the activity cache (default ``$RETENTION_KIT_CACHE_DIR``, which the runner
        sets for its kernels): the daily table and the quality counts are stored there under a
        key of the data params and the source files' sizes and times, so the notebooks of one
        run scan the raw log once between them. The source itself is never written.

    Raises
    ------
    SourceError, DataError
        With the column, the number of offending rows and the fix.

    Examples
    --------
    >>> from retention_kit import load_params, load_events
    >>> log = load_events(load_params("params/demo.yaml"))  # doctest: +SKIP
    >>> log.quality.users  # doctest: +SKIP
    """
    text: tuple[str, ...] = ()
    while True:
        try:
            return _load(params, source=source, users=users, con=con, cache_dir=cache_dir, text_columns=text)
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
                              f"{_read_fix(e, 'csv')}") from None


def _load(params: Params, *, source: Any, users: Any, con: Any, cache_dir: Any, text_columns: tuple[str, ...]) -> EventLog:
    data = params.data
    raw, con = read_source(source if source is not None else data.source, base=params, con=con,
                           text_columns=text_columns)
    for name, key in ((data.user, "data.user"), (data.time, "data.time"), (data.event, "data.event")):
        _check_column(raw, name, key)
    revenue_cols = [data.revenue] if isinstance(data.revenue, str) else list(data.revenue or [])
    for c in revenue_cols:
        _check_column(raw, c, "data.revenue")
    ucol, tcol, ecol = raw[data.user], raw[data.time], raw[data.event]
    if not (ucol.type().is_string() or ucol.type().is_integer()):
        raise DataError(f"column '{data.user}' (data.user) has type {ucol.type()}; user ids must be text or whole numbers")
    ts = _local_time(tcol, "data.time", data.time)
    # ids are used exactly as written: trimming every id costs a second per 10M rows per pass
    uid = ucol
    ev = ecol.cast("string")
    tz = zoneinfo.ZoneInfo(data.timezone)
    until = data.valid_until or (dt.datetime.now(tz).date() + dt.timedelta(days=1))
    lo = ibis.timestamp(dt.datetime.combine(data.valid_from, dt.time()))
    hi = ibis.timestamp(dt.datetime.combine(until + dt.timedelta(days=1), dt.time()))

    user_bad = _blank(uid) if uid.type().is_string() else uid.isnull()
    time_null = tcol.isnull()
    time_bad = ~time_null & ts.isnull()
    early = ts.notnull() & (ts < lo)
    late = ts.notnull() & (ts >= hi)
    event_bad = _blank(ev)
    excluded = ev.isin(data.exclude_events) if data.exclude_events else ibis.literal(False)
    valid = ~user_bad & ts.notnull() & ~early & ~late & ~event_bad & ~excluded
    active = ev.isin(data.active_events) if data.active_events is not None else ibis.literal(True)
    cols: dict[str, Any] = {"user_id": uid, "ts": ts, "event": ev, "active": active}
    if revenue_cols:
        money = raw[revenue_cols[0]].cast("float64")
        for c in revenue_cols[1:]:
            money = money * raw[c].cast("float64")
        cols["revenue"] = money
    events = raw.filter(valid).select(**cols)
    events = events.mutate(day=events.ts.date())
    users_t = _load_users(params, data.users, users, con, text_columns) if (data.users or users is not None) else None
    if users_t is not None and users_t.user_id.type() != uid.type():
        # one side read its ids as numbers, the other as text (a CSV beside a frame, or a stray
        # text id): compare them as text
        users_t = users_t.mutate(user_id=users_t.user_id.cast("string"))
        uid = uid.cast("string")
        cols["user_id"] = uid
        events = raw.filter(valid).select(**cols)
        events = events.mutate(day=events.ts.date())

    cache_root = cache_dir or os.environ.get("RETENTION_KIT_CACHE_DIR")
    cache = Path(cache_root) if cache_root else None
    key = _fingerprint(params, source) if cache is not None else None
    if cache is not None and key is not None and (cache / f"{key}.json").exists():
        quality = _quality_from_json((cache / f"{key}.json").read_text(encoding="utf-8"))
        daily = con.read_parquet(str(cache / f"{key}.parquet")).cache()
        keys = None
        if (cache / f"{key}.keys.parquet").exists():
            keys = con.read_parquet(str(cache / f"{key}.keys.parquet")).cache()
            if users_t is not None:
                u = users_t.join(keys, "user_id")
                users_t = u.select(user_id=u.key, **{c: u[c] for c in users_t.columns if c != "user_id"})
        return EventLog(events=events, daily=daily, users=users_t, quality=quality, params=data, con=con, user_keys=keys)

    if source is None:
        _check_gzip(params)
    s = lambda cond: cond.fill_null(False).cast("int64").sum()  # noqa: E731  (a null event makes isin() null)
    counts = raw.aggregate(
        rows=raw.count(),
        user_bad=s(user_bad),
        time_null_any=s(time_null),
        time_unusable=s(ts.isnull()),
        # each dropped row is counted once, under the first rule it fails (user, time, range, event)
        time_null=s(time_null & ~user_bad),
        time_bad=s(time_bad & ~user_bad),
        early=s(early & ~user_bad),
        late=s(late & ~user_bad),
        event_bad=s(event_bad & ~user_bad & ts.notnull() & ~early & ~late),
        excluded=s(excluded & ~user_bad & ts.notnull() & ~early & ~late),
    ).execute().iloc[0]
    rows = int(counts["rows"])
    if rows == 0:
        raise DataError("the event log is empty (0 rows); check data.source points at the right file")
    if int(counts["time_null_any"]) == rows:
        raise DataError(f"column '{data.time}' (data.time) is empty: all {_fmt(rows)} rows are null; map data.time to the column holding event times")
    if int(counts["time_unusable"]) == rows:
        sample = raw.filter(tcol.notnull()).select(v=tcol.cast("string")).limit(1).execute()["v"].iloc[0]
        raise DataError(
            f"column '{data.time}' (data.time): none of its {_fmt(rows)} values parse as a time "
            f"(e.g. {str(sample)[:40]!r}); give ISO timestamps such as 2024-03-01 14:05:00"
        )
    dropped = {
        f"null or blank user id ('{data.user}')": int(counts["user_bad"]),
        f"null time ('{data.time}')": int(counts["time_null"]),
        f"time that does not parse ('{data.time}')": int(counts["time_bad"]),
        f"time before {data.valid_from.isoformat()} (data.valid_from)": int(counts["early"]),
        f"time after {until.isoformat()} (data.valid_until)": int(counts["late"]),
        f"null or blank event name ('{data.event}')": int(counts["event_bad"]),
    }
    fixes = {
        0: "remove or fill those rows, or raise data.max_dropped_share",
        2: "fix the time format (ISO, e.g. 2024-03-01 14:05:00) or raise data.max_dropped_share",
        3: "check the time column and data.timezone, or set data.valid_from",
        4: "check the time column's units and data.timezone, or set data.valid_until",
    }
    bad_masks = [user_bad, time_null & ~user_bad, time_bad & ~user_bad, early, late, event_bad]
    for i, (reason, n) in enumerate(dropped.items()):
        if n and n / rows > data.max_dropped_share:
            example = ""
            if i in (2, 3, 4):  # show one offending value: the fix depends on what it looks like
                v = raw.filter(bad_masks[i]).select(v=tcol.cast("string")).limit(1).execute()["v"]
                example = f" (e.g. {str(v.iloc[0])[:40]!r})" if len(v) else ""
            raise DataError(
                f"{_fmt(n)} of {_fmt(rows)} rows ({n / rows:.1%}) have a {reason}{example}, more than "
                f"data.max_dropped_share ({data.max_dropped_share:.0%}); "
                + fixes.get(i, "remove or fill those rows, or raise data.max_dropped_share")
            )
    dropped = {k: v for k, v in dropped.items() if v}

    aggs: dict[str, Any] = {"n": events.count()}
    if data.revenue:
        aggs["revenue"] = events.revenue.sum()
    daily = events.group_by(["user_id", "day", "event", "active"]).aggregate(**aggs)
    daily, users_t, keys = _integer_keys(daily, users_t)

    summary = daily.aggregate(
        rows=daily.n.sum(),
        users=daily.user_id.nunique(),
        active_users=daily.user_id.nunique(where=daily.active),
        event_types=daily.event.nunique(),
        first_day=daily.day.min(),
        last_day=daily.day.max(),
    ).execute().iloc[0]
    kept = int(summary["rows"]) if pd.notna(summary["rows"]) else 0
    if kept == 0:
        raise DataError(
            f"no events left after filters: {_fmt(rows)} rows read, {_fmt(sum(dropped.values()))} "
            f"dropped as invalid, {_fmt(int(counts['excluded']))} removed by data.exclude_events; "
            "check data.exclude_events and the source"
        )
    present = set()
    missing: tuple[str, ...] = ()
    if data.active_events is not None:
        present = set(daily.filter(daily.event.isin(data.active_events)).select("event").distinct().execute()["event"])
        missing = tuple(e for e in data.active_events if e not in present)
        if not present:
            raise DataError(
                f"none of data.active_events ({', '.join(data.active_events)}) occurs in column "
                f"'{data.event}' of the {_fmt(kept)} valid rows, so no user is ever active; "
                "check the event names (case matters)"
            )
    notes = []
    id_table = keys if keys is not None else daily  # the source's own ids (daily may hold integer keys)
    if id_table.user_id.type().is_string():
        ids = id_table.select("user_id").distinct()
        kinds = ids.aggregate(numeric=ids.user_id.re_search(r"^[0-9]+$").cast("int64").sum(), total=ids.count()).execute().iloc[0]
        numeric, total = int(kinds["numeric"] or 0), int(kinds["total"])
        if 0 < numeric < total:
            # text ids of which some are plain numbers: often an export (or a spreadsheet) that
            # turned some ids into numbers; they are kept, each as its own user
            notes.append(f"user ids in '{data.user}' mix {_fmt(numeric)} purely numeric ids with "
                         f"{_fmt(total - numeric)} other ids; if one user can appear both ways (e.g. '00123' "
                         "and '123', or 'u123'), fix the export, as they count as different users")
    if users_t is not None:
        # ids that do not match between the two tables are usually a format difference ('007' vs 7)
        # renamed apart: both sides derive from the same tables, and Ibis refuses ambiguous joins
        log_users = daily.select(lid=daily.user_id).distinct()
        table_users = users_t.select(tid=users_t.user_id)
        j = table_users.outer_join(log_users, table_users.tid == log_users.lid)
        c = j.aggregate(only_users=(j.tid.notnull() & j.lid.isnull()).cast("int64").sum(),
                        only_events=(j.lid.notnull() & j.tid.isnull()).cast("int64").sum(),
                        n_table=j.tid.notnull().cast("int64").sum()).execute().iloc[0]
        only_users, only_events, n_table = int(c["only_users"]), int(c["only_events"]), int(c["n_table"])
        if only_users:
            notes.append(f"{_fmt(int(only_users))} of {_fmt(n_table)} users in the users table never appear in the "
                         "events: they count as signed up and never active; if that is unexpected, check that both "
                         "tables write user ids the same way")
        if only_events:
            notes.append(f"{_fmt(int(only_events))} users in the events are missing from the users table: they start "
                         "on their first active day")
    if missing:
        notes.append(f"data.active_events lists events absent from the log: {', '.join(missing)}")
    quality = DataQuality(
        rows_read=rows,
        dropped=dropped,
        excluded=int(counts["excluded"]),
        rows_kept=kept,
        users=int(summary["users"]),
        active_users=int(summary["active_users"]),
        event_types=int(summary["event_types"]),
        first_day=pd.Timestamp(summary["first_day"]).date(),
        last_day=pd.Timestamp(summary["last_day"]).date(),
        missing_active_events=missing,
        notes=tuple(notes),
    )
    if cache is not None and key is not None:
        _cache_store(cache, key, daily, quality, keys)
    return EventLog(events=events, daily=daily, users=users_t, quality=quality, params=data, con=con, user_keys=keys)


def _integer_keys(daily: ir.Table, users: ir.Table | None) -> tuple[ir.Table, ir.Table | None, ir.Table | None]:
    """Cache ``daily``; with text user ids, swap them for dense integer keys (see EventLog)."""
    if not daily.user_id.type().is_string():
        return daily.cache(), users, None
    ids = daily.select("user_id").distinct()
    if users is not None:
        ids = ids.union(users.select("user_id"), distinct=True)  # users with no events need keys too
    # ordered by the id, so the same log always gets the same keys
    keys = ids.mutate(key=(ibis.row_number().over(order_by="user_id") + 1).cast("int64")).cache()
    d = daily.join(keys, "user_id")
    daily = d.select(user_id=d.key, **{c: d[c] for c in daily.columns if c != "user_id"}).cache()
    if users is not None:
        u = users.join(keys, "user_id")
        users = u.select(user_id=u.key, **{c: u[c] for c in users.columns if c != "user_id"})
    return daily, users, keys


def _cache_store(cache: Path, key: str, daily: ir.Table, quality: DataQuality, keys: ir.Table | None) -> None:
    """Write the daily table, the user keys and the quality counts; the quality file is renamed
    into place last and marks the entry complete, so a reader sees a whole entry or none."""
    cache.mkdir(parents=True, exist_ok=True)
    if keys is not None:
        tmpk = cache / f".{key}.{os.getpid()}.keys.parquet"
        keys.to_parquet(str(tmpk))
        os.replace(tmpk, cache / f"{key}.keys.parquet")
    tmp = cache / f".{key}.{os.getpid()}.parquet"
    daily.to_parquet(str(tmp))
    os.replace(tmp, cache / f"{key}.parquet")
    tmpj = cache / f".{key}.{os.getpid()}.json"
    tmpj.write_text(_quality_to_json(quality), encoding="utf-8")
    os.replace(tmpj, cache / f"{key}.json")


def _load_users(params: Params, up: UsersParams | None, override: Any, con: Any,
                text_columns: tuple[str, ...] = ()) -> ir.Table:
    up = up or UsersParams(source="(given)")
    t, _ = read_source(override if override is not None else up.source, base=params, con=con,
                       what="data.users.source", text_columns=text_columns)
    _check_column(t, up.user, "data.users.user")
    for a in up.attributes:
        _check_column(t, a, "data.users.attributes")
    cols: dict[str, Any] = {"user_id": t[up.user]}
    if up.signup_time:
        _check_column(t, up.signup_time, "data.users.signup_time")
        cols["signup_day"] = _local_time(t[up.signup_time], "data.users.signup_time", up.signup_time).date()
    else:
        cols["signup_day"] = ibis.null("date")
    for a in up.attributes:
        cols[a] = t[a].cast("string")
    rows = t.filter(t[up.user].notnull()).select(**cols)
    # one row per user by a fixed rule, so a duplicated user gives the same result every run:
    # the earliest signup, and the attributes of the row with the earliest signup (ties: smallest)
    aggs: dict[str, Any] = {"signup_day": rows.signup_day.min()}
    for a in up.attributes:
        aggs[a] = rows[a].argmin(rows.signup_day) if up.signup_time else rows[a].min()
    return rows.group_by("user_id").aggregate(**aggs)
