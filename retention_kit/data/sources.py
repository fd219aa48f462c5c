"""Sources: open ``data.source`` (or ``data.users.source``) as a table in the engine, never
modifying it.

A source is a path (file, glob or folder of CSV / CSV.GZ / Parquet / JSON-lines files), a
:class:`~retention_kit.data.params.SourceSpec` mapping (a DuckDB database table, a delimiter, a
``url`` or ``backend`` of another engine, the demo generator), a pandas DataFrame or an Ibis
table. Reader errors are turned into one line that says what was wrong and how to fix it.
"""

from __future__ import annotations

import difflib
import glob as globmod
import os
import re
import zlib
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from ..errors import SourceError
from .engine import connect
from .params import Params, SourceSpec

__all__ = ["read_source", "data_spec", "source_files", "check_gzip", "engine_message", "read_fix"]

_CSV = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".csv.zst")
_PARQUET = (".parquet", ".pq", ".parquet.gz")
_JSON = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
_DUCKDB = (".duckdb", ".ddb", ".db")


def data_spec(params: Params) -> SourceSpec:
    """``data.source`` as a :class:`SourceSpec` (a plain string is a path)."""
    src = params.data.source
    if src is None:
        raise SourceError("data.source is not set: name the events' file or table in the params")
    return src if isinstance(src, SourceSpec) else SourceSpec(path=str(src))


def _suffix(name: str) -> str:
    low = name.lower()
    for ext in (*_CSV, *_PARQUET, *_JSON, *_DUCKDB):
        if low.endswith(ext):
            return ext
    return Path(low).suffix


def source_files(path: str) -> list[str]:
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
                          f"{engine_message(e)}{read_fix(e, fmt)}") from None


def check_gzip(params: Params) -> None:
    """Fail on a truncated .gz source: the engine reads such a file up to the cut without a word,
    so a half-downloaded export would pass as a shorter log. Streams the file once (only when
    the activity cache has no entry for it)."""
    spec = data_spec(params)
    if spec.path is None:
        return
    for f in source_files(params.resolve(spec.path)):
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


def read_fix(e: BaseException, fmt: str) -> str:
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
    con = con if con is not None else connect(timezone=base.data.timezone if base else "UTC")
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
    files = source_files(path)
    if not files:
        raise SourceError(
            f"{what}: no event file at {path} (relative paths are resolved against the params "
            f"file's folder); check the path, or generate the demo data with 'retention-kit demo'"
        )
    return _read_files(con, files, spec, f"{what} ({path})", text_columns), con


