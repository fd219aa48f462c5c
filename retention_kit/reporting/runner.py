"""Run notebooks for products: papermill executes, nbconvert renders, :mod:`.publish` files it.

The reports to run are the registry's (:data:`retention_kit.analyses.REPORTS`); their notebooks
ship with the package (:data:`NOTEBOOK_DIR`). Each (product, notebook) pair runs in its own
kernel with three parameters: ``params_path`` (the product's YAML, absolute), ``export_dir``
(where the notebook's CSV exports go) and ``cache_dir`` (the activity cache,
:mod:`retention_kit.data.cache`: a product's raw log is scanned once per run, and next run only
its new or changed files are; default ``<out>/.cache``, ``--cache-dir`` elsewhere). Failures are isolated: a failing notebook still gets an HTML
page showing the error, is marked in the index, and leaves the last good report in place; other
pairs run on.

The console stays for people: one progress line per notebook (``[2/5] demo/stickiness ok
3.1 s``). Everything else a run says (warnings, library log lines, cells' stderr, kernels' own
output, full tracebacks) goes to the run log (:mod:`.runlog`), and never to a page
(:func:`.render.render_html`). Kernels talk to the runner over Unix sockets in a private
temporary folder (``transport="ipc"``) rather than unencrypted local TCP, and are shut down
without the interrupt that would make an idle kernel print "KeyboardInterrupt caught in kernel".

Exit codes: 0 all good, 1 some report failed, 2 bad params or data.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import datetime as dt
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import nbformat

from ..analyses import REPORTS, report_spec
from ..analyses.spec import SHARED_EXPORTS
from ..core import i18n
from ..data import Params, load_events, load_params
from ..data.backends import DERBY_HOME_FLAG, catalog_folders
from ..data.engine import DEFAULT_MEMORY_LIMIT, KERNEL_RESERVE_MB, MEMORY_LIMIT_ENV, SPILL_DIR_ENV, memory_share
from ..data.log import LoadStats
from ..errors import DataError, InstallError, OutputError, ParamsError, RetentionKitError, SourceError
from . import publish
from .exports import merge_rows
from .render import failure_banner, render_html
from .progress import Eta, duration, last_seconds, load_progress
from .runlog import RunLog

__all__ = ["run", "RunResult", "available_notebooks", "NOTEBOOK_DIR", "EXIT_OK", "EXIT_FAILED", "EXIT_BAD_INPUT"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: The report notebooks (package data: in a checkout, the repository's ``notebooks/``).
NOTEBOOK_DIR = Path(__file__).resolve().parent / "notebooks"
_INPUT_ERRORS = {c.__name__ for c in (ParamsError, DataError, SourceError)}


@dataclasses.dataclass
class RunResult:
    """What a run did: one status per (product, notebook), the index page and the exit code."""

    statuses: list[publish.NotebookStatus]
    index: Path | None
    input_errors: list[str]
    #: Each product's run log (``<out>/<product>/run.log``).
    logs: dict[str, Path] = dataclasses.field(default_factory=dict)
    #: What loading each product's log cost in this run (status.json's ``load``).
    loads: dict[str, LoadStats] = dataclasses.field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        if self.input_errors or any(s.status == "error" for s in self.statuses):
            return EXIT_BAD_INPUT
        if any(s.status != "ok" for s in self.statuses):
            return EXIT_FAILED
        return EXIT_OK


def available_notebooks(notebook_dir: Path = NOTEBOOK_DIR) -> list[str]:
    """The notebooks in ``notebook_dir``, in run order: the registry's reports first (by their
    order), then any other notebook by name."""
    names = [p.stem for p in notebook_dir.glob("*.ipynb") if not p.name.startswith((".", "_"))]
    order = [s.name for s in REPORTS]
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


def _title(notebook: str) -> str:
    """The report's title in the report language in force (the spec's English title without one)."""
    if i18n.has(f"report.title.{notebook}"):
        return i18n.t(f"report.title.{notebook}")
    try:
        return report_spec(notebook).title
    except KeyError:  # a notebook of the analyst's own, outside the registry
        return notebook


def _run_id(product_dir: Path) -> str:
    base = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    rid, i = base, 1
    while (product_dir / "archive" / rid).exists():
        i += 1
        rid = f"{base}-{i}"
    return rid


@functools.lru_cache(maxsize=1)
def _base_kernel_manager() -> type:
    from jupyter_client.manager import AsyncKernelManager

    class RunKernelManager(AsyncKernelManager):
        """A kernel for one notebook of a run: Unix-socket transport in the run's private socket
        folder (POSIX), its process output into a file for the run log, and a shutdown that does
        not interrupt the (idle) kernel first."""

        socket_dir: str | None = None
        output_file: str | None = None
        kernel_cwd: str | None = None
        #: the engine memory limit of this kernel (its share of the run's, :func:`memory_share`)
        memory_limit: str | None = None

        def __init__(self, **kw):
            super().__init__(**kw)
            if self.socket_dir and os.name == "posix":
                # a private folder (mode 700): only this user reaches the sockets
                name = uuid.uuid4().hex[:12]
                self.transport = "ipc"
                self.cache_ports = False
                self.connection_file = os.path.join(self.socket_dir, f"{name}.json")
                self.ip = os.path.join(self.socket_dir, name)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            if self.kernel_cwd:
                # the kernel's folder is set on its process alone: papermill's cwd= would chdir
                # the whole runner, which other threads' relative paths would then follow
                kw["cwd"] = self.kernel_cwd
            if self.memory_limit:
                kw["env"] = {**(kw.get("env") or os.environ), MEMORY_LIMIT_ENV: self.memory_limit}
            if not self.output_file:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            with open(self.output_file, "ab") as fh:  # the child keeps its own copy of the handle
                kw["stdout"], kw["stderr"] = fh, subprocess.STDOUT
                return await super()._async_launch_kernel(kernel_cmd, **kw)

        async def _async_interrupt_kernel(self):
            # jupyter_client interrupts before every shutdown; a kernel whose notebook has
            # finished is idle, and the SIGINT only makes it print "KeyboardInterrupt caught in
            # kernel". A kernel still busy (Ctrl-C of the run) is ended by _kill_kernels.
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return RunKernelManager


def _kernel_manager(socket_dir: Path, output_file: Path, cwd: Path | None = None,
                    memory_limit: str | None = None) -> type:
    """The kernel manager class papermill builds for one notebook (papermill takes a class);
    ``cwd`` is the kernel's working folder, ``memory_limit`` its engine memory limit."""
    return type("RunKernelManager", (_base_kernel_manager(),),
                {"socket_dir": str(socket_dir), "output_file": str(output_file),
                 "kernel_cwd": str(cwd) if cwd is not None else None, "memory_limit": memory_limit})


