"""Where reports land, and how they replace each other without ever losing a good one.

Layout of an output folder (``--out``)::

    index.html                         every product x notebook: status, run time, links
    .lock                              held while a run writes here
    .cache/<product>/                  the activity cache (retention_kit.data.cache; --cache-dir
                                       puts it elsewhere): what the next run need not rescan
    <product>/
        <notebook>.html, <notebook>.ipynb   the latest GOOD report of each notebook (stable paths)
        data/<name>.csv                     the latest good CSV exports
        status.json                         the product's latest run: ``load`` (seconds,
                                            rows_scanned, files_scanned, cache) and per
                                            notebook its status, seconds, compute_seconds
                                            and render_seconds
        run.log                             what every run said besides the reports (appended)
        archive/<YYYYmmdd-HHMMSS>/          every run in full, failures included
            <notebook>.html, <notebook>.ipynb, data/<name>.csv, run.log (this run's)

A run writes into its archive folder first. A notebook that succeeded is then published file by
file: each file is copied next to its target under a temporary name and moved over it with an
atomic rename, so a reader (or a crash) sees the old file or the new one, never half of one. A
notebook that failed publishes nothing: its last good report stays in place and the index links
the failed run's page from the archive.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..analyses import REPORTS
from ..analyses.spec import SHARED_EXPORTS
from ..core import i18n
from ..errors import OutputError
from .exports import merge_rows

__all__ = ["NotebookStatus", "atomic_write_text", "publish_notebook", "write_status", "write_index", "RunLock"]


@dataclasses.dataclass
class NotebookStatus:
    """Outcome of one notebook for one product in one run."""

    product: str
    title: str
    notebook: str
    status: str  # ok | failed | error (bad params or data)
    seconds: float
    run_id: str
    message: str = ""
    exports: list[str] = dataclasses.field(default_factory=list)
    published: bool = False
    #: the time its cells ran in the kernel (loading from the activity cache, analyses, plots;
    #: not the kernel's start), and the time nbconvert took to make the page; None when the
    #: step did not run
    compute_seconds: float | None = None
    render_seconds: float | None = None


def atomic_write_text(path: Path, text: str) -> None:
    """Write text beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def publish_notebook(product_dir: Path, run_dir: Path, notebook: str, exports: list[str]) -> None:
    """Make a successful notebook's files the product's latest, all or nothing as far as a
    file system allows: every file is first copied beside its target (the step a full disk
    refuses), and only when all copies exist are they renamed into place, CSVs first and the
    page last. A failed copy removes the copies and leaves the published report as it was. A
    shared export (``segment_comparisons.csv``) takes this notebook's rows only, in place of
    its old ones."""
    pairs = [(run_dir / "data" / name, product_dir / "data" / name) for name in exports]
    pairs += [(run_dir / f"{notebook}.ipynb", product_dir / f"{notebook}.ipynb"),
              (run_dir / f"{notebook}.html", product_dir / f"{notebook}.html")]
    staged: list[tuple[Path, Path]] = []
    try:
        for src, dst in pairs:
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
            staged.append((tmp, dst))
            shared = dst.parent.name == "data" and dst.name[:-len(".csv")] in SHARED_EXPORTS
            if shared:  # this notebook's rows replace its old ones; the other notebooks' rows stay
                merge_rows(src, dst, notebook, owner=SHARED_EXPORTS[dst.name[:-len(".csv")]],
                           order=[s.name for s in REPORTS], out=tmp)
            else:
                shutil.copyfile(src, tmp)
        for tmp, dst in staged:
            os.replace(tmp, dst)
    finally:
        for tmp, _ in staged:
            if tmp.exists():
                tmp.unlink()


def write_status(product_dir: Path, statuses: list[NotebookStatus], *, load: Any = None) -> None:
    """Merge this run's outcomes into the product's status.json (other notebooks keep theirs).

    ``load`` (a :class:`retention_kit.data.log.LoadStats`) is what loading the product's log
    cost in this run: ``seconds``, ``rows_scanned``, ``files_scanned`` and ``cache`` (``miss``,
    ``hit`` or ``partial``); None (a run that did not load it) writes null."""
    path = product_dir / "status.json"
    old: dict[str, Any] = {}
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
    notebooks = dict(old.get("notebooks", {}))
    for s in statuses:
        prev = notebooks.get(s.notebook, {})
        entry = dataclasses.asdict(s)
        # remember the last good run so the index can say how old the published page is
        entry["last_good_run"] = s.run_id if s.status == "ok" else prev.get("last_good_run")
        notebooks[s.notebook] = entry
    title = statuses[0].title if statuses else old.get("title", product_dir.name)
    doc = {"product": product_dir.name, "title": title,
           "load": load.to_dict() if load is not None else None, "notebooks": notebooks}
    atomic_write_text(path, json.dumps(doc, indent=2))


