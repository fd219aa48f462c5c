"""Benchmark the kit against a plain pandas baseline and the engine's floor, in one process.

    python -m benchmarks.run                      # 1M and 10M, 3 repeats, plus the demo report set
    python -m benchmarks.run --sizes 1M,10M,100M  # the full set (100M takes several minutes)
    python -m benchmarks.run --sizes 10M,100M --in-process-max 10M  # 100M: floor, pandas, end to end only

For each size it times (median over repeats; peak memory is the process's high-water mark during
the stage, reset before each stage through /proc/self/clear_refs):

- floor: one DuckDB pass aggregating the raw Parquet log into (user, day, event, count);
- load: the kit's validated load (quality counts + the cached daily table);
- each notebook's computations (benchmarks/workloads.py), and their total with the load;
- stickiness core: load + the four stickiness tables of the pandas baseline;
- pandas: the same four tables in plain pandas (up to --pandas-max events).

End to end (--e2e), per size, each a fresh ``retention-kit run`` (cold activity cache) of the
demo params pointed at the log, with the peak resident memory of the whole process tree (runner
and kernels, sampled with psutil):

- stickiness: ``--notebooks stickiness`` (load, kernel, compute, render);
- full set: every notebook, ``--jobs`` at once; its status.json gives load, compute and render
  seconds;

and once the demo product's report set. The incremental scenario (--incremental-size) splits a log
into one Parquet file per week, runs the report set on all weeks but the last, adds the last
week's file and runs again (the second run's ``load.rows_scanned`` over the first's), then runs
a cold report set on all weeks and compares every CSV with the incremental run's.

Results are printed and written to benchmarks/RESULTS.md with the machine description, its load
average, and the targets of issue 16 (stickiness end to end / pandas, full set / floor, peak
memory, 100M / 10M, incremental refresh).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import yaml

import retention_kit as rk
from retention_kit.data import engine, params_from_dict

from .generate import ensure_log, label, log_rows, parse_size
from .pandas_baseline import stickiness_tables
from .workloads import NOTEBOOKS, stickiness_core

HERE = Path(__file__).resolve().parent
NOTES_MARK = "<!-- notes: kept when the results are regenerated -->"
REPO = HERE.parent


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_gib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median seconds and the largest peak memory (GiB) over ``repeats`` calls."""
    times, peaks = [], []
    for _ in range(repeats):
        _reset_peak()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        peaks.append(_peak_gib())
    return statistics.median(times), max(peaks)


def _params(folder: Path):
    demo = yaml.safe_load((REPO / "params" / "demo.yaml").read_text())
    demo["data"]["source"] = str(folder)
    demo["data"].pop("users", None)
    demo["key_behaviors"]["segment_attributes"] = []
    demo["product"] = f"bench_{folder.name}"
    return demo


def floor(folder: Path) -> None:
    con = engine.connect()
    t = con.read_parquet(str(folder / "*.parquet"))
    agg = t.group_by([t.user_id, t.timestamp.date().name("day"), t.event]).aggregate(n=t.count()).cache()
    agg.count().execute()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    import duckdb
    import pandas

    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, pandas {pandas.__version__}, "
            f"engine memory limit {engine.DEFAULT_MEMORY_LIMIT}")


class OverCap(RuntimeError):
    """A run's process tree went over its memory cap and was stopped."""


def tree_run(cmd: list[str], *, env: dict[str, str] | None = None, cap_gib: float | None = None) -> tuple[float, float]:
    """Run ``cmd``; its seconds and the peak resident memory (GiB) of its process tree (the
    process and all its children, summed, sampled every 0.2 s). Over ``cap_gib`` the tree is
    killed and :class:`OverCap` raised (a baseline that would exhaust the machine's memory)."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stderr.read()), daemon=True)
    reader.start()
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        total = 0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            procs = []
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        peak = max(peak, total)
        if cap_gib is not None and total > cap_gib * 1024**3:
            for p in reversed(procs):
                try:
                    p.kill()
                except psutil.Error:
                    pass
            proc.wait()
            raise OverCap(f"{' '.join(cmd[:3])}: over {cap_gib:g} GiB after {time.perf_counter() - t0:.0f} s")
        time.sleep(0.2)
    seconds = time.perf_counter() - t0
    reader.join(timeout=10)
    proc.stdout.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {''.join(out)[-2000:]}")
    return seconds, peak / 1024**3


def e2e(params_yaml: Path, out: Path, jobs: int, *extra: str, cache_dir: Path | None = None) -> tuple[float, float]:
    """Seconds and process-tree peak GiB of one ``retention-kit run``."""
    exe = Path(sys.executable).with_name("retention-kit")
    cmd = [str(exe), "run", str(params_yaml), "--out", str(out), "--jobs", str(jobs), "--no-progress", *extra]
    if cache_dir is not None:
        cmd += ["--cache-dir", str(cache_dir)]
    return tree_run(cmd)


def status_of(out: Path) -> dict:
    """The one product's status.json of an output folder."""
    import json

    (path,) = list(out.glob("*/status.json"))
    return json.loads(path.read_text())