def compute_seconds(nb: nbformat.NotebookNode) -> float | None:
    """The time the notebook's cells ran in the kernel (papermill's per-cell durations added
    up: loading from the activity cache, the analyses and the plots; not the kernel's start);
    None when no cell ran."""
    ds = [c.get("metadata", {}).get("papermill", {}).get("duration") for c in nb.cells]
    ds = [float(d) for d in ds if isinstance(d, (int, float))]
    return round(sum(ds), 3) if ds else None


#: What every kernel of a run imports as it starts, before its first cell: the kit's
#: analyses, plots (with matplotlib) and report helpers. A kernel started while the runner still
#: loads the log (:class:`_Gate`) so has them ready when the load ends; a later kernel just pays
#: for them at its start instead of in its first cell.
WARM_IMPORTS = "import retention_kit.analyses, retention_kit.plots, retention_kit.reporting.report"


class _NotRun(Exception):
    """The product's load failed (or the run was stopped) while its kernel waited at the gate:
    the kernel ran no cell."""


@dataclasses.dataclass
class _Gate:
    """Kernels started while the runner loads the run's logs wait here, after their start and
    imports, before their first cell. The runner opens the gate once every product's load has
    ended (a kernel's engine then never competes with a load for the memory limit), naming the
    products whose load failed: their kernels end without running a cell."""

    opened: threading.Event = dataclasses.field(default_factory=threading.Event)
    failed: set[str] = dataclasses.field(default_factory=set)
    #: the run's time-left estimate, made once the loads have ended
    eta: Eta | None = None
    #: perf_counter when the gate opened (a waiting notebook's time starts then)
    at: float | None = None

    def open(self, failed: Iterable[str] = (), eta: Eta | None = None) -> None:
        self.failed |= set(failed)
        self.eta = eta
        self.at = time.perf_counter()
        self.opened.set()

    def wait(self, product: str) -> bool:
        """Wait until the gate opens; False when ``product``'s load failed."""
        self.opened.wait()
        return product not in self.failed


