"""Benchmark the kit against a plain pandas baseline and the engine's floor, in one process.

    python -m benchmarks.run                      # 1M and 10M, 3 repeats, plus the demo report set
    python -m benchmarks.run --sizes 1M,10M,100M  # the full set (100M takes several minutes)

For each size it times (median over repeats; peak memory is the process's high-water mark during
the stage, reset before each stage through /proc/self/clear_refs):

- floor: one DuckDB pass aggregating the raw Parquet log into (user, day, event, count);
- load: the kit's validated load (quality counts + the cached daily table);
- each notebook's computations (benchmarks/workloads.py), and their total with the load;
- stickiness core: load + the four stickiness tables of the pandas baseline;
- pandas: the same four tables in plain pandas (up to --pandas-max events).

It also times the end-to-end ``retention-kit run`` of the demo params pointed at the largest
file (--e2e) and of the demo product's whole report set. Results are printed and written to
benchmarks/RESULTS.md with the machine description and the ratios kit/pandas, kit/floor and
100M/10M.
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


def e2e(params_yaml: Path, out: Path, jobs: int) -> float:
    exe = Path(sys.executable).with_name("retention-kit")
    t0 = time.perf_counter()
    r = subprocess.run([str(exe), "run", str(params_yaml), "--out", str(out), "--jobs", str(jobs), "--no-progress"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"end-to-end run failed ({r.returncode}): {r.stderr[-2000:]}")
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1M,10M")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pandas-max", default="10M", help="largest size for the pandas baseline")
    ap.add_argument("--e2e", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--e2e-size", default="10M", help="log size for the end-to-end run of the demo params")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = ap.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    pandas_max = parse_size(args.pandas_max)
    rows: list[dict] = []
    for n in sizes:
        folder = ensure_log(n)
        events = log_rows(folder)
        raw = _params(folder)
        params = params_from_dict(raw, base_dir=HERE)
        r: dict = {"size": label(n), "events": events}
        r["floor"], r["floor_mem"] = timed(lambda: floor(folder), args.repeats)
        # the core run first: one engine instance alive at a time keeps the peaks honest
        r["core"], r["core_mem"] = timed(lambda: stickiness_core(rk.load_events(params), params), args.repeats)
        gc.collect()
        r["load"], r["load_mem"] = timed(lambda: rk.load_events(params), args.repeats)
        gc.collect()
        log = rk.load_events(params)
        total = r["load"]
        peak = r["load_mem"]
        for name, fn in NOTEBOOKS.items():
            r[name], m = timed(lambda fn=fn: fn(log, params), args.repeats)
            total += r[name]
            peak = max(peak, m)
        r["kit_total"], r["kit_mem"] = total, peak
        del log
        gc.collect()
        if events <= pandas_max * 1.05:
            r["pandas"], r["pandas_mem"] = timed(lambda: stickiness_tables(folder), args.repeats)
        rows.append(r)
        print(f"{r['size']}: " + ", ".join(f"{k} {v:.2f}" for k, v in r.items() if isinstance(v, float)), flush=True)
    e2e_rows = []
    if args.e2e:
        with tempfile.TemporaryDirectory() as tmp:
            e2e_rows.append(("demo product, all notebooks", "about 0.25M", e2e(REPO / "params" / "demo.yaml", Path(tmp) / "demo", args.jobs)))
            big = ensure_log(parse_size(args.e2e_size))
            p = Path(tmp) / "big.yaml"
            p.write_text(yaml.safe_dump(_params(big)))
            e2e_rows.append((f"demo params on the {label(parse_size(args.e2e_size))} log", f"{log_rows(big):,}",
                             e2e(p, Path(tmp) / "big", args.jobs)))
    text = report(rows, e2e_rows, args)
    out = Path(args.out)
    # hand-written notes below the marker survive a re-run
    if out.exists() and NOTES_MARK in out.read_text():
        text += "\n" + NOTES_MARK + out.read_text().split(NOTES_MARK, 1)[1]
    out.write_text(text)
    print(text)
    return 0


def report(rows: list[dict], e2e_rows: list[tuple[str, str, float]], args: argparse.Namespace) -> str:
    cols = ["floor", "load", *NOTEBOOKS, "kit_total", "core", "pandas"]
    head = "| size | events | " + " | ".join(cols) + " | kit peak GiB | pandas peak GiB | kit/pandas (core) | kit/floor |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cells = [f"{r[c]:.2f}" if c in r else "–" for c in cols]
        ratio_p = f"{r['core'] / r['pandas']:.2f}" if "pandas" in r else "–"
        lines.append(f"| {r['size']} | {r['events']:,} | " + " | ".join(cells)
                     + f" | {r['kit_mem']:.2f} | {r.get('pandas_mem', float('nan')):.2f} | {ratio_p} | {r['kit_total'] / r['floor']:.2f} |")
    by = {r["size"]: r for r in rows}
    scale = ""
    if "10M" in by and "100M" in by:
        scale = f"\nCost 100M / 10M (kit total): {by['100M']['kit_total'] / by['10M']['kit_total']:.1f}x (target <= 12x).\n"
    e2e_lines = "\n".join(f"| {name} | {ev} | {sec:.1f} |" for name, ev, sec in e2e_rows)
    targets = _targets(by, e2e_rows)
    return f"""# Benchmark results

