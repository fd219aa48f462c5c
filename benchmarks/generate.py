"""Large demo logs for benchmarks: the demo generator run in chunks of users, written as
Parquet parts into ``benchmarks/data/`` (git-ignored), reused while the files exist."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from retention_kit.data.datasets import make_demo_log

DATA = Path(__file__).resolve().parent / "data"
EVENTS_PER_USER = 43.4  # measured on 40k-user chunks (1M target: 926,728 events at 46.8)
CHUNK_USERS = 40_000


def parse_size(text: str) -> int:
    """'1M' -> 1_000_000, '250k' -> 250_000."""
    t = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(t[-1], 1)
    return int(float(t[:-1] if t[-1] in "kmg" else t) * mult)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def ensure_log(n_events: int, *, seed: int = 11) -> Path:
    """Folder of Parquet parts holding about ``n_events`` events (generated once)."""
    folder = DATA / f"events_{label(n_events)}"
    meta = folder.with_suffix(".json")
    if meta.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    n_users = max(1, round(n_events / EVENTS_PER_USER))
    t0, written, part = time.perf_counter(), 0, 0
    while written < n_users:
        k = min(CHUNK_USERS, n_users - written)
        df = make_demo_log(k, seed=seed * 100_003 + part)
        # chunks reuse the same id range: prefix the chunk so users stay distinct
        df["user_id"] = f"c{part:04d}-" + df["user_id"]
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), folder / f"part-{part:05d}.parquet",
                       compression="zstd")
        written += k
        part += 1
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("part-*.parquet"))
    meta.write_text(json.dumps({"events": rows, "users": n_users, "seconds": round(time.perf_counter() - t0, 1)}))
    return folder


def log_rows(folder: Path) -> int:
    return json.loads(folder.with_suffix(".json").read_text())["events"]
