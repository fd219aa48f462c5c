"""The activity cache: what a load built from a product's source, kept on disk so the next load
(another notebook of the run, or next week's run) scans only what changed.

A product's cache is one folder (``<cache_dir>/<product>/``; the runner's default is
``<out>/.cache/<product>/``)::

    manifest.json          what the folder holds (written last, atomically)
    piece-<n>.parquet      one scanned piece of the source (:mod:`.scan`): its daily rows and counts
    keys-<n>.parquet       the text user ids and their integer keys (:mod:`.keys`)
    merge-<n>.parquet      the daily rows of days that several pieces share, aggregated across them
    users-<n>.parquet      the users table as read
    stored.json            small results computed from the raw rows (duplicate counts), per piece
                           (:class:`StoredResults`)
    derived-<name>-<log>.parquet  tables several notebooks derive from one log (its active days,
                           starts, user cadence; :meth:`StoredResults.table`)
    .lock                  shared while a log reads the folder, exclusive while a load updates it

**Pieces.** The source's files are grouped into pieces of about :data:`PIECE_ROWS` rows, in
path order, and each piece is scanned with one query: the engine aggregates a bounded number of
rows at a time, and a piece is the unit that is rescanned. A file is known by its
**fingerprint**: path, size, modification time and a hash of its first and last 64 KiB. On the
next load a piece whose files all kept their fingerprint is reused; a new file goes into a new
piece; a changed or removed file makes its piece stale, and the piece's other files are scanned
again as a new piece. The daily table is the union of the pieces' kept rows: two pieces can hold
rows of one (user, day, event) only on days both cover for users both cover (their user id
ranges overlap), so rows on such **shared days** are aggregated across pieces once into a merge
file and taken from there.

**Trust.** The manifest records a hash of the data params (all of ``data`` but the users table,
which is read afresh each load) and the kit's cache format; any difference discards the folder's
contents. With ``data.valid_until`` unset the window ends tomorrow, so it moves every day: a
piece that dropped rows as too late is rescanned, one that did not is unaffected.

**Concurrency.** A load first looks under the folder's lock held shared: when the folder holds
everything (a hit, as for every notebook of a run after the first load), it writes nothing and
kernels load side by side. Otherwise it takes the lock exclusively while it updates the folder.
Either way the log then holds the lock shared for as long as it lives (a log reads its pieces
lazily), so another process's update waits until no log of this folder is alive. Files are
written under temporary names and renamed into place; files a load no longer needs are deleted
by the next update.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from .params import Params, SourceSpec
from .scan import PieceStats
from .sources import source_files

__all__ = ["ProductCache", "Stale", "FileInfo", "PIECE_ROWS", "fingerprint", "FORMAT", "StoredResults"]

#: Bump when what a piece holds changes: older folders are then rebuilt, never misread.
FORMAT = 4
#: About this many source rows go into one piece (one scan query; one unit of rescanning).
PIECE_ROWS = 8_000_000
#: How the folder's Parquet files are compressed. Snappy, not zstd: the pieces are written once
#: per scan and read by every kernel, and at 100M events a cold load took 21.5 s against 22.9 s
#: (best of two each; the folder 346 MB against 266 MB; the tables read back as fast).
COMPRESSION = "snappy"
_EDGE = 1 << 16


def fingerprint(path: str) -> dict[str, Any]:
    """What identifies a file's content cheaply: size, modification time (ns) and a hash of its
    first and last 64 KiB."""
    st = os.stat(path)
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        h.update(fh.read(_EDGE))
        if st.st_size > 2 * _EDGE:
            fh.seek(-_EDGE, os.SEEK_END)
            h.update(fh.read(_EDGE))
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sig": h.hexdigest()[:16]}


@dataclasses.dataclass(frozen=True)
class FileInfo:
    """One source file: its path, fingerprint and estimated rows (for grouping into pieces)."""

    path: str
    fp: dict[str, Any]
    rows: int


def _estimate_rows(path: str, size: int) -> int:
    low = path.lower()
    if low.endswith((".parquet", ".pq")):
        try:
            import pyarrow.parquet as pq

            return int(pq.read_metadata(path).num_rows)
        except Exception:  # noqa: BLE001 - a damaged file: the reader says so when scanned
            return max(1, size // 8)
    # text: about 60 bytes a row, gzip about 6x smaller
    per_row = 10 if low.endswith((".gz", ".zst")) else 60
    return max(1, size // per_row)


def params_key(params: Params, text_columns: tuple[str, ...]) -> str:
    """The hash of what the pieces depend on besides the files: the data params (without the
    users table), the params folder (relative paths), the CSV columns read as text and the
    cache format."""
    data = params.data.model_dump(mode="json")
    data.pop("users", None)
    data.pop("max_dropped_share", None)  # decides an error from the counts; the pieces do not depend on it
    payload = json.dumps({"data": data, "base": params.base_dir, "text": sorted(text_columns), "format": FORMAT},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def source_ident(params: Params, spec: SourceSpec | str | None) -> tuple[str, list[FileInfo]] | None:
    """The kind of a cacheable source and its files: ``("files", [...])`` for a path,
    ``("demo", [one pseudo file])`` for the demo; None for what cannot be fingerprinted (frames,
    tables, other engines, files another engine reads)."""
    if spec is None:
        return None
    spec = spec if isinstance(spec, SourceSpec) else SourceSpec(path=str(spec))
    if spec.demo is not None:
        ident = json.dumps({"demo": spec.demo, "table": spec.table}, sort_keys=True, default=str)
        return "demo", [FileInfo(path="demo", fp={"demo": ident}, rows=1)]
    if spec.path is None or spec.backend is not None:
        # files another engine reads ({backend: pyspark, path: ...}) stay in that engine: a
        # cache of DuckDB-read pieces would move the analyses to DuckDB
        return None
    files = source_files(params.resolve(spec.path))
    if not files:
        return None
    infos = []
    for f in files:
        fp = fingerprint(f)
        infos.append(FileInfo(path=f, fp=fp, rows=_estimate_rows(f, fp["size"])))
    return "files", infos


# one lock file handle per folder per process: flock locks belong to an open file, so a second
# handle in the same process would wait for the first
_LOCKS: dict[str, "_FolderLock"] = {}
_LOCKS_GUARD = threading.Lock()


class _FolderLock:
    """A shared/exclusive lock on a cache folder, counted per process."""

    def __init__(self, path: Path):
        self.path = path
        self.fh: Any = None
        self.shared = 0
        self.mutex = threading.RLock()

    @classmethod
    def of(cls, folder: Path) -> "_FolderLock":
        key = str(folder.resolve())
        with _LOCKS_GUARD:
            if key not in _LOCKS:
                _LOCKS[key] = cls(folder / ".lock")
            return _LOCKS[key]

    def _flock(self, mode: int) -> None:
        import fcntl

        if self.fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(self.path, "a+")
        fcntl.flock(self.fh, mode)

    def exclusive(self) -> None:
        import fcntl

        self.mutex.acquire()
        self._flock(fcntl.LOCK_EX)

    def release_exclusive(self) -> None:
        import fcntl

        self._flock(fcntl.LOCK_SH if self.shared else fcntl.LOCK_UN)
        self.mutex.release()

    def acquire_shared(self) -> None:
        import fcntl

        with self.mutex:
            if not self.shared:
                self._flock(fcntl.LOCK_SH)
            self.shared += 1

    def shared_now(self) -> "contextlib.AbstractContextManager[None]":
        """The lock held shared for a block."""
        @contextlib.contextmanager
        def block():
            self.acquire_shared()
            try:
                yield
            finally:
                self.release_shared()
        return block()

    def release_shared(self) -> None:
        import fcntl

        with self.mutex:
            self.shared -= 1
            if not self.shared and self.fh is not None:
                fcntl.flock(self.fh, fcntl.LOCK_UN)


class ReadHold:
    """Held by a log while it may read the folder: the shared lock, released when the log is
    garbage (or :meth:`release` is called)."""

    def __init__(self, lock: _FolderLock):
        import weakref

        self._lock = lock
        lock.acquire_shared()
        self._finalizer = weakref.finalize(self, lock.release_shared)

    def release(self) -> None:
        self._finalizer()


class Stale(Exception):
    """A load that only reads the folder found something to write: it must update it."""


@dataclasses.dataclass
class ProductCache:
    """One product's cache folder (see the module docstring). A ``readonly`` handle (a load
    under the shared lock) raises :class:`Stale` instead of writing."""

    folder: Path
    readonly: bool = False

    @classmethod
    def for_params(cls, cache_dir: str | os.PathLike[str], params: Params) -> "ProductCache":
        return cls(Path(cache_dir) / params.product)

    # ------------------------------------------------------------------ locking

    def lock(self) -> _FolderLock:
        return _FolderLock.of(self.folder)

    # ------------------------------------------------------------------ the manifest

    def read_manifest(self) -> dict[str, Any] | None:
        try:
            m = json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return m if m.get("format") == FORMAT else None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.write_json("manifest.json", manifest)

    def write_json(self, name: str, value: Any) -> None:
        if self.readonly:
            raise Stale(name)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(value, indent=1, sort_keys=True, default=str), encoding="utf-8")
        os.replace(tmp, self.folder / name)

    def write_stored(self, value: Any) -> None:
        """Write ``stored.json`` (see :class:`StoredResults`): also from a log that only reads
        the folder, since the manifest does not name it and each entry is keyed by what it was
        computed from."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".stored.json.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(value, indent=1, sort_keys=True, default=str), encoding="utf-8")
        os.replace(tmp, self.folder / "stored.json")

    def read_json(self, name: str) -> Any:
        try:
            return json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    # ------------------------------------------------------------------ files

    def path(self, name: str) -> Path:
        return self.folder / name

    def write_parquet(self, expr: Any, name: str) -> Path:
        """Write an Ibis expression's rows to ``name`` (aside, then renamed into place)."""
        if self.readonly:
            raise Stale(name)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{name}.{os.getpid()}.tmp"
        expr.to_parquet(str(tmp), compression=COMPRESSION)
        os.replace(tmp, self.folder / name)
        return self.folder / name

    def sweep(self, keep: set[str]) -> None:
        """Delete the folder's data files that the manifest no longer names (under the exclusive
        lock: no log of another process reads them), and leftovers of interrupted writes."""
        if self.readonly or not self.folder.exists():
            return
        for p in self.folder.iterdir():
            if p.name in ("manifest.json", "stored.json", ".lock") or p.name in keep:
                continue
            # a build lock is held only by a log, which holds the shared lock: none is held now
            if p.suffix == ".parquet" or p.name.endswith((".tmp", BUILD_LOCK)):
                try:
                    p.unlink()
                except OSError:
                    pass


