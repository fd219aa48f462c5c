"""What a run tells the person watching it, on stderr: the scan of a long load (with the time
left at the rate so far), each notebook as it ends, and how long the rest should take.

The estimate for notebooks comes from the product's last run: its ``status.json`` keeps each
notebook's seconds, so a scheduled run (the same notebooks every week on a log grown by a week)
knows what to expect. When a notebook still to finish has no past time (a first run, a new
notebook), no estimate is printed rather than a guess. The time left is the work left (notebooks
not started, plus what the running ones are expected still to need, never below zero) shared
among the kernels that run at once.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

__all__ = ["Eta", "last_seconds", "duration", "load_progress"]


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 5 s``, ``1 h 2 min``: a time left, for a person."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


def last_seconds(product_dir: Path) -> dict[str, float]:
    """Each notebook's seconds in the product's last run that finished it ``ok`` (its
    ``status.json``); empty when there is none or it cannot be read."""
    try:
        doc = json.loads((product_dir / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, float] = {}
    for name, st in (doc.get("notebooks") or {}).items():
        if isinstance(st, dict) and st.get("status") == "ok" and isinstance(st.get("seconds"), (int, float)):
            out[name] = float(st["seconds"])
    return out


class Eta:
    """The time left in a run of ``keys`` (``(product, notebook)`` pairs), ``jobs`` at a time
    (1 when every notebook reads a persistent Spark catalog: those run one after another).

    ``past`` holds the last run's seconds per key. Call :meth:`started` and :meth:`finished` as
    kernels start and end; :meth:`left` is the estimate in seconds (None when a notebook still to
    finish has no past time, or when every notebook has finished).

    Examples
    --------
    >>> eta = Eta([("p", "a"), ("p", "b")], past={("p", "a"): 10.0, ("p", "b"): 30.0}, jobs=1,
    ...           clock=lambda: 0.0)
    >>> eta.left()
    40.0
    >>> eta.started(("p", "a")); eta.finished(("p", "a")); eta.left()
    30.0
    """

    def __init__(self, keys: Iterable[tuple[str, str]], *, past: dict[tuple[str, str], float], jobs: int,
                 clock: Callable[[], float] = time.monotonic):
        self.keys = list(keys)
        self.past = dict(past)
        self.jobs = max(1, int(jobs))
        self.clock = clock
        self.running: dict[tuple[str, str], float] = {}
        self.done: set[tuple[str, str]] = set()
        self._mutex = threading.Lock()

    @property
    def lanes(self) -> int:
        """Kernels that run at once at the start: ``jobs``, or fewer notebooks."""
        return min(self.jobs, len(self.keys)) or 1

    def started(self, key: tuple[str, str]) -> None:
        with self._mutex:
            self.running[key] = self.clock()

    def finished(self, key: tuple[str, str]) -> None:
        with self._mutex:
            self.running.pop(key, None)
            self.done.add(key)

    def left(self) -> float | None:
        with self._mutex:
            now = self.clock()
            work = 0.0
            waiting = [k for k in self.keys if k not in self.done and k not in self.running]
            if not waiting and not self.running:
                # every kernel has ended; lines still to print are for notebooks already done
                return None
            for k in [*waiting, *self.running]:
                e = self.past.get(k)
                if e is None:
                    return None
                work += max(e - (now - self.running[k]), 0.0) if k in self.running else e
            lanes = min(self.jobs, len(waiting) + len(self.running)) or 1
            return work / lanes


def load_progress(show: bool, product: str, *, stream: TextIO | None = None) -> Callable[[dict[str, Any]], None]:
    """One line per scanned piece of a long load (a load of one piece says nothing), with the
    time left at the rate so far."""
    t0 = time.perf_counter()

    def report(ev: dict[str, Any]) -> None:
        if not show or ev.get("stage") != "scan" or ev.get("pieces", 0) < 2 or ev["piece"] > ev["pieces"]:
            return
        if ev["rows_done"] >= ev["rows_total"]:
            return
        done, total = ev["rows_done"], max(ev["rows_total"], 1)
        spent = time.perf_counter() - t0
        eta = f", about {duration(spent / done * (total - done))} left" if done else ""
        print(f"{product}: scanning part {ev['piece']} of {ev['pieces']} ({done / total:.0%} of about "
              f"{total:,} rows{eta})", file=stream or sys.stderr, flush=True)

    return report