def _execute(nb_path: Path, out_nb: Path, params_path: Path, export_dir: Path, cache_dir: Path,
             kernel_manager: type | None = None,
             on_start: Callable[[], bool] | None = None) -> tuple[str, str]:
    """Run one notebook; return (status, message). The executed notebook is written either way.
    ``on_start`` is called once the kernel has started, before the first cell; it may block, and
    when it returns False no cell runs and :class:`_NotRun` is raised."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    extra: dict = {"kernel_manager_class": kernel_manager} if kernel_manager is not None else {}
    extra["extra_arguments"] = [f"--IPKernelApp.exec_lines={WARM_IMPORTS}"]
    unrun = False
    if on_start is not None:
        def hook(notebook: nbformat.NotebookNode) -> None:
            nonlocal unrun
            if not on_start():
                # an exception here would leave the kernel running (nbclient calls this hook
                # outside its cleanup); with no cells it runs nothing and is shut down as usual
                unrun = True
                notebook.cells.clear()

        extra["on_notebook_start"] = hook
    try:
        pm.execute_notebook(
            str(nb_path), str(out_nb),
            parameters={"params_path": str(params_path), "export_dir": str(export_dir), "cache_dir": str(cache_dir)},
            kernel_name="python3", progress_bar=False, log_output=False, **extra,
        )
        if unrun:
            raise _NotRun(str(nb_path))
        return "ok", ""
    except PapermillExecutionError as e:
        status = "error" if e.ename in _INPUT_ERRORS else "failed"
        return status, f"{e.ename}: {e.evalue}".strip()
    except _NotRun:
        raise
    except Exception as e:  # a dead kernel, a timeout, a broken notebook file
        return "failed", f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"


@dataclasses.dataclass(frozen=True)
class _Task:
    """One (product, notebook) pair of a run."""

    params: Params
    params_path: Path
    notebook: str
    out: Path
    run_id: str
    nb_dir: Path
    cache_dir: Path
    log: RunLog
    socket_dir: Path
    private_dirs: tuple[str, ...] = ()
    #: persistent Spark catalogs the product opens (:func:`_catalog_turn`)
    catalogs: tuple[str, ...] = ()
    #: the kernel's engine memory limit: the run's limit shared among the kernels that run at
    #: once, so two kernels of ``--jobs 2`` together stay within it
    memory_limit: str | None = None


#: one lock per persistent Spark catalog folder (see :func:`_catalog_turn`)
_CATALOG_LOCKS: dict[str, threading.Lock] = {}
_CATALOG_GUARD = threading.Lock()


def _catalog_jvms(folders: Iterable[str]) -> list[int]:
    """Processes (Spark's JVMs) that hold one of these catalogs' Derby metastores open."""
    import psutil

    flags = {f"{DERBY_HOME_FLAG}{f}" for f in folders}
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if flags.intersection(proc.info["cmdline"] or ()):
                found.append(proc.pid)
        except (psutil.Error, TypeError):
            continue
    return found


@contextlib.contextmanager
def _catalog_turn(folders: Sequence[str], *, timeout: float = 120.0) -> Iterator[None]:
    """Hold the catalogs for one kernel. An embedded Derby metastore admits one process at a
    time, so the kernels of products on a persistent Spark catalog run one after another; a
    kernel's JVM outlives the kernel by a moment, so the next one waits until it has gone."""
    if not folders:
        yield
        return
    with _CATALOG_GUARD:
        locks = [_CATALOG_LOCKS.setdefault(f, threading.Lock()) for f in sorted(folders)]
    with contextlib.ExitStack() as held:
        for lk in locks:
            held.enter_context(lk)
        deadline = time.monotonic() + timeout
        while _catalog_jvms(folders) and time.monotonic() < deadline:
            time.sleep(0.2)
        yield


def _load_stats_child(params_path: str, cache_dir: str) -> LoadStats | None:
    return load_events(load_params(params_path), cache_dir=cache_dir).load_stats


def _check_in_child(params_path: Path, cache_dir: Path, folders: Sequence[str]) -> LoadStats | None:
    """The runner's check of a product on a persistent Spark catalog, in a child process: the
    child's JVM, and with it the metastore, is gone before the first kernel needs it."""
    import multiprocessing

    with _catalog_turn(folders), cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
        return ex.submit(_load_stats_child, str(params_path), str(cache_dir)).result()


INTERRUPTED = "interrupted before it finished (Ctrl-C or SIGTERM); the last good report is unchanged"


def _eta(tasks: Sequence[_Task], out_dir: Path, jobs: int) -> Eta:
    """The run's time-left estimate, from each product's last run (read before this run
    rewrites its status.json)."""
    past: dict[tuple[str, str], float] = {}
    for product in {t.params.product for t in tasks}:
        past |= {(product, nb): s for nb, s in last_seconds(out_dir / product).items()}
    return Eta([(t.params.product, t.notebook) for t in tasks], past=past, jobs=_lanes(tasks, jobs))


def _lanes(tasks: Sequence[_Task], jobs: int) -> int:
    """How many of ``tasks`` run at once: ``jobs``, or fewer tasks; one when every task is on a
    persistent Spark catalog (their kernels take turns, :func:`_catalog_turn`)."""
    lanes = 1 if tasks and all(t.catalogs for t in tasks) else max(1, int(jobs))
    return min(lanes, len(tasks)) or 1


def _one(task: _Task, lock: threading.Lock, stop: threading.Event | None = None,
         eta: Eta | None = None, gate: _Gate | None = None) -> publish.NotebookStatus | None:
    """Execute, render and (when good) publish one notebook; never raises: every failure,
    including a disk that refuses writes, becomes this notebook's status.

    With ``gate`` the kernel starts at once, while the runner still loads the logs, and waits
    at the gate before its first cell; the notebook's time starts when the gate opens, and the
    run's estimate is the gate's. None when the product's load failed or the run stopped before
    the gate opened: nothing ran, and the runner reports the product's notebooks itself."""
    params, notebook, run_id = task.params, task.notebook, task.run_id
    key = (params.product, notebook)
    t0 = time.perf_counter()
    with task.log.context(params.product, notebook):
        try:
            with _catalog_turn(task.catalogs):
                t0 = time.perf_counter()  # a notebook's time starts when its turn does
                if gate is None and eta is not None:
                    eta.started(key)
                st = _one_inner(task, lock, stop, t0, gate)
            if st is None:
                return None
        except OSError as e:
            msg = f"cannot write the report: {e.strerror or e}{f' ({e.filename})' if e.filename else ''}; the last good report is unchanged"
            st = None
        except Exception as e:  # a bug in the runner must not take the other notebooks down
            task.log.write(params.product, notebook, "ERROR", "runner", _traceback(e))
            msg = f"{type(e).__name__}: {e}"
            st = None
        if gate is not None:
            eta = gate.eta
        if st is None:
            st = publish.NotebookStatus(product=params.product, title=params.display_title, notebook=notebook,
                                        status="failed", seconds=round(time.perf_counter() - t0, 2), run_id=run_id,
                                        message=msg)
        task.log.write(params.product, notebook, "INFO" if st.status == "ok" else "ERROR", "runner",
                       f"{st.status} in {st.seconds:.1f} s" + (f": {st.message}" if st.message else ""))
        if eta is not None:
            eta.finished(key)
        return st


def _traceback(e: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(type(e), e, e.__traceback__))


def _log_outputs(log: RunLog, product: str, notebook: str, nb: nbformat.NotebookNode) -> None:
    """Cells' stderr and full tracebacks, into the run log (the page shows neither)."""
    for i, cell in enumerate(nb.cells, start=1):
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream" and out.get("name") == "stderr":
                text = out.get("text", "")
                log.write(product, notebook, "STDERR", f"cell {i}", "".join(text) if isinstance(text, list) else text)
            elif kind == "error":
                log.write(product, notebook, "ERROR", f"cell {i}",
                          "\n".join(out.get("traceback") or [f"{out.get('ename')}: {out.get('evalue')}"]))


def _log_kernel_output(log: RunLog, product: str, notebook: str, path: Path) -> None:
    """What the kernel process printed outside any cell, into the run log."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        path.unlink()
    except OSError:
        return
    log.write(product, notebook, "OUTPUT", "kernel", text)


def _one_inner(task: _Task, lock: threading.Lock, stop: threading.Event | None, t0: float,
               gate: _Gate | None = None) -> publish.NotebookStatus | None:
    params, notebook, run_id = task.params, task.notebook, task.run_id
    product_dir = task.out / params.product
    run_dir = product_dir / "archive" / run_id
    export_tmp = run_dir / "data" / f".{notebook}"
    export_tmp.mkdir(parents=True, exist_ok=True)
    out_nb = run_dir / f"{notebook}.ipynb"
    kernel_out = task.socket_dir / f"{params.product}.{notebook}.out"
    task.log.write(params.product, notebook, "INFO", "runner", "started" if gate is None else "kernel starting during the load")
    on_start = None
    if gate is not None:
        def on_start() -> bool:
            nonlocal t0
            if not gate.wait(params.product) or (stop is not None and stop.is_set()):
                return False
            t0 = gate.at or time.perf_counter()
            if gate.eta is not None:
                gate.eta.started((params.product, notebook))
            task.log.write(params.product, notebook, "INFO", "runner", "started (the load has ended; its kernel started during it)")
            return True
    try:
        status, message = _execute(task.nb_dir / f"{notebook}.ipynb", out_nb, task.params_path, export_tmp,
                                   task.cache_dir,
                                   _kernel_manager(task.socket_dir, kernel_out, out_nb.parent, task.memory_limit),
                                   on_start)
    except _NotRun:
        _discard_unrun(run_dir, notebook)
        return None
    finally:
        _log_kernel_output(task.log, params.product, notebook, kernel_out)
    if stop is not None and stop.is_set():
        status, message = "failed", INTERRUPTED
    exports = sorted(p.name for p in export_tmp.glob("*.csv"))
    for name in exports:
        if name[:-len(".csv")] in SHARED_EXPORTS:  # other notebooks of the run add their rows to it
            with lock:
                merge_rows(export_tmp / name, run_dir / "data" / name, notebook,
                           owner=SHARED_EXPORTS[name[:-len(".csv")]], order=[s.name for s in REPORTS])
        else:
            os.replace(export_tmp / name, run_dir / "data" / name)
    shutil.rmtree(export_tmp, ignore_errors=True)
    with i18n.using(params.language):
        title = i18n.t("report.header.title", report=_title(notebook), product=params.display_title)
    compute = render = None
    try:
        nb = nbformat.read(out_nb, as_version=4) if out_nb.exists() else nbformat.v4.new_notebook()
        _log_outputs(task.log, params.product, notebook, nb)
        compute = compute_seconds(nb)
        banner = None
        if status != "ok":
            latest = product_dir / f"{notebook}.html"
            with i18n.using(params.language):
                banner = failure_banner(message, last_good=f"../../{notebook}.html" if latest.exists() else None)
        r0 = time.perf_counter()
        html = render_html(nb, title=title, banner=banner, private_dirs=task.private_dirs, language=params.language)
        render = round(time.perf_counter() - r0, 3)
        publish.atomic_write_text(run_dir / f"{notebook}.html", html)
    except Exception as e:  # rendering must not lose the run's status
        status, message = "failed", message or f"rendering failed: {type(e).__name__}: {e}"
    st = publish.NotebookStatus(product=params.product, title=params.display_title, notebook=notebook,
                                status=status, seconds=round(time.perf_counter() - t0, 2), run_id=run_id,
                                message=message, exports=exports, compute_seconds=compute,
                                render_seconds=render)
    if status == "ok" and not (stop is not None and stop.is_set()):
        with lock:
            publish.publish_notebook(product_dir, run_dir, notebook, exports)
        st.published = True
    return st


def _discard_unrun(run_dir: Path, notebook: str) -> None:
    """Remove what a kernel that never ran a cell left in the run's folder (its notebook copy,
    its export folder), and the folders themselves once empty: a product whose load failed
    leaves no archive entry, as when no kernel had started."""
    with contextlib.suppress(OSError):
        (run_dir / f"{notebook}.ipynb").unlink()
    shutil.rmtree(run_dir / "data" / f".{notebook}", ignore_errors=True)
    for folder in (run_dir / "data", run_dir, run_dir.parent):
        try:
            folder.rmdir()  # only when empty: another notebook of the run may still use it
        except OSError:
            break


def _kill_kernels() -> None:
    """End the kernels this process started (they run in their own sessions, so Ctrl-C and
    SIGTERM do not reach them); their notebooks then fail fast instead of running to the end."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        return
    kids = [p for p in psutil.Process().children(recursive=True)
            if "ipykernel" in " ".join(_cmdline(p))]
    for p in kids:
        with contextlib.suppress(Exception):
            p.terminate()
    _, alive = psutil.wait_procs(kids, timeout=3)
    for p in alive:
        with contextlib.suppress(Exception):
            p.kill()


