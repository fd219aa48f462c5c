"""Sources: open ``data.source`` (or ``data.users.source``) as a table in the engine, never
modifying it.

A source is a path (file, glob or folder of CSV / CSV.GZ / Parquet / JSON-lines / Excel files), a
:class:`~retention_kit.data.params.SourceSpec` mapping (a DuckDB database table, a delimiter or
decimal comma, an Excel sheet, a ``url`` or ``backend`` of another engine, the demo generator), a
pandas DataFrame or an Ibis table. A file whose content is not what its name says is named with
what it holds. Reader errors are turned into one line that says what was wrong and how to fix it.
"""

from __future__ import annotations

import difflib
import glob as globmod
import gzip
import os
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from ..errors import SourceError
from .engine import configure, connect
from .params import Params, SourceSpec

__all__ = ["read_source", "data_spec", "source_files", "check_gzip", "engine_message", "read_fix", "read_excel"]

_CSV = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".csv.zst")
_PARQUET = (".parquet", ".pq", ".parquet.gz")
_JSON = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
_DUCKDB = (".duckdb", ".ddb", ".db")
_XLSX = (".xlsx", ".xlsm")


def data_spec(params: Params) -> SourceSpec:
    """``data.source`` as a :class:`SourceSpec` (a plain string is a path)."""
    src = params.data.source
    if src is None:
        raise SourceError("data.source is not set: name the events' file or table in the params")
    return src if isinstance(src, SourceSpec) else SourceSpec(path=str(src))


def _suffix(name: str) -> str:
    low = name.lower()
    for ext in (*_CSV, *_PARQUET, *_JSON, *_DUCKDB, *_XLSX):
        if low.endswith(ext):
            return ext
    return Path(low).suffix


def source_files(path: str) -> list[str]:
    if any(ch in path for ch in "*?["):
        return sorted(globmod.glob(path, recursive=True))
    if os.path.isdir(path):
        found = [str(p) for p in sorted(Path(path).rglob("*"))
                 if p.is_file() and _suffix(p.name) in (*_CSV, *_PARQUET, *_JSON, *_XLSX, ".gz")]
        return found
    return [path] if os.path.exists(path) else []


def _kind(path: str) -> str:
    """The format a file's name says; a bare ``.gz`` (Segment's S3 logs) says nothing, so its
    content decides."""
    suffix = _suffix(Path(path).name)
    for kind, exts in (("duckdb", _DUCKDB), ("parquet", _PARQUET), ("json", _JSON), ("xlsx", _XLSX)):
        if suffix in exts:
            return kind
    if suffix == ".gz" and _content(path) == "json":
        return "json"
    return "csv"


#: What each kind of content is called in a message, and the name a file of it should have
_FOUND = {"parquet": ("a Parquet file", ".parquet"), "xlsx": ("an Excel workbook", ".xlsx"),
          "json": ("JSON", ".jsonl"), "csv": ("CSV text", ".csv"), "duckdb": ("a DuckDB database", ".duckdb"),
          "zip": ("a zip archive", ""), "sqlite": ("a SQLite database", ""), "gzip": ("gzip-compressed data", ".gz")}


