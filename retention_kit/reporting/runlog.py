"""The run log: everything a run says that is not the report.

Each product of a run gets its lines in two files: ``<out>/<product>/run.log`` (appended run
after run, each run opened by a ``=== run <run id>`` line; trimmed to its newest runs past
:data:`MAX_BYTES`) and ``<out>/<product>/archive/<run id>/run.log`` (this run alone, beside its
pages). What goes there: each notebook's start and outcome, the stderr of its cells (warnings,
library log lines), the full traceback of a failed cell, the kernel process's own output, and
the warnings and log records of the runner's process while it works on that product. With
``echo`` (``--debug``) every line is printed to the console too.

Lines read ``<local time> <notebook or -> <LEVEL> <source>: <text>``; continuation lines of a
multi-line text are indented by four spaces.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["RunLog", "MAX_BYTES", "LOG_NAME"]

LOG_NAME = "run.log"
#: Past this size a product's run.log keeps only its newest runs (about half of it).
MAX_BYTES = 5_000_000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _Handler(logging.Handler):
    def __init__(self, log: "RunLog") -> None:
        super().__init__(logging.WARNING)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            product, notebook = self.log.current()
            self.log.write(product, notebook, record.levelname, record.name, text)
        except Exception:  # pragma: no cover - logging must never break a run
            self.handleError(record)


class RunLog:
    """The log files of one run, one pair per product (see the module docstring).

    Use as a context manager: inside it, warnings and log records of WARNING and above from any
    library in this process go to the log of the product the current thread works on
    (:meth:`context`), instead of the console.
    """

    def __init__(self, out_dir: Path, *, echo: bool = False) -> None:
        self.out_dir = out_dir
        self.echo = echo
        self._files: dict[str, list[IO[str]]] = {}
        self._run_ids: dict[str, str] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._handler = _Handler(self)
        self._saved: tuple[list[logging.Handler], bool] | None = None

    # ------------------------------------------------------------------ set-up

    def __enter__(self) -> "RunLog":
        root = logging.getLogger()
        # the console of a scheduled run stays quiet: library records go to the log instead of
        # logging's last-resort handler (stderr), warnings too (logging.captureWarnings)
        self._saved = (list(root.handlers), bool(getattr(logging, "_warnings_showwarning", None)))
        root.addHandler(self._handler)
        logging.captureWarnings(True)
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self._handler)
        if self._saved is not None and not self._saved[1]:
            logging.captureWarnings(False)
        with self._lock:
            for fhs in self._files.values():
                for fh in fhs:
                    fh.close()
            self._files.clear()

    def path(self, product: str) -> Path:
        """The product's cumulative log file."""
        return self.out_dir / product / LOG_NAME

    def open_product(self, product: str, run_id: str, *, notebooks: int) -> None:
        """Start the product's part of this run: its two files and the run's first line."""
        with self._lock:
            if product in self._files:
                return
            main = self.path(product)
            main.parent.mkdir(parents=True, exist_ok=True)
            _trim(main)
            archive = self.out_dir / product / "archive" / run_id / LOG_NAME
            archive.parent.mkdir(parents=True, exist_ok=True)
            self._files[product] = [open(main, "a", encoding="utf-8"), open(archive, "a", encoding="utf-8")]
            self._run_ids[product] = run_id
        from .. import __version__

        self.write(product, None, "INFO", "run", f"=== run {run_id} of {product}: {notebooks} notebook(s), "
                   f"retention-kit {__version__}, Python {sys.version.split()[0]}", header=True)

    # ------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def context(self, product: str, notebook: str | None = None) -> Iterator[None]:
        """Records of this thread inside the block belong to ``product`` (and ``notebook``)."""
        old = self.current()
        self._local.where = (product, notebook)
        try:
            yield
        finally:
            self._local.where = old

    def current(self) -> tuple[str | None, str | None]:
        return getattr(self._local, "where", (None, None))

    def write(self, product: str | None, notebook: str | None, level: str, source: str, text: str, *,
              header: bool = False) -> None:
        """Append one entry; an entry with no product goes to every product of the run."""
        text = _ANSI.sub("", text).rstrip()
        if not text:
            return
        now = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        first, *rest = text.splitlines() or [""]
        if header:
            line = f"{now} {first}\n"
        else:
            line = f"{now} {notebook or '-'} {level} {source}: {first}\n"
        line += "".join(f"    {r}\n" for r in rest)
        with self._lock:
            targets = [product] if product is not None else list(self._files)
            for p in targets:
                for fh in self._files.get(p, []):
                    fh.write(line)
                    fh.flush()
            if self.echo:
                print((f"{product}: " if product else "") + line, end="", file=sys.stderr, flush=True)


def _trim(path: Path) -> None:
    """Keep a long-lived run.log small: past MAX_BYTES, drop its oldest runs (whole runs, from a
    ``=== run`` line on) until about half of it remains."""
    try:
        if path.stat().st_size <= MAX_BYTES:
            return
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    tail = text[-MAX_BYTES // 2:]
    m = re.search(r"^\S+ \S+ === run ", tail, flags=re.M)
    keep = tail[m.start():] if m else tail[tail.find("\n") + 1:]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(keep, encoding="utf-8")
    tmp.replace(path)
