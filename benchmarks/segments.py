"""What a breakdown costs: each report with a breakdown into N segments against the same report
without one, on a large demo log, in one process (issue 13's target: at most 2x at 10M events).

    python -m benchmarks.segments                          # 10M events, 8 segments
    python -m benchmarks.segments --size 1M --segments 8 --no-e2e

The log is the benchmark log of ``benchmarks.generate`` (``benchmarks/data/events_<size>``); the
segments come from a users table of attributes alone written beside it: ``bucket``, one of N
values, about equally common, drawn from a hash of the user id (so independent of behaviour). The
params are the demo's (params/demo.yaml) pointed at that log, with and without
``breakdown: {by: bucket, top: N}``.

- **compute** (in process, one loaded log): each report's computations as its notebook calls them
  (benchmarks/workloads.py), then what the notebook adds with a breakdown (every by-segment export
  and the page's comparison), after the shared tables exist, as in a kernel. Ratio: (report +
  breakdown) / report.
- **end to end** (``--e2e``): ``retention-kit run`` of all five reports with and without the
  breakdown, each after a warm-up run that fills the activity cache (the weekly scheduled case):
  the wall time and each notebook's compute seconds from status.json; then the stickiness report
  alone (``--notebooks stickiness``) on the same cache.

Results are printed and written to benchmarks/SEGMENTS.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

import retention_kit as rk
from retention_kit.analyses import key_behaviors, ladder, lifecycle
from retention_kit.analyses import segments as sgm
from retention_kit.data import EventLog, Params, params_from_dict

from .generate import ensure_log, label, log_rows, parse_size
from .run import _params, e2e, machine, status_of
from .workloads import NOTEBOOKS

HERE = Path(__file__).resolve().parent


def users_table(folder: Path, n: int) -> Path:
    """A users table (Parquet) of the log in ``folder``: ``user_id``, ``bucket`` (``s0``..)."""
    import duckdb

    path = folder.parent / f"{folder.name}_users_{n}.parquet"
    if not path.exists():
        duckdb.sql(f"copy (select distinct user_id, 's' || cast(hash(user_id) % {int(n)} as varchar) as bucket "
                   f"from read_parquet('{folder}/*.parquet')) to '{path}' (format parquet)")
    return path


def params_pair(folder: Path, n: int) -> tuple[dict, dict]:
    """The benchmark params without and with the breakdown."""
    base = _params(folder)
    base["data"]["users"] = {"source": str(users_table(folder, n)), "user": "user_id", "attributes": ["bucket"]}
    base["product"] = f"seg_{folder.name}"
    split = json.loads(json.dumps(base))
    split["breakdown"] = {"by": "bucket", "top": n}
    return base, split


def _stickiness(log: EventLog, params: Params) -> None:
    sgm.stickiness_breakdown(log, params.stickiness, params.breakdown_for("stickiness"))


def _key_behaviors(log: EventLog, params: Params) -> None:
    b, k = params.breakdown_for("key_behaviors"), params.key_behaviors
    windows = dict(window_days=k.window_days, outcome_start=k.outcome_start, outcome_end=k.outcome_end)
    seg = sgm.segments(log, b)
    sgm.key_behaviors_comparison(log, seg, **windows, min_size=sgm.minimum_size(log, b))
    key_behaviors.behavior_segments(log, power_user_days=k.power_user_days, attributes=k.segment_attributes,
                                    **windows, exclude=k.exclude, by=seg)


def _ladder(log: EventLog, params: Params) -> None:
    b, lad = params.breakdown_for("ladder"), params.ladder
    seg = sgm.segments(log, b)
    ladder.composition(log, ladder=lad, by=seg)
    ladder.transitions(log, ladder=lad, by=seg)
    rungs = [r.name for r in lad.rungs] if lad.rungs else None
    ref = rungs[1] if rungs and len(rungs) > 1 else None
    if ref is not None:
        sgm.ladder_comparison(log, seg, ladder=lad, rung=ref, age=3, min_size=sgm.minimum_size(log, b, lad.min_cohort_size))


def _lifecycle(log: EventLog, params: Params) -> None:
    b, lp = params.breakdown_for("lifecycle"), params.lifecycle
    seg = sgm.segments(log, b)
    thr = lifecycle.thresholds(log, new_days=lp.new_days, silent_days=lp.silent_days, churned_days=lp.churned_days)
    if lifecycle.has_revenue(log):
        for g in ("month", "week"):
            lifecycle.value_by_period(log, granularity=g, by=seg)
    by_seg = lifecycle.snapshots(log, thresholds=thr, by=seg)
    sgm.lifecycle_comparison(by_seg, seg, min_size=sgm.minimum_size(log, b, lp.min_cohort_size))


BREAKDOWNS: dict[str, Callable[[EventLog, Params], None]] = {
    "stickiness": _stickiness, "key_behaviors": _key_behaviors, "ladder": _ladder, "lifecycle": _lifecycle,
}


def _seconds(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def compute(split: dict, repeats: int) -> dict[str, tuple[float, float]]:
    """Per report: (seconds of its tables, seconds of what the breakdown adds), medians."""
    params = params_from_dict(split)
    log = rk.load_events(params)
    out: dict[str, tuple[float, float]] = {}
    for name, base in NOTEBOOKS.items():
        if name not in BREAKDOWNS:
            continue
        base(log, params)  # the shared tables exist in a kernel before its breakdown runs
        b = sorted(_seconds(lambda: base(log, params)) for _ in range(repeats))[repeats // 2]
        extra = []
        for _ in range(repeats):
            fresh = rk.load_events(params)  # a breakdown's own tables (assignment, keyed queries) built again
            base(fresh, params)
            extra.append(_seconds(lambda: BREAKDOWNS[name](fresh, params)))
        out[name] = (b, sorted(extra)[repeats // 2])
    return out


def end_to_end(base: dict, split: dict, tmp: Path, jobs: int) -> dict[str, dict]:
    res: dict[str, dict] = {}
    for name, raw in (("without", base), ("with", split)):
        p = tmp / f"{name}.yaml"
        p.write_text(yaml.safe_dump(raw))
        out, cache = tmp / f"out_{name}", tmp / f"cache_{name}"
        e2e(p, out, jobs, cache_dir=cache)  # fills the activity cache
        seconds, peak = e2e(p, out, jobs, cache_dir=cache)
        st = status_of(out)
        alone, _ = e2e(p, tmp / f"stick_{name}", 1, "--notebooks", "stickiness", cache_dir=cache)
        res[name] = {"seconds": seconds, "peak_gib": peak, "stickiness": alone,
                     "compute": {nb: v.get("compute_seconds") for nb, v in st["notebooks"].items()}}
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="10M")
    ap.add_argument("--segments", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--e2e", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "SEGMENTS.md"))
    args = ap.parse_args(argv)
    folder = ensure_log(parse_size(args.size))
    base, split = params_pair(folder, args.segments)
    t0 = time.time()
    comp = compute(split, args.repeats)
    lines = [f"# What a breakdown costs: {log_rows(folder):,} events, {args.segments} segments", "",
             f"`python -m benchmarks.segments --size {args.size} --segments {args.segments} --repeats {args.repeats}`"
             f"{'' if args.e2e else ' --no-e2e'}", "",
             f"Machine: {machine()}.", "",
             "## Compute (in process, one loaded log; medians)", "",
             "| report | its tables | what the breakdown adds | (tables + breakdown) / tables |", "|---|---|---|---|"]
    for name, (b, x) in comp.items():
        lines.append(f"| {name} | {b:.2f} s | {x:.2f} s | {(b + x) / b:.2f} |")
    tb, tx = sum(b for b, _ in comp.values()), sum(x for _, x in comp.values())
    lines.append(f"| all four | {tb:.2f} s | {tx:.2f} s | {(tb + tx) / tb:.2f} |")
    if args.e2e:
        with tempfile.TemporaryDirectory(prefix="rk-seg-") as tmp:
            res = end_to_end(base, split, Path(tmp), args.jobs)
        w, s = res["without"], res["with"]
        lines += ["", f"## End to end (`retention-kit run`, all reports, `--jobs {args.jobs}`, warm activity cache)", "",
                  "| | without | with the breakdown | ratio |", "|---|---|---|---|",
                  f"| wall time | {w['seconds']:.1f} s | {s['seconds']:.1f} s | {s['seconds'] / w['seconds']:.2f} |",
                  f"| the stickiness report alone (`--notebooks stickiness`) | {w['stickiness']:.1f} s | "
                  f"{s['stickiness']:.1f} s | {s['stickiness'] / w['stickiness']:.2f} |",
                  f"| peak memory, process tree | {w['peak_gib']:.2f} GiB | {s['peak_gib']:.2f} GiB | |"]
        for nb in w["compute"]:
            a, c = w["compute"].get(nb), s["compute"].get(nb)
            if a and c:
                lines.append(f"| {nb}: compute | {a:.1f} s | {c:.1f} s | {c / a:.2f} |")
    lines += ["", f"Measured in {time.time() - t0:.0f} s."]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
