"""``retention-kit``: run reports, check params and data, run the demo.

Problems the user can fix print one line, ``retention-kit: error: ...``, and exit 2; ``--debug``
(before or after the subcommand) shows the traceback too, and prints the run log's lines as they
are written. A run prints one progress line per notebook and a summary on stderr, and the index
page's path alone on stdout (for scripts); warnings and library output go to the run log.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from ..errors import RetentionKitError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    debug_help = "show full tracebacks and print the run log on the console"
    p = argparse.ArgumentParser(prog="retention-kit", description="Turn event logs into retention reports.")
    p.add_argument("--debug", action="store_true", help=debug_help)
    # the same flag after the subcommand; SUPPRESS keeps an absent one from resetting the first
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", parents=[common], help="execute and render notebooks for one or more products")
    r.add_argument("params", nargs="+", help="params YAML file(s), one per product")
    r.add_argument("--out", default="reports", help="output folder (default: reports)")
    r.add_argument("--notebooks", default=None, help="comma-separated notebook names (default: all)")
    r.add_argument("--jobs", type=int, default=1, help="notebooks run at once (default: 1)")
    r.add_argument("--no-progress", action="store_true", help="no line per finished notebook")
    r.add_argument("--cache-dir", default=None,
                   help="folder of the activity cache that lets the next run scan only new or changed source files "
                        "(default: <out>/.cache)")
    r.add_argument("--timings", action="store_true",
                   help="print what the load and each notebook cost (status.json's load and timings) as a table")
    c = sub.add_parser("check", parents=[common], help="validate params and the data schema without running notebooks")
    c.add_argument("params", nargs="+")
    d = sub.add_parser("demo", parents=[common], help="run the demo product on generated synthetic data")
    d.add_argument("--out", default="reports")
    d.add_argument("--jobs", type=int, default=2)
    d.add_argument("--notebooks", default=None)
    d.add_argument("--no-progress", action="store_true", help="no line per finished notebook")
    return p


def _check(paths: list[str]) -> int:
    from ..analyses.overview import duplicate_rows
    from ..data import load_events, load_params

    for path in paths:
        params = load_params(path)
        log = load_events(params)
        q = log.quality
        dropped = ", ".join(f"{n:,} {why}" for why, n in q.dropped.items()) or "none"
        print(f"{params.product}: ok: {q.rows_kept:,} events, {q.users:,} users, {q.event_types:,} event types, "
              f"{q.first_day} to {q.last_day} ({params.data.timezone}); dropped rows: {dropped}")
        for n in q.notes:
            print(f"{params.product}: note: {n}")
        missing = _undrawable(params, log)
        if missing:
            print(f"{params.product}: note: no installed font draws {missing} (in event names, rung names or the "
                  "title): charts will show boxes for them, with a note saying so; install a CJK font "
                  "(Debian/Ubuntu: apt-get install fonts-noto-cjk; see README, Fonts)")
        dups = duplicate_rows(log)
        if dups.exact:
            print(f"{params.product}: note: {dups.exact:,} rows exactly repeat another row in every column; they "
                  "are kept and counted in the overview's data quality table; deduplicate the source if they are "
                  "export artefacts")
        if dups.same_key:
            print(f"{params.product}: note: {dups.same_key:,} rows share user, time and event with another row but "
                  "differ in other columns; they are valid rows, kept and counted as such")
    return 0


def _undrawable(params, log) -> str:
    """Characters of the names charts will show that no installed font draws (at most 20)."""
    from ..data import fetch
    from ..plots.common import missing_glyphs, use_style

    use_style()
    names = [params.display_title, *(r.name for r in params.ladder.rungs or [])]
    names += [str(e) for e in fetch(log.daily.select("event").distinct())["event"]]
    missing = missing_glyphs(names)
    return " ".join(missing[:20]) + (" ..." if len(missing) > 20 else "")


def _run(params: list[str], args: argparse.Namespace) -> int:
    from .runner import run

    nbs = [n.strip() for n in args.notebooks.split(",") if n.strip()] if args.notebooks else None
    t0 = time.perf_counter()
    result = run(params, out=args.out, notebooks=nbs, jobs=args.jobs, progress=not args.no_progress,
                 echo_log=args.debug, cache_dir=getattr(args, "cache_dir", None))
    for err in result.input_errors:
        print(f"retention-kit: error: {err}", file=sys.stderr)
    for s in result.statuses:
        if s.status != "ok" and s.message and not any(s.message in e for e in result.input_errors):
            print(f"retention-kit: {s.product}/{s.notebook} {s.status}: {s.message}", file=sys.stderr)
    ok = sum(s.status == "ok" for s in result.statuses)
    if result.statuses:
        logs = ", ".join(_shown(p) for p in result.logs.values())
        print(f"{ok} of {len(result.statuses)} reports ok in {time.perf_counter() - t0:.0f} s"
              + (f"; log: {logs}" if logs else ""), file=sys.stderr)
    if getattr(args, "timings", False):
        print(timings_table(result), file=sys.stderr)
    if result.index is not None:
        print(result.index)
    return result.exit_code


def timings_table(result) -> str:
    """status.json's ``load`` and per-notebook timings of a run, as a plain-text table: one
    row per product's load, then one per notebook (seconds, compute and render seconds)."""
    def table(head: list[str], rows: list[list[str]], text: int) -> list[str]:
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

        def line(r: list[str]) -> str:  # the first ``text`` columns left, numbers right
            return "  ".join(c.ljust(w) if i < text else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

        return [line(head), *map(line, rows)]

    def sec(v) -> str:
        return "-" if v is None else f"{v:.2f}"

    loads = [[p, s.cache, sec(s.seconds), f"{s.rows_scanned:,}", f"{s.files_scanned:,}"]
             for p, s in result.loads.items()]
    out = table(["product", "cache", "load s", "rows scanned", "files scanned"], loads, 2) if loads else []
    nbs = [[s.product, s.notebook, s.status, sec(s.seconds), sec(s.compute_seconds), sec(s.render_seconds)]
           for s in result.statuses]
    if nbs:
        out += ([""] if out else []) + table(["product", "notebook", "status", "seconds", "compute s", "render s"], nbs, 3)
    return "\n".join(out)


#: the working folder when the command started: papermill changes the process's folder while it
#: runs notebooks in threads, so the folder after a run is not reliably the user's
_STARTED_IN: Path | None = None


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    try:
        return str(path.relative_to(_STARTED_IN or Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    global _STARTED_IN
    _STARTED_IN = Path.cwd()
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return _check(args.params)
        if args.command == "demo":
            from .report import DEMO_PARAMS

            return _run([str(DEMO_PARAMS)], args)
        return _run(args.params, args)
    except RetentionKitError as e:
        if args.debug:
            traceback.print_exc()
        print(f"retention-kit: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("retention-kit: interrupted; published reports are unchanged", file=sys.stderr)
        return 130
    except OSError as e:  # a disk that is full or read-only, a file that vanished mid-run
        if args.debug:
            traceback.print_exc()
        where = f" ({e.filename})" if e.filename else ""
        print(f"retention-kit: error: {e.strerror or e}{where}; free space or fix permissions there, "
              "then run again (published reports are unchanged)", file=sys.stderr)
        return 2
    except Exception as e:  # a bug, not the user's fault: one line, the traceback on --debug
        if args.debug:
            traceback.print_exc()
        first = str(e).strip().splitlines()[0][:300] if str(e).strip() else ""
        print(f"retention-kit: internal error: {type(e).__name__}: {first} (run again with --debug for the "
              "traceback and report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
