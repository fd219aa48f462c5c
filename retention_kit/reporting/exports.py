"""CSV exports as the contract promises them: no index, ISO dates, full-precision floats,
written aside and moved into place. Which files and columns each report exports is declared in
its family's spec (:mod:`retention_kit.analyses`)."""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

__all__ = ["to_csv", "merge_rows", "REPORT_COLUMN"]

#: The column of a shared export (:data:`retention_kit.analyses.spec.SHARED_EXPORTS`) naming the
#: report that wrote each row.
REPORT_COLUMN = "report"


def to_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` under the export contract: no index, dates ISO (YYYY-MM-DD; with a time
    YYYY-MM-DDTHH:MM:SS), floats with 10 significant digits, written aside then moved into place
    so a reader never sees half a file."""
    path = Path(path)
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            if (col.dropna().dt.normalize() == col.dropna()).all():
                out[c] = col.dt.strftime("%Y-%m-%d")
            else:
                out[c] = col.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif col.dtype == object and col.map(lambda v: isinstance(v, dt.date)).any():
            out[c] = col.map(lambda v: v.isoformat() if isinstance(v, dt.date) else v)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    out.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")
    os.replace(tmp, path)
    return path


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    if not path.exists():
        return [], []
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return (rows[0], rows[1:]) if rows else ([], [])


def merge_rows(src: str | os.PathLike[str], dst: str | os.PathLike[str], report: str, *, owner: str,
               order: Sequence[str] = (), out: str | os.PathLike[str] | None = None) -> Path:
    """A shared export several reports write rows into: ``dst``'s rows of the other reports,
    then ``src``'s rows of ``report`` (its rows only: what the other reports wrote is theirs to
    publish), written to ``out`` (default ``dst``, aside then moved into place). Rows are read
    and written as text, so their values are kept byte for byte; rows are ordered by their
    report's place in ``order`` (the run order), then as written. A file without the report
    column holds ``owner``'s rows (the family that declares the export; files written before
    other reports shared it). ``src`` may be header-only: then ``report`` has no rows left.

    Examples
    --------
    >>> import tempfile; from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "a.csv").write_text("analysis,report\\nretention_week,stickiness\\nladder_x,ladder\\n")
    >>> _ = (d / "b.csv").write_text("analysis,report\\nladder_y,ladder\\n")
    >>> _ = merge_rows(d / "b.csv", d / "a.csv", "ladder", owner="stickiness", order=["stickiness", "ladder"])
    >>> (d / "a.csv").read_text().splitlines()
    ['analysis,report', 'retention_week,stickiness', 'ladder_y,ladder']
    """
    src, dst = Path(src), Path(dst)
    target = Path(out) if out is not None else dst
    sh, srows = _read(src)
    dh, drows = _read(dst)
    header = list(sh) + [c for c in dh if c not in sh]
    if REPORT_COLUMN not in header:
        header.append(REPORT_COLUMN)

    def tagged(h: list[str], rows: list[list[str]]) -> list[dict[str, str]]:
        recs = [dict(zip(h, r)) for r in rows]
        for r in recs:
            r.setdefault(REPORT_COLUMN, owner)
        return recs

    mine = [r for r in tagged(sh, srows) if r[REPORT_COLUMN] == report]
    others = [r for r in tagged(dh, drows) if r[REPORT_COLUMN] != report]
    rank = {n: i for i, n in enumerate(order)}
    merged = sorted([*others, *mine], key=lambda r: rank.get(r[REPORT_COLUMN], len(rank)))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.merge")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows([[r.get(c, "") for c in header] for r in merged])
    os.replace(tmp, target)
    return target