def weekly_split(folder: Path, into: Path) -> list[Path]:
    """The log of ``folder`` written as one Parquet file per calendar week (in time order)."""
    import duckdb

    into.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    src = f"read_parquet('{folder}/*.parquet')"
    con.execute(f"create temp table w as select *, date_trunc('week', timestamp)::date as __w from {src}")
    weeks = [r[0] for r in con.execute("select distinct __w from w order by 1").fetchall()]
    files = []
    for wk in weeks:
        f = into / f"week-{wk.isoformat()}.parquet"
        con.execute(f"copy (select * exclude (__w) from w where __w = ?) to '{f}' (format parquet, compression zstd)",
                    [wk])
        files.append(f)
    con.close()
    return files


def incremental(folder: Path, tmp: Path, jobs: int) -> dict:
    """The incremental-refresh scenario (see the module docstring)."""
    from .compare_exports import compare

    weekly = tmp / "weekly"
    files = weekly_split(folder, weekly)
    held = tmp / files[-1].name
    files[-1].rename(held)
    params = _params(weekly)
    params["product"] = "bench_weekly"
    p = tmp / "weekly.yaml"
    p.write_text(yaml.safe_dump(params))
    out = tmp / "inc"
    r: dict = {"weeks": len(files)}
    r["first_s"], r["first_mem"] = e2e(p, out, jobs)
    first = status_of(out)["load"]
    held.rename(files[-1])
    r["second_s"], r["second_mem"] = e2e(p, out, jobs)
    second = status_of(out)["load"]
    r["cold_s"], r["cold_mem"] = e2e(p, tmp / "cold", jobs, cache_dir=tmp / "cold-cache")
    r["first_load"], r["second_load"], r["cold_load"] = first, second, status_of(tmp / "cold")["load"]
    r["diffs"] = compare(tmp / "cold", out)
    r["csvs"] = sum(1 for _ in out.glob("*/data/*.csv"))
    return r