def _content(path: str) -> str | None:
    """What a file holds, from its first bytes: parquet, xlsx, zip, duckdb, sqlite, gzip (where the
    name does not end in .gz), json or csv; None when it cannot say (empty, unreadable, binary)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
        if path.lower().endswith(".gz") and head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as gz:
                head = gz.read(4096)
        elif head[:2] == b"\x1f\x8b":
            return "gzip"
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error):
        return None
    if not head:
        return None
    if head[:4] == b"PAR1":
        return "parquet"
    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as z:
                return "xlsx" if any(n.startswith("xl/") for n in z.namelist()) else "zip"
        except (zipfile.BadZipFile, OSError):
            return "zip"
    if head[8:12] == b"DUCK":
        return "duckdb"
    if head[:16] == b"SQLite format 3\x00":
        return "sqlite"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"\x00" in head:
        return None  # some other binary format (or UTF-16 text): the reader says what it finds
    return "json" if text[:1] in (b"{", b"[") else "csv"


def _check_content(files: list[str], fmt: str, explicit: bool, where: str) -> None:
    """Fail when a file's content is not the format it is read as (its suffix, or source.format),
    saying what it holds: a workbook named .csv would otherwise be read as one garbled column."""
    for f in files:
        found = _content(f)
        if found is None or found == fmt:
            continue
        what, ext = _FOUND[found]
        said = f"source.format is {fmt}" if explicit else f"its name says {fmt}"
        if found == "zip":
            fix = "unzip it and point the source at the files inside (an Amplitude export is a zip of .json.gz files)"
        elif found == "sqlite":
            fix = "export the table to CSV or Parquet"
        elif found == "gzip":
            fix = f"name it {Path(f).name}.gz so it is decompressed"
        else:
            fix = f"rename it to {Path(f).stem}{ext} or set source.format: {found}"
        raise SourceError(f"{where}: {Path(f).name} holds {what}, but {said}; {fix}")


def _read_files(con: Any, files: list[str], spec: SourceSpec | None, where: str,
                text_columns: tuple[str, ...] = (), filename: str | None = None) -> ir.Table:
    kinds = {_kind(f) for f in files}
    fmt = spec.format if spec and spec.format else None
    explicit = fmt is not None
    if fmt is None:
        if len(kinds) > 1:
            raise SourceError(f"{where}: mixes file types ({', '.join(sorted(kinds))}); point it at one kind or set source.format")
        fmt = kinds.pop()
    if spec is not None and spec.sheet is not None and fmt != "xlsx":
        raise SourceError(f"{where}: 'sheet' is for Excel workbooks, but the source is read as {fmt}; remove sheet")
    if spec is not None and spec.decimal is not None and fmt != "csv":
        raise SourceError(f"{where}: 'decimal' is for CSV files, but the source is read as {fmt}; remove decimal")
    _check_content(files, fmt, explicit, where)
    # the file each row came from, as a column (a scan of some files filters on it; the engine
    # then opens only those files)
    fkw: dict[str, Any] = {"filename": filename} if filename else {}
    try:
        if fmt == "parquet":
            return con.read_parquet(files, **fkw)
        if fmt == "json":
            # DuckDB would guess timestamps in JSON text and keep '...Z' or '+08:00' times as naive
            # UTC; read them as text so their offset is honoured like any text time. A format that
            # matches nothing turns the guess off.
            return con.read_json(files, timestampformat="(no timestamp guessing)", **fkw)
        if fmt == "xlsx":
            return _register(con, read_excel(files, spec.sheet if spec else None, where))
        if fmt == "duckdb":
            if not spec or not spec.table:
                raise SourceError(f"{where}: a DuckDB database needs 'table': write source as {{path: {files[0]}, table: events}}")
            # the kit's settings: DuckDB would otherwise spill into a folder beside the user's
            # database, and take 80% of the machine's memory
            db = configure(ibis.duckdb.connect(files[0], read_only=True))
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
        if spec and spec.decimal:
            kw["decimal_separator"] = spec.decimal
        t = con.read_csv(files, **kw, **fkw)
        retype = [c for c in text_columns if c in t.columns and not t[c].type().is_string()]
        if retype:
            t = con.read_csv(files, types={c: "VARCHAR" for c in retype}, **kw, **fkw)
        if len(t.columns) == 1 + bool(filename) and not kw.get("delim"):
            retry = _csv_fallback(con, files, t.columns[0], {**kw, **fkw})
            t = retry if retry is not None else t
        return t
    except SourceError:
        raise
    except Exception as e:  # the engine's reader errors are many; keep the gist, say what to do
        raise SourceError(f"{where}: cannot read {files[0] if len(files) == 1 else f'{len(files)} files'} as {fmt}: "
                          f"{engine_message(e)}{read_fix(e, fmt)}") from None


#: Rows of a workbook turned into columns at a time: the sheet is never held as Python rows whole
_EXCEL_CHUNK = 50_000


def read_excel(files: list[str], sheet: str | int | None, where: str) -> pa.Table:
    """One sheet of each workbook (the first by default) as an Arrow table: the first row names
    the columns, empty rows are skipped, each column takes the type its cells share (text when
    they mix numbers and text).

    The sheet is streamed with openpyxl's read-only reader and converted to Arrow a chunk of
    rows at a time, so the file is held once, as columns, which the engine then scans in place.
    Formulas give their cached values, as Excel last computed them.
    """
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency; a broken install says so
        raise SourceError(f"{where}: reading Excel needs the openpyxl package: pip install openpyxl") from None
    tables = []
    for f in files:
        fname = Path(f).name
        try:
            wb = openpyxl.load_workbook(f, read_only=True, data_only=True)
        except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
            raise SourceError(f"{where}: cannot read {fname} as an Excel workbook: {engine_message(e)}; "
                              "save it again from Excel as .xlsx") from None
        try:
            names = wb.sheetnames
            if sheet is None:
                name = names[0]
            elif isinstance(sheet, int):
                if sheet >= len(names):
                    raise SourceError(f"{where}: {fname} has {len(names)} sheet(s) ({', '.join(names)}); "
                                      f"sheet {sheet} counts from 0")
                name = names[sheet]
            elif sheet in names:
                name = sheet
            else:
                near = difflib.get_close_matches(sheet, names, n=1, cutoff=0.5)
                hint = f"did you mean '{near[0]}'? " if near else ""
                raise SourceError(f"{where}: {fname} has no sheet '{sheet}'; {hint}sheets are: {', '.join(names)}")
            tables.append(_sheet_table(wb[name].iter_rows(values_only=True), f"{fname}, sheet '{name}'", where))
        finally:
            wb.close()
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise SourceError(f"{where}: the workbooks' sheets do not share their columns' types ({e}); "
                          "read one workbook at a time") from None


def _sheet_table(rows: Any, what: str, where: str) -> pa.Table:
    header = next(rows, None)
    if header is None or all(h is None for h in header):
        raise SourceError(f"{where}: {what} is empty; the first row must name the columns")
    names = _header_names(header)
    chunks: list[list[pa.Array]] = []
    buf: list[tuple] = []
    for row in rows:
        if row is None or all(v is None for v in row):
            continue
        buf.append(row)
        if len(buf) >= _EXCEL_CHUNK:
            chunks.append(_columns(buf, len(names)))
            buf = []
    if buf or not chunks:
        chunks.append(_columns(buf, len(names)))
    cols = []
    for i in range(len(names)):
        parts = [c[i] for c in chunks]
        cols.append(pa.chunked_array(_same_type(parts)))
    return pa.table(dict(zip(names, cols)))


def _header_names(header: tuple) -> list[str]:
    names: list[str] = []
    for i, h in enumerate(header):
        base = str(h).strip() if h is not None and str(h).strip() else f"column_{i + 1}"
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


def _columns(rows: list[tuple], width: int) -> list[pa.Array]:
    out = []
    for i in range(width):
        values = [r[i] if i < len(r) else None for r in rows]
        try:
            out.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # numbers and text in one column: text, as the cells read
            out.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
    return out


def _same_type(parts: list[pa.Array]) -> list[pa.Array]:
    """Chunks of one column with one type: nulls take the others' type, integers and floats
    become floats, anything else mixed becomes text."""
    types = {p.type for p in parts if not pa.types.is_null(p.type)}
    if len(types) <= 1:
        target = types.pop() if types else pa.null()
    elif all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types):
        target = pa.float64()
    else:
        target = pa.string()
    return [p if p.type == target else p.cast(target) for p in parts]


def check_gzip(params: Params, files: list[str] | None = None) -> None:
    """Fail on a truncated .gz source: the engine reads such a file up to the cut without a word,
    so a half-downloaded export would pass as a shorter log. Streams each file once (only the
    files a load scans: ``files``, default all of the source's)."""
    spec = data_spec(params)
    if spec.path is None:
        return
    for f in (files if files is not None else source_files(params.resolve(spec.path))):
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


def _csv_fallback(con: Any, files: list[str], header: str, kw: dict[str, Any]) -> ir.Table | None:
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
    extra = {k: v for k, v in kw.items() if k != "delim"}
    return con.read_csv(files, columns={n: "VARCHAR" for n in names}, delim=delim, header=True,
                        auto_detect=False, quote='"', escape='"', **extra)


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


_DECIMAL_COMMA = re.compile(r"Could not convert string '\s*[-+]?[0-9.]*[0-9],[0-9]+\s*' to (DOUBLE|FLOAT|DECIMAL)", re.I)


def read_fix(e: BaseException, fmt: str) -> str:
    text = str(e)
    if _DECIMAL_COMMA.search(text):
        return "; the file writes decimals with a comma: set source: {path: ..., decimal: ','}"
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


def _register(con: Any, df: pd.DataFrame | pa.Table) -> ir.Table:
    """Expose a DataFrame (or Arrow table) to this connection without copying it or touching the
    caller's frame.

    An unbound ``ibis.memtable`` would run on Ibis's default backend, not on ``con``, and could
    not be joined with the connection's cached tables.
    """
    name = f"rk_frame_{id(df):x}_{len(df)}"
    con.con.register(name, df)
    return con.table(name)


def read_source(source: Any, *, base: Params | None = None, con: Any = None, what: str = "data.source",
                text_columns: tuple[str, ...] = (), filename: str | None = None) -> tuple[ir.Table, Any]:
    """Open an event (or users) source as an Ibis table, never modifying it.

    ``source`` is a path string, a :class:`SourceSpec`, a pandas DataFrame or an Ibis table.
    ``text_columns`` are read as text from CSV files instead of the type the engine guesses from
    the first rows (used after a later row contradicted the guess). ``filename`` names a column
    that says which file each row came from (CSV, JSON and Parquet files only; other sources
    ignore it). Returns the table and the connection it lives on.
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

            if base and spec.backend == "pyspark" and spec.options.get("catalog"):
                spec = spec.model_copy(update={"options": {**spec.options,
                                                           "catalog": base.resolve(str(spec.options["catalog"]))}})
            other = connect_source(spec, timezone=base.data.timezone if base else "UTC")
            if spec.path is None:
                return other.table(spec.table), other
            path = base.resolve(spec.path) if base else str(Path(spec.path).resolve())
            kind = spec.format or ("csv" if ".csv" in Path(path).name.lower() else "parquet")
            if kind not in ("csv", "parquet"):
                raise SourceError(f"{what}: {spec.backend} reads Parquet or CSV files, not {kind}")
            reader = other.read_csv if kind == "csv" else other.read_parquet
            return reader(path), other
        except SourceError:
            raise
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            name = f"files {spec.path}" if spec.path else f"table '{spec.table}'"
            hint = ""
            if spec.backend == "pyspark" and spec.table and not spec.options.get("catalog"):
                # a session's default catalog lives in its own process: each kernel's is empty
                hint = ("; a Spark table must be in a catalog every session sees: give the folder of a "
                        "persistent local catalog as options.catalog, your metastore in options.config, "
                        "or read the files with 'path' (docs/warehouses.md)")
            raise SourceError(f"{what}: cannot open {name} on {spec.url or spec.backend}: {first}{hint}") from None
    path = base.resolve(spec.path) if base else str(Path(spec.path).resolve())
    files = source_files(path)
    if not files:
        raise SourceError(
            f"{what}: no event file at {path} (relative paths are resolved against the params "
            f"file's folder); check the path, or generate the demo data with 'retention-kit demo'"
        )
    return _read_files(con, files, spec, f"{what} ({path})", text_columns, filename), con