def _cmdline(p) -> list[str]:
    try:
        return p.cmdline()
    except Exception:
        return []


def _clean_stale(out: Path) -> None:
    """Remove what a killed earlier run left (temporary copies, its activity cache); only ever
    called under the run lock, so no live run owns these files."""
    for pattern in (".cache-*", ".write-test-*", SPILL_FOLDER, "*/.*.tmp", "*/data/.*.tmp"):
        for p in out.glob(pattern):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()


#: the run's spill folder in the output folder (:func:`_spill_folder`)
SPILL_FOLDER = ".spill"


@contextlib.contextmanager
def _spill_folder(out: Path) -> Iterator[None]:
    """The engines of the run (its load and every kernel) spill into ``out/.spill``, each into a
    folder of its own there (:func:`retention_kit.data.engine.spill_folder`), unless
    ``RETENTION_KIT_SPILL_DIR`` names another: the output folder is on a disk with room, while
    the system's temporary folder may be memory (tmpfs), which would defeat the memory limit.
    Removed when the run ends; a killed run's is removed by the next (:func:`_clean_stale`)."""
    if os.environ.get(SPILL_DIR_ENV):
        yield
        return
    folder = out / SPILL_FOLDER
    os.environ[SPILL_DIR_ENV] = str(folder)  # kernels inherit the runner's environment
    try:
        yield
    finally:
        os.environ.pop(SPILL_DIR_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


def _check_output(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink(missing_ok=True)  # a concurrent run may clean it up first
    except OSError as e:
        raise OutputError(f"cannot write to the output folder {out}: {e.strerror or e}; choose another "
                          "folder with --out or fix its permissions") from None


@contextlib.contextmanager
def _signal(sig: int, handler, old) -> Iterator[None]:
    """Install a signal handler for the block (main thread only; ``old`` None means skip)."""
    if old is None:
        yield
        return
    signal.signal(sig, handler)
    try:
        yield
    finally:
        signal.signal(sig, old)


def _activity_cache(out_dir: Path, cache_dir: str | os.PathLike[str] | None) -> Path:
    """The folder of the products' activity caches (:mod:`retention_kit.data.cache`), passed to
    every kernel of the run: the raw log is scanned once per product per run, and a later run
    scans only files that are new or changed. It outlives the run (that is its point); each
    product's folder is trusted only for the data params that built it."""
    return Path(cache_dir).resolve() if cache_dir is not None else out_dir / ".cache"


def _make_cache(path: Path) -> None:
    """Create the cache folder once a product is about to use it (a run of bad params leaves none)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the activity cache folder {path}: {e.strerror or e}; choose another "
                          "folder with --cache-dir or fix its permissions") from None


def _private_dirs(params: Params) -> tuple[str, ...]:
    """Folders of a product whose paths must not reach its pages: the params file's and its
    sources' (an error may name a source file)."""
    dirs = {params.base_dir}
    sources = [params.data.source, getattr(params.data.users, "source", None) if params.data.users else None]
    for src in sources:
        path = src if isinstance(src, str) else getattr(src, "path", None)
        if isinstance(path, str) and "://" not in path:
            p = Path(params.resolve(path))
            while any(ch in p.name for ch in "*?[") and p != p.parent:  # a glob: its fixed part
                p = p.parent
            dirs.add(str(p.parent))
    return tuple(sorted(dirs))


@contextlib.contextmanager
def _socket_dir() -> Iterator[Path]:
    """A private, short-named folder for the run's kernel sockets and kernel output files (a
    Unix socket path must stay under about 100 characters, so not inside ``--out``)."""
    path = Path(tempfile.mkdtemp(prefix="rk-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _load_line(s: LoadStats) -> str:
    return (f"{s.seconds:.1f} s, {s.rows_scanned:,} rows from {s.files_scanned:,} file(s) scanned, "
            f"cache {s.cache}")


def _progress_line(done: int, total: int, st: publish.NotebookStatus, left: float | None = None) -> str:
    line = f"[{done}/{total}] {st.product}/{st.notebook} {st.status} {st.seconds:.1f} s"
    return line + (f"; about {duration(left)} left" if left is not None and done < total else "")


def run(params_paths: Sequence[str | os.PathLike[str]], *, out: str | os.PathLike[str] = "reports",
        notebooks: Iterable[str] | None = None, jobs: int = 1, progress: bool | None = None,
        notebook_dir: str | os.PathLike[str] | None = None, check_data: bool = True,
        echo_log: bool = False, cache_dir: str | os.PathLike[str] | None = None) -> RunResult:
    """Execute and render notebooks for each product, publish the good ones, rebuild the index.

    Parameters
    ----------
    params_paths
        One YAML file per product.
    out
        Output folder (see :mod:`retention_kit.publish` for its layout).
    notebooks
        Names to run (default: every notebook in ``notebook_dir``).
    jobs
        Notebooks executed at once (each in its own kernel), across and within products.
    progress
        Print one line per finished notebook on stderr (``[2/5] demo/stickiness ok 3.1 s``);
        ``None`` (the default) means yes.
    check_data
        Load each product's event log once before starting kernels, so bad data fails fast with
        exit code 2 instead of failing every notebook. This load builds (or refreshes) the
        activity cache, and what it cost is status.json's ``load`` (None without it).
    echo_log
        Print the run log's lines on stderr as well (``--debug``).
    cache_dir
        The activity cache's folder (default ``<out>/.cache``); several output folders may share
        one (its lock keeps concurrent runs safe).

    Raises
    ------
    OutputError
        When the output folder cannot be written or another run holds its lock.
    """
    out_dir = Path(out).resolve()
    nb_dir = Path(notebook_dir).resolve() if notebook_dir else NOTEBOOK_DIR
    names = available_notebooks(nb_dir)
    if not names:
        # never report success for a run that ran nothing
        raise InstallError(f"no report notebook found in {nb_dir}; the installation is incomplete "
                           "(reinstall retention-kit) or the notebook folder is wrong")
    wanted = list(notebooks) if notebooks else names
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise ParamsError(f"unknown notebook(s) {', '.join(unknown)}; available: {', '.join(names)}")
    _check_output(out_dir)
    show = progress is None or progress
    input_errors: list[str] = []
    main_thread = threading.current_thread() is threading.main_thread()
    old_term = signal.getsignal(signal.SIGTERM) if main_thread else None
    # SIGINT too: a process started in the background by a shell without job control inherits
    # SIGINT as ignored, and Python then never turns Ctrl-C into KeyboardInterrupt
    old_int = signal.getsignal(signal.SIGINT) if main_thread else None

    def _term(signum, frame):  # SIGTERM and SIGINT end the run: published files stay whole
        raise KeyboardInterrupt

    loads: dict[str, LoadStats] = {}
    with publish.RunLock(out_dir), _socket_dir() as socket_dir, \
            RunLog(out_dir, echo=echo_log) as log, _signal(signal.SIGTERM, _term, old_term), \
            _signal(signal.SIGINT, _term, old_int), _spill_folder(out_dir):
        _clean_stale(out_dir)  # a killed run's spill folder too: none of this run's engines has spilled yet
        cache = _activity_cache(out_dir, cache_dir)
        products: list[tuple[Params, Path, tuple[str, ...], list[_Task]]] = []
        for p in params_paths:
            path = Path(p).resolve()
            try:
                params = load_params(path)
            except ParamsError as e:
                input_errors.append(str(e))
                continue
            run_id = _run_id(out_dir / params.product)
            log.open_product(params.product, run_id, notebooks=len(wanted))
            _make_cache(cache)
            log.write(params.product, None, "INFO", "runner", f"params {path}")
            private = (*_private_dirs(params), str(out_dir))
            catalogs = tuple(sorted(catalog_folders(params)))
            products.append((params, path, catalogs, [_Task(params, path, n, out_dir, run_id, nb_dir, cache, log,
                                                            socket_dir, private, catalogs) for n in wanted]))
        every = [t for *_, ts in products for t in ts]
        # the run's memory limit, shared by the kernels that run at once
        share = memory_share(DEFAULT_MEMORY_LIMIT, _lanes(every, jobs), reserve_mb=KERNEL_RESERVE_MB)
        every = [dataclasses.replace(t, memory_limit=share) for t in every]
        statuses: list[publish.NotebookStatus] = []
        lock = threading.Lock()
        stop = threading.Event()
        gate = _Gate()
        futures: dict[cf.Future, _Task] = {}
        collected: set[cf.Future] = set()
        unrun: set[cf.Future] = set()  # kernels of a product whose load failed: nothing ran
        pool = cf.ThreadPoolExecutor(max_workers=max(1, int(jobs)))
        try:
            try:
                # the first kernels start (and import the kit) while the logs load; a catalog
                # product's kernels wait for the catalog, so they start after the load as before
                early = [t for t in every if not t.catalogs][:max(1, int(jobs))] if check_data else []
                futures = {pool.submit(_one, t, lock, stop, None, gate): t for t in early}
                failed: set[str] = set()
                for params, path, catalogs, ptasks in products if check_data else []:
                    with log.context(params.product):
                        try:
                            if catalogs:
                                stats = _check_in_child(path, cache, catalogs)
                            else:
                                stats = load_events(params, cache_dir=cache,
                                                    progress=load_progress(show, params.product)).load_stats
                            if stats is not None:
                                loads[params.product] = stats
                                log.write(params.product, None, "INFO", "runner", f"load {_load_line(stats)}")
                        except RetentionKitError as e:
                            log.write(params.product, None, "ERROR", "runner", f"{type(e).__name__}: {e}")
                            input_errors.append(f"{params.product}: {e}")
                            failed.add(params.product)
                            statuses += [publish.NotebookStatus(params.product, params.display_title, t.notebook,
                                                                "error", 0.0, t.run_id, str(e)) for t in ptasks]
                tasks = [t for t in every if t.params.product not in failed]
                eta = _eta(tasks, out_dir, jobs)
                gate.open(failed, eta)
                expected = eta.left()
                if show and len(tasks) > 1 and expected is not None:
                    print(f"{len(tasks)} reports to run, {eta.lanes} at a time: about {duration(expected)} by the "
                          "last run's times", file=sys.stderr, flush=True)
                unrun |= {fut for fut, t in futures.items() if t.params.product in failed}
                started = {id(t) for t in futures.values()}
                futures |= {pool.submit(_one, t, lock, stop, eta): t for t in tasks if id(t) not in started}
                for fut in cf.as_completed(futures):
                    st = fut.result()
                    collected.add(fut)
                    if st is None or fut in unrun:
                        continue
                    statuses.append(st)
                    if show:
                        print(_progress_line(sum(f not in unrun for f in collected), len(tasks), st, eta.left()),
                              file=sys.stderr, flush=True)
            except BaseException:
                # stop quickly: nothing new starts, running kernels end, nothing more is published
                stop.set()
                gate.open({t.params.product for t in every})
                pool.shutdown(wait=False, cancel_futures=True)
                _kill_kernels()
                cf.wait([f for f in futures if not f.cancelled()], timeout=60)
                raise
            finally:
                pool.shutdown(wait=False)
        finally:
            for fut, t in futures.items():
                if fut in collected or fut in unrun:
                    continue
                done = fut.done() and not fut.cancelled() and fut.exception() is None
                if done and fut.result() is not None:
                    statuses.append(fut.result())
                else:
                    statuses.append(publish.NotebookStatus(t.params.product, t.params.display_title, t.notebook,
                                                           "failed", 0.0, t.run_id, INTERRUPTED))
            by_product: dict[str, list[publish.NotebookStatus]] = {}
            for s in statuses:
                by_product.setdefault(s.product, []).append(s)
            for product, sts in by_product.items():
                publish.write_status(out_dir / product, sts, load=loads.get(product))
                ok = sum(s.status == "ok" for s in sts)
                log.write(product, None, "INFO", "runner", f"=== end: {ok} of {len(sts)} notebook(s) ok")
            # the index speaks the run's report language when its products share one
            languages = {t.params.language for t in every}
            index = publish.write_index(out_dir, private_dirs=sorted({d for t in every for d in t.private_dirs}),
                                        language=languages.pop() if len(languages) == 1 else "en")
    return RunResult(statuses=statuses, index=index, input_errors=input_errors,
                     logs={p: log.path(p) for p in by_product}, loads=loads)