def in_process(r: dict, params, repeats: int) -> None:
    """The in-process stages of one size into ``r``: core, load, each notebook, their total."""
    # the core run first: one engine instance alive at a time keeps the peaks honest
    r["core"], r["core_mem"] = timed(lambda: stickiness_core(rk.load_events(params), params), repeats)
    gc.collect()
    r["load"], r["load_mem"] = timed(lambda: rk.load_events(params), repeats)
    gc.collect()
    log = rk.load_events(params)
    total = r["load"]
    peak = r["load_mem"]
    for name, fn in NOTEBOOKS.items():
        r[name], m = timed(lambda fn=fn: fn(log, params), repeats)
        total += r[name]
        peak = max(peak, m)
    r["kit_total"], r["kit_mem"] = total, peak
    del log
    gc.collect()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1M,10M")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pandas-max", default="10M", help="largest size for the pandas baseline")
    ap.add_argument("--in-process-max", default="100M",
                    help="largest size for the in-process stages (load, each notebook, core); larger sizes get the "
                         "floor, the pandas baseline and the end-to-end runs only")
    ap.add_argument("--pandas-cap-gib", type=float, default=18.0,
                    help="above --in-process-max the pandas baseline runs in its own process, stopped over this "
                         "resident memory")
    ap.add_argument("--e2e", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--demo", action=argparse.BooleanOptionalAction, default=True,
                    help="also time the demo product's report set end to end")
    ap.add_argument("--raw", default=None, help="also write the measured figures as JSON to this file")
    ap.add_argument("--incremental-size", default="10M",
                    help="log size for the incremental-refresh scenario ('none' skips it)")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = ap.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    pandas_max = parse_size(args.pandas_max)
    in_process_max = parse_size(args.in_process_max)
    rows: list[dict] = []
    args.load_before = os.getloadavg()
    for n in sizes:
        folder = ensure_log(n)
        events = log_rows(folder)
        raw = _params(folder)
        params = params_from_dict(raw, base_dir=HERE)
        r: dict = {"size": label(n), "events": events}
        r["floor"], r["floor_mem"] = timed(lambda: floor(folder), args.repeats)
        if events <= in_process_max * 1.05:
            in_process(r, params, args.repeats)
        if events <= pandas_max * 1.05:
            if events <= in_process_max * 1.05:
                r["pandas"], r["pandas_mem"] = timed(lambda: stickiness_tables(folder), args.repeats)
            else:  # a size too large for this process: its own interpreter, stopped at the memory cap
                code = ("import sys; from benchmarks.pandas_baseline import stickiness_tables; "
                        "stickiness_tables(sys.argv[1])")
                try:
                    r["pandas"], r["pandas_mem"] = tree_run([sys.executable, "-c", code, str(folder)],
                                                            cap_gib=args.pandas_cap_gib)
                    r["pandas_note"] = "own process (interpreter start included)"
                except OverCap as e:
                    r["pandas_note"] = f"stopped: {e}"
                    print(r["pandas_note"], flush=True)
        if args.e2e:
            with tempfile.TemporaryDirectory() as tmp:
                p = Path(tmp) / "params.yaml"
                p.write_text(yaml.safe_dump(raw))
                r["e2e_stick"], r["e2e_stick_mem"] = e2e(p, Path(tmp) / "stick", 1, "--notebooks", "stickiness")
                r["e2e_full"], r["e2e_full_mem"] = e2e(p, Path(tmp) / "full", args.jobs)
                st = status_of(Path(tmp) / "full")
                r["e2e_load"] = st["load"]["seconds"]
                nbs = st["notebooks"].values()
                r["e2e_compute"] = sum(v.get("compute_seconds") or 0 for v in nbs)
                r["e2e_render"] = sum(v.get("render_seconds") or 0 for v in nbs)
        rows.append(r)
        print(f"{r['size']}: " + ", ".join(f"{k} {v:.2f}" for k, v in r.items() if isinstance(v, float)), flush=True)
        if args.raw:  # what is measured so far, should a long run be stopped
            import json

            Path(args.raw).write_text(json.dumps({"rows": rows, "load": [args.load_before, os.getloadavg()]},
                                                 indent=1, default=str))
    e2e_rows = []
    inc = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.e2e and args.demo:
            sec, mem = e2e(REPO / "params" / "demo.yaml", Path(tmp) / "demo", args.jobs)
            e2e_rows.append(("demo product, all notebooks", "about 0.25M", sec, mem))
        if args.incremental_size != "none":
            inc = incremental(ensure_log(parse_size(args.incremental_size)), Path(tmp), args.jobs)
            inc["size"] = label(parse_size(args.incremental_size))
            print(f"incremental: {inc}", flush=True)
    args.load_after = os.getloadavg()
    if args.raw:
        import json

        Path(args.raw).write_text(json.dumps({"rows": rows, "e2e": e2e_rows, "incremental": inc,
                                              "load": [args.load_before, args.load_after]}, indent=1, default=str))
    text = report(rows, e2e_rows, args, inc)
    out = Path(args.out)
    # hand-written notes below the marker survive a re-run
    if out.exists() and NOTES_MARK in out.read_text():
        text += "\n" + NOTES_MARK + out.read_text().split(NOTES_MARK, 1)[1]
    out.write_text(text)
    print(text)
    return 0


def _f(v: float | None, fmt: str = "{:.2f}") -> str:
    return "–" if v is None else fmt.format(v)