_STORED_GUARD = threading.Lock()

#: The ending of a derived table's build lock file (:meth:`StoredResults.table`).
BUILD_LOCK = ".build-lock"


@contextlib.contextmanager
def _building(path: Path) -> Any:
    """An exclusive lock on ``path`` (created) for a block: across processes, and across
    threads of one process (each block opens the file itself: flock locks belong to an open
    file)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclasses.dataclass(frozen=True)
class StoredResults:
    """Small results computed from a cached log's raw rows, one per part of its source, kept in
    the folder's ``stored.json`` (e.g. the overview's duplicate counts: computing them reads every
    column of every raw row, which the scan does not keep).

    ``parts`` are (key, rows) pairs: the key names what the part was computed from (the data
    params and the part's files with their fingerprints), ``rows()`` gives the part's valid source
    rows (:attr:`retention_kit.data.log.EventLog.source_rows` of its files). An entry is read
    while its key is the same; writing keeps only the entries of the current parts. Two
    processes that write at once may lose one's entries: they are computed again next time,
    never wrong."""

    cache: ProductCache
    parts: tuple[tuple[str, Any], ...]
    #: names the loaded log (the data params, its files and what its summary was built from):
    #: the derived tables of :meth:`table` are kept under it
    tag: str = ""
    #: the daily table of the log these results belong to: a log derived from it (a segment's,
    #: with another daily table) must not use them
    daily: Any = None

    def table(self, name: str, build: Any, con: Any) -> Any:
        """A derived table of the log (e.g. its active days), read from the folder when an
        earlier load of the same log (another notebook of the run, or the previous run) built
        it; else ``build()``, written to the folder (aside, then renamed into place, so a reader
        never sees half a file) and read back. Files of an older log are deleted by the next
        update of the folder."""
        fname = f"derived-{name}-{self.tag}.parquet"
        path = self.cache.path(fname)
        if not path.exists():
            try:
                # one builder at a time: a kernel that finds another building the table waits
                # and reads it (two kernels of a run start together and want the same tables)
                with _building(self.cache.path(f".{fname}{BUILD_LOCK}")):
                    if not path.exists():
                        tmp = self.cache.path(f".{fname}.{os.getpid()}.{threading.get_ident()}.tmp")
                        build().to_parquet(str(tmp), compression=COMPRESSION)
                        os.replace(tmp, path)
            except OSError:  # a folder that cannot be written: the table lives in the engine
                return build()
        return con.read_parquet(str(path))

    def results(self, name: str, compute: Any) -> list[Any]:
        with _STORED_GUARD:
            saved = self.cache.read_json("stored.json") or {}
        out, new = [], {}
        for key, rows in self.parts:
            k = f"{name}:{key}"
            if k in saved:
                out.append(saved[k])
            else:
                new[k] = compute(rows())
                out.append(new[k])
        if new:
            live = {key for key, _ in self.parts}
            with _STORED_GUARD:
                saved = self.cache.read_json("stored.json") or {}
                saved = {k: v for k, v in saved.items() if k.rsplit(":", 1)[-1] in live}
                saved.update(new)
                try:
                    self.cache.write_stored(saved)
                except OSError:  # a folder that cannot be written: the results are not kept
                    pass
        return out


def group_pieces(files: list[FileInfo], target: int | None = None) -> list[list[FileInfo]]:
    """Consecutive files (in path order) grouped into pieces of about ``target`` rows (default
    :data:`PIECE_ROWS`)."""
    target = PIECE_ROWS if target is None else target
    out: list[list[FileInfo]] = []
    cur: list[FileInfo] = []
    rows = 0
    for f in files:
        if cur and rows + f.rows > target:
            out.append(cur)
            cur, rows = [], 0
        cur.append(f)
        rows += f.rows
    if cur:
        out.append(cur)
    return out


def shared_days(pieces: list[PieceStats]) -> list[tuple[dt.date, dt.date]]:
    """Day intervals (merged, sorted) on which two pieces may hold rows of one (user, day,
    event): both cover the days and their user id ranges overlap."""
    spans = []
    live = [p for p in pieces if p.kept and p.first_day is not None]
    for i, a in enumerate(live):
        for b in live[i + 1:]:
            lo, hi = max(a.first_day, b.first_day), min(a.last_day, b.last_day)
            if lo > hi:
                continue
            if not _users_overlap(a, b):
                continue
            spans.append((lo, hi))
    spans.sort()
    merged: list[tuple[dt.date, dt.date]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _users_overlap(a: PieceStats, b: PieceStats) -> bool:
    try:
        return not (a.last_user < b.first_user or b.last_user < a.first_user)
    except TypeError:  # ids of different kinds (cannot happen within one source): assume overlap
        return True
