"""Calibration of the key-behaviour verdicts against shuffled event names (docs/key_behaviors.md,
*The null*).

    python -m benchmarks.calibrate_key_behaviors                       # 20 shuffles of each log
    python -m benchmarks.calibrate_key_behaviors --shuffles 5 --logs demo

Each shuffle permutes the event column across all rows of the raw log (numpy seed 1000 + i):
users, times, each user's active days and number of events stay as they are, so no event name
can carry an effect of its own. The report should then find nothing "beyond activity"; this
prints the number of ``beyond_activity`` verdicts per shuffle, and the unshuffled log's findings
for comparison. The real logs need the shared data folder (``$RETENTION_KIT_SHARED_DATA``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from retention_kit import load_events, load_params
from retention_kit.analyses import key_behaviors as kb
from retention_kit.data.datasets import load_online_retail, load_stackexchange, make_demo_log

REPO = Path(__file__).resolve().parents[1]
LOGS: dict[str, tuple[str, Callable[[], pd.DataFrame]]] = {
    "demo": ("demo.yaml", lambda: make_demo_log(6000, seed=7)),
    "stackexchange": ("stackexchange_martialarts.yaml", load_stackexchange),
    "online_retail": ("online_retail.yaml", load_online_retail),
}


def beyond_activity(params_file: str, frame: pd.DataFrame) -> list[str]:
    """The events the report calls beyond activity on ``frame`` with the product's params."""
    params = load_params(REPO / "params" / params_file)
    k = params.key_behaviors
    table, _ = kb.candidate_stats(load_events(params, source=frame), window_days=k.window_days,
                                  outcome_start=k.outcome_start, outcome_end=k.outcome_end,
                                  max_threshold=k.max_threshold, exclude=k.exclude)
    return table.loc[table["verdict"] == "beyond_activity", "event"].tolist()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shuffles", type=int, default=20)
    ap.add_argument("--logs", default=",".join(LOGS), help=f"comma-separated, of {', '.join(LOGS)}")
    args = ap.parse_args(argv)
    for name in args.logs.split(","):
        params_file, read = LOGS[name]
        frame = read()
        print(f"{name}, unshuffled: beyond activity {beyond_activity(params_file, frame)}", flush=True)
        counts = []
        for i in range(args.shuffles):
            rng = np.random.default_rng(1000 + i)
            shuffled = frame.assign(event=frame["event"].to_numpy()[rng.permutation(len(frame))])
            counts.append(len(beyond_activity(params_file, shuffled)))
        clean = sum(c == 0 for c in counts)
        print(f"{name}, {args.shuffles} shuffles: beyond activity per shuffle {counts}; "
              f"{clean} of {args.shuffles} with none", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