def report(rows: list[dict], e2e_rows: list[tuple[str, str, float, float]], args: argparse.Namespace,
           inc: dict | None = None) -> str:
    cols = ["floor", "load", *NOTEBOOKS, "kit_total", "core", "pandas"]
    head = "| size | events | " + " | ".join(cols) + " | kit peak GiB | pandas peak GiB | kit/pandas (core) | kit/floor |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cells = [f"{r[c]:.2f}" if c in r else "–" for c in cols]
        ratio_p = f"{r['core'] / r['pandas']:.2f}" if "pandas" in r and "core" in r else "–"
        kit = "kit_total" in r
        lines.append(f"| {r['size']} | {r['events']:,} | " + " | ".join(cells)
                     + f" | {_f(r.get('kit_mem'))} | {_f(r.get('pandas_mem'))} | {ratio_p} | "
                     + f"{_f(r['kit_total'] / r['floor'] if kit else None)} |")
    e_head = ("| size | stickiness end to end | pandas | stickiness / pandas | full set end to end | floor | "
              "full / floor | tree peak GiB (full) | tree peak GiB (stickiness) | load | compute (sum) | render (sum) |")
    e_lines = [e_head, "|" + "---|" * (e_head.count("|") - 1)]
    for r in rows:
        if "e2e_full" not in r:
            continue
        sp = r["e2e_stick"] / r["pandas"] if "pandas" in r else None
        e_lines.append(f"| {r['size']} | {r['e2e_stick']:.1f} | {_f(r.get('pandas'), '{:.1f}')} | {_f(sp)} | "
                       f"{r['e2e_full']:.1f} | {r['floor']:.2f} | {r['e2e_full'] / r['floor']:.1f} | "
                       f"{r['e2e_full_mem']:.2f} | {r['e2e_stick_mem']:.2f} | {r['e2e_load']:.1f} | "
                       f"{r['e2e_compute']:.1f} | {r['e2e_render']:.1f} |")
    notes = [f"- pandas at {r['size']}: {r['pandas_note']}." for r in rows if r.get("pandas_note")]
    if notes:
        e_lines += ["", *notes]
    by = {r["size"]: r for r in rows}
    scale = ""
    if "10M" in by and "100M" in by:
        b, t = by["100M"], by["10M"]
        inproc = (f"{b['kit_total'] / t['kit_total']:.1f}x in process (load and compute)" if "kit_total" in b
                  and "kit_total" in t else "in process not measured")
        scale = (f"\nCost 100M / 10M: {inproc}, "
                 + (f"{b['e2e_full'] / t['e2e_full']:.1f}x end to end (full set)" if "e2e_full" in b and "e2e_full" in t
                    else "end to end not measured") + ".\n")
    e2e_lines = "\n".join(f"| {name} | {ev} | {sec:.1f} | {mem:.2f} |" for name, ev, sec, mem in e2e_rows)
    demo_table = f"\n| run | events | seconds | tree peak GiB |\n|---|---|---|---|\n{e2e_lines}\n" if e2e_rows else ""
    inc_text = _incremental_text(inc)
    targets = _targets(by, e2e_rows, inc)
    lb, la = args.load_before, args.load_after
    return f"""# Benchmark results

Machine: {machine()}.
Load average (1, 5, 15 min) at the start: {lb[0]:.1f}, {lb[1]:.1f}, {lb[2]:.1f}; at the end: {la[0]:.1f}, {la[1]:.1f}, {la[2]:.1f}
(above 2 means other work shared the 2 cores: every figure is slower than on a quiet machine,
and ratios measured in this one run are the figures to compare).
Run: `python -m benchmarks.run --sizes {args.sizes} --repeats {args.repeats} --pandas-max {args.pandas_max} --in-process-max {args.in_process_max}{'' if args.demo else ' --no-demo'} --incremental-size {args.incremental_size}` on {dt.date.today()}, {dt.datetime.now():%H:%M}.
Times are medians over {args.repeats} repeats, in seconds; in-process peaks are the process's
resident-memory high-water mark during the stage. Synthetic logs from the demo generator
(benchmarks/generate.py).

## In process

- floor: one engine pass aggregating the raw log into (user, day, event, count).
- load: the kit's validated load (one scan: the daily table and the quality counts; no cache).
- overview ... lifecycle: each notebook's computations (benchmarks/workloads.py) on the loaded log.
- kit_total: load plus all notebooks' computations.
- core: load plus the four stickiness tables; pandas: the same four tables in plain pandas,
  reading the same Parquet files (benchmarks/pandas_baseline.py).

{chr(10).join(lines)}
{scale}
## End to end (`retention-kit run`, executed and rendered, cold cache)

Stickiness: `--notebooks stickiness` (--jobs 1); full set: every notebook, --jobs {args.jobs}. Tree
peak: the resident memory of the runner and its kernels, summed. Load, compute and render are the
full set's status.json (`load.seconds`, and the notebooks' `compute_seconds` and
`render_seconds` added up: with --jobs {args.jobs} they overlap in time).

{chr(10).join(e_lines)}
{demo_table}{inc_text}
## Targets (issue 16)

| target | measured | verdict |
|---|---|---|
{targets}
"""