def _nb_key(name: str) -> tuple[int, str]:
    order = [s.name for s in REPORTS]
    return (order.index(name) if name in order else len(order), name)


def _report_title(name: str) -> str:
    key = f"report.title.{name}"
    return i18n.t(key) if i18n.has(key) else next((s.title for s in REPORTS if s.name == name), name)


def write_index(out: Path, *, private_dirs: Iterable[str] = (), language: str = "en") -> Path:
    """Rebuild ``index.html`` from every product's status.json (products not in this run stay).
    Messages keep no path of this machine (:func:`.render.scrub_paths`; ``private_dirs`` adds
    folders to the usual ones); status.json keeps them whole. ``language``: the report language
    of the page's own words (:mod:`retention_kit.core.i18n`), also its ``lang`` attribute;
    products' titles and failure messages are shown as they are."""
    with i18n.using(language):
        return _write_index(out, private_dirs=private_dirs, language=language)


def _write_index(out: Path, *, private_dirs: Iterable[str], language: str) -> Path:
    from .render import machine_dirs, scrub_paths

    t = i18n.t

    dirs = machine_dirs([str(out), *private_dirs])
    rows = []
    for status_file in sorted(out.glob("*/status.json")):
        try:
            st = json.loads(status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        product = status_file.parent.name
        for name, e in sorted(st.get("notebooks", {}).items(), key=lambda kv: _nb_key(kv[0])):
            ok = e.get("status") == "ok"
            latest = f"{product}/{name}.html"
            has_latest = (out / latest).exists()
            run_page = f"{product}/archive/{e.get('run_id')}/{name}.html"
            links = []
            if has_latest:
                links.append(f'<a href="{html.escape(latest)}">{html.escape(t("index.latest"))}</a>')
            if not ok and (out / run_page).exists():
                links.append(f'<a href="{html.escape(run_page)}">{html.escape(t("index.failed_run"))}</a>')
            if (out / product / "data").exists():
                links.append(f'<a href="{html.escape(product)}/data/">{html.escape(t("index.exports"))}</a>')
            badge = (f'<span class="ok">{html.escape(t("index.ok"))}</span>' if ok else
                     f'<span class="bad">{html.escape(e.get("status", "failed"))}</span>')
            msg = html.escape(scrub_paths(e.get("message", ""), dirs)[:300])
            good = e.get("last_good_run")
            stale = "" if ok or not good else f"<br><small>{html.escape(t('index.stale', run=good))}</small>"
            rows.append(
                f"<tr><td>{html.escape(st.get('title') or product)}<br><small>{html.escape(product)}</small></td>"
                f"<td>{html.escape(_report_title(name))}<br><small>{html.escape(name)}</small></td><td>{badge}{stale}</td><td>{html.escape(t('index.seconds', seconds=i18n.num(e.get('seconds', 0), 1)))}</td>"
                f"<td>{html.escape(str(e.get('run_id', '')))}</td><td>{' · '.join(links)}</td><td>{msg}</td></tr>"
            )
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    head = "".join(f"<th>{html.escape(t(f'index.column.{c}'))}</th>"
                   for c in ("product", "report", "status", "seconds", "run", "links", "message"))
    page = f"""<!DOCTYPE html>
<html lang="{html.escape(language)}"><head><meta charset="utf-8"><title>{html.escape(t("index.title"))}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #1a202c; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ padding: 6px 10px; border-bottom: 1px solid #e2e8f0; text-align: left; vertical-align: top; }}
.ok {{ color: #276749; font-weight: bold; }} .bad {{ color: #c53030; font-weight: bold; }} small {{ color: #718096; }}
</style></head><body>
<h1>{html.escape(t("index.title"))}</h1>
<p>{html.escape(t("index.intro", now=now), quote=False)}</p>
<table><tr>{head}</tr>
{''.join(rows) or f'<tr><td colspan="7">{html.escape(t("index.empty"))}</td></tr>'}
</table></body></html>
"""
    path = out / "index.html"
    atomic_write_text(path, page)
    return path


class RunLock:
    """An exclusive lock on an output folder, so two runs never write the same reports at once."""

    def __init__(self, out: Path):
        self.path = out / ".lock"
        self._fh: Any = None

    def __enter__(self) -> "RunLock":
        import fcntl

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a+")
        except OSError as e:
            raise OutputError(f"cannot write to the output folder {self.path.parent}: {e.strerror}; "
                              "choose another folder with --out or fix its permissions") from None
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.seek(0)
            holder = self._fh.read().strip() or "another process"
            self._fh.close()
            raise OutputError(f"another run is writing to {self.path.parent} ({holder}); wait for it to "
                              "finish or use another --out folder") from None
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(f"pid {os.getpid()} since {dt.datetime.now():%Y-%m-%d %H:%M:%S}")
        self._fh.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        import fcntl

        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