Machine: {machine()}.
Run: `python -m benchmarks.run --sizes {args.sizes} --repeats {args.repeats} --e2e-size {args.e2e_size}` on {dt.date.today()}.
Times are medians over {args.repeats} repeats, in seconds; peaks are the process's resident-memory
high-water mark during the stage. Synthetic logs from the demo generator (benchmarks/generate.py).

- floor: one engine pass aggregating the raw log into (user, day, event, count).
- load: the kit's validated load (quality counts + the cached daily table).
- overview ... lifecycle: each notebook's computations (benchmarks/workloads.py) on the loaded log.
- kit_total: load plus all notebooks' computations.
- core: load plus the four stickiness tables; pandas: the same four tables in plain pandas,
  reading the same Parquet files (benchmarks/pandas_baseline.py).

{chr(10).join(lines)}
{scale}
kit/pandas < 1 means the kit is faster (target at 10M: <= 0.2, i.e. 5x faster); kit/floor is the
total compute over one aggregation pass (target <= 4).

## End to end (`retention-kit run`, executed and rendered, --jobs {args.jobs})

| run | events | seconds |
|---|---|---|
{e2e_lines}

## Targets

| target | measured | verdict |
|---|---|---|
{targets}
"""


def _targets(by: dict[str, dict], e2e_rows: list[tuple[str, str, float]]) -> str:
    rows = []

    def add(name: str, value: float | None, limit: float, unit: str, fmt: str = "{:.1f}") -> None:
        if value is None:
            rows.append(f"| {name} | not measured | – |")
            return
        ok = value <= limit
        verdict = "met" if ok else f"missed by {value / limit:.1f}x"
        rows.append(f"| {name} | {fmt.format(value)} {unit} | {verdict} |")

    big = by.get("100M")
    ten = by.get("10M")
    add("100M events: all notebooks' compute <= 60 s", big and big["kit_total"], 60, "s")
    add("100M events: peak memory <= 6 GiB", big and big["kit_mem"], 6, "GiB", "{:.2f}")
    add("10M events: kit/pandas (stickiness tables) <= 0.2", ten and ("pandas" in ten) and ten["core"] / ten["pandas"] or None, 0.2, "", "{:.2f}")
    largest = big or ten
    add("total compute / floor <= 4", largest and largest["kit_total"] / largest["floor"], 4, "", "{:.1f}")
    add("100M / 10M <= 12", (big and ten) and big["kit_total"] / ten["kit_total"] or None, 12, "", "{:.1f}")
    demo = next((sec for name, _, sec in e2e_rows if name.startswith("demo product")), None)
    add("demo report set, executed and rendered <= 30 s", demo, 30, "s")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