def _incremental_text(inc: dict | None) -> str:
    if not inc:
        return ""
    f, s, c = inc["first_load"], inc["second_load"], inc["cold_load"]
    return f"""
## Incremental refresh ({inc['size']} log as {inc['weeks']} weekly Parquet files)

| run | seconds | load seconds | rows scanned | files scanned | cache |
|---|---|---|---|---|---|
| first: all weeks but the last | {inc['first_s']:.1f} | {f['seconds']:.1f} | {f['rows_scanned']:,} | {f['files_scanned']} | {f['cache']} |
| second: after the last week's file arrived | {inc['second_s']:.1f} | {s['seconds']:.1f} | {s['rows_scanned']:,} | {s['files_scanned']} | {s['cache']} |
| cold: all weeks, empty cache | {inc['cold_s']:.1f} | {c['seconds']:.1f} | {c['rows_scanned']:,} | {c['files_scanned']} | {c['cache']} |

Second run's rows scanned / first's: {s['rows_scanned'] / max(f['rows_scanned'], 1):.1%}. CSVs of the
second run compared byte for byte with the cold run's: {inc['csvs']} files, {len(inc['diffs'])} differ{(': ' + ', '.join(inc['diffs'][:10])) if inc['diffs'] else ''}.
"""


def _targets(by: dict[str, dict], e2e_rows: list, inc: dict | None) -> str:
    rows = []

    def add(name: str, value: float | None, limit: float, unit: str = "", fmt: str = "{:.2f}") -> None:
        if value is None:
            rows.append(f"| {name} | not measured | – |")
            return
        verdict = "met" if value <= limit else f"missed by {value / limit:.2f}x"
        rows.append(f"| {name} | {fmt.format(value)}{(' ' + unit) if unit else ''} | {verdict} |")

    for size in ("100M", "10M"):
        r = by.get(size)
        if r is None:
            continue
        if "e2e_stick" in r:
            add(f"{size}: stickiness end to end <= 0.5x pandas", r["e2e_stick"] / r["pandas"] if "pandas" in r else None,
                0.5)
            add(f"{size}: full set end to end <= 5x the floor pass", r["e2e_full"] / r["floor"], 5, "", "{:.1f}")
            add(f"{size}: peak memory of the process tree <= 6 GiB", r["e2e_full_mem"], 6, "GiB")
    big, ten = by.get("100M"), by.get("10M")
    if big and ten and "e2e_full" in big and "e2e_full" in ten:
        add("100M / 10M cost <= 11x (end to end, full set)", big["e2e_full"] / ten["e2e_full"], 11, "", "{:.1f}")
        add("100M / 10M cost <= 11x (in process)",
            big["kit_total"] / ten["kit_total"] if "kit_total" in big and "kit_total" in ten else None, 11, "", "{:.1f}")
    else:
        add("100M / 10M cost <= 11x", None, 11)
    if inc:
        f, s = inc["first_load"], inc["second_load"]
        add("incremental: second run's rows scanned <= 10% of the first's", s["rows_scanned"] / max(f["rows_scanned"], 1),
            0.10, "", "{:.1%}")
        rows.append(f"| incremental: every CSV equals a cold run's | {len(inc['diffs'])} of {inc['csvs']} differ | "
                    f"{'met' if not inc['diffs'] else 'missed'} |")
    rows.append("| stretch: 1B events, whole report set <= 10 minutes | not measured | – |")
    demo = next((sec for name, _, sec, _ in e2e_rows if name.startswith("demo product")), None)
    add("demo report set, executed and rendered <= 30 s", demo, 30, "s", "{:.1f}")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
