"""The scan: one aggregate query that turns raw rows into the daily table and counts, in the same
pass, every row that a drop rule or ``data.exclude_events`` removes.

Each row gets a **reason**: 0 when it is kept, ``i + 1`` for the first rule of
:data:`~retention_kit.data.rules.DROP_RULES` it fails (the table's order, as the data quality
table counts it), :data:`EXCLUDED` for a row of ``data.exclude_events`` that fails no rule. Rows
are grouped by (``user_id``, ``day``, ``event``, ``active``, ``reason``, ``tn``, ``tu``): kept
rows give the daily table's rows; a removed row keeps only its reason (and, when excluded, its
event name), so removed rows collapse to a few groups whose counts are the quality counts. ``tn``
and ``tu`` mark removed rows whose time is null and whose time does not parse (the checks that
say a whole time column is unusable).

A scan covers one *piece* of the source (a group of its files, :mod:`.cache`) or all of it;
:func:`piece_stats` reads a scanned piece's counts and ranges back in one small query.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from .keys import hash_key
from .params import DataParams
from .rules import DROP_RULES, Row

__all__ = ["EXCLUDED", "scan_rows", "PieceStats", "piece_stats", "valid_rows"]

#: The reason code of an ``exclude_events`` row (drop rules are 1 to len(DROP_RULES)).
EXCLUDED = len(DROP_RULES) + 1


def reason(row: Row, data: DataParams) -> ir.IntegerValue:
    """Each row's reason code (see the module docstring): the first rule it fails wins."""
    branches = [(rule.fails(row), i + 1) for i, rule in enumerate(DROP_RULES)]
    if data.exclude_events:
        branches.append((row.event.isin(data.exclude_events), EXCLUDED))
    return ibis.cases(*branches, else_=0).cast("int8")


def scan_rows(raw: ir.Table, row: Row, user: ir.Value, revenue: ir.Value | None, data: DataParams, *,
              key: bool = False) -> ir.Table:
    """The scan of ``raw``: one row per (user, day, event) of kept rows, plus a few rows of counts
    of removed rows (see the module docstring). Columns: ``user_id``, ``key`` (with ``key``: the
    hashed integer key of a text id, :mod:`.keys`), ``day``, ``event``, ``active``, ``reason``,
    ``tn``, ``tu``, ``n`` (rows) and, with revenue, ``revenue`` (its sum)."""
    code = reason(row, data)
    t = raw.mutate(__rk_reason=code)
    r = t.__rk_reason
    kept = r == 0
    active = row.event.isin(data.active_events) if data.active_events is not None else ibis.literal(True)
    sel: dict[str, Any] = {
        "user_id": ibis.ifelse(kept, user, ibis.null(user.type())),
        "day": ibis.ifelse(kept, row.ts.date(), ibis.null("date")),
        "event": ibis.ifelse(kept | (r == EXCLUDED), row.event, ibis.null("string")),
        "active": ibis.ifelse(kept, active, False),
        "reason": r,
        "tn": ibis.ifelse(kept, False, row.time_raw.isnull()),
        "tu": ibis.ifelse(kept, False, row.ts.isnull()),
    }
    if revenue is not None:
        sel["__rk_revenue"] = revenue
    # the expressions refer to ``raw``'s columns; Ibis resolves them against ``t`` (raw plus the
    # reason), so the reason is computed once per row
    s = t.select(**sel)
    aggs: dict[str, Any] = {"n": s.count()}
    if revenue is not None:
        aggs["revenue"] = s["__rk_revenue"].sum()
    g = s.group_by(["user_id", "day", "event", "active", "reason", "tn", "tu"]).aggregate(**aggs)
    if key:
        g = g.mutate(key=hash_key(g.user_id))
    cols = ["user_id", *(["key"] if key else []), "day", "event", "active", "reason", "tn", "tu", "n"]
    return g.select(*cols, *(["revenue"] if revenue is not None else []))


def valid_rows(piece: ir.Table, *, keyed: bool) -> ir.Table:
    """A scanned piece's kept rows as daily-table rows: ``user_id`` (the key when ``keyed``),
    ``day``, ``event``, ``active``, ``n`` and, with revenue, ``revenue``."""
    p = piece.filter(piece.reason == 0)
    sel: dict[str, Any] = {"user_id": p.key if keyed else p.user_id, "day": p.day, "event": p.event,
                           "active": p.active, "n": p.n.cast("int64")}
    if "revenue" in piece.columns:
        sel["revenue"] = p.revenue.cast("float64")
    return p.select(**sel)


@dataclasses.dataclass(frozen=True)
class PieceStats:
    """What one scanned piece holds, from :func:`piece_stats`: ``rows`` read, ``rules`` (rows
    per drop rule name), ``excluded`` per ``exclude_events`` name, ``time_null`` and
    ``time_unusable`` (rows whose time is null / does not parse, any reason), ``kept`` rows,
    their day range (``first_day``, ``last_day``, ``first_active_day``: None without kept or
    active rows) and user id range (``first_user``, ``last_user``)."""

    rows: int
    rules: dict[str, int]
    excluded: dict[str, int]
    time_null: int
    time_unusable: int
    kept: int
    first_day: dt.date | None
    last_day: dt.date | None
    first_active_day: dt.date | None
    first_user: Any
    last_user: Any

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for k in ("first_day", "last_day", "first_active_day"):
            d[k] = d[k].isoformat() if d[k] is not None else None
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "PieceStats":
        d = dict(d)
        for k in ("first_day", "last_day", "first_active_day"):
            d[k] = dt.date.fromisoformat(d[k]) if d[k] is not None else None
        return cls(**d)


def _date(v: Any) -> dt.date | None:
    return pd.Timestamp(v).date() if v is not None and pd.notna(v) else None


def _plain(v: Any) -> Any:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def piece_stats(piece: ir.Table, data: DataParams) -> PieceStats:
    """The counts and ranges of a scanned piece (one small aggregate query)."""
    p = piece
    xe = ibis.ifelse(p.reason == EXCLUDED, p.event, ibis.null("string"))
    g = p.group_by([p.reason, p.tn, p.tu, xe.name("xe")]).aggregate(
        rows=p.n.sum(), d0=p.day.min(), d1=p.day.max(), a0=p.day.min(where=p.active),
        u0=p.user_id.min(), u1=p.user_id.max())
    df = g.execute()
    rules = {rule.name: 0 for rule in DROP_RULES}
    excluded = {name: 0 for name in data.exclude_events}
    rows = time_null = time_unusable = kept = 0
    first = last = first_active = first_user = last_user = None
    for rec in df.itertuples(index=False):
        n = int(rec.rows)
        rows += n
        code = int(rec.reason)
        time_null += n if bool(rec.tn) else 0
        time_unusable += n if bool(rec.tu) else 0
        if code == 0:
            kept += n
            first, last = _date(rec.d0), _date(rec.d1)
            first_active = _date(rec.a0)
            first_user, last_user = _plain(rec.u0), _plain(rec.u1)
        elif code == EXCLUDED:
            excluded[str(rec.xe)] = excluded.get(str(rec.xe), 0) + n
        else:
            rules[DROP_RULES[code - 1].name] += n
    return PieceStats(rows=rows, rules=rules, excluded=excluded, time_null=time_null, time_unusable=time_unusable,
                      kept=kept, first_day=first, last_day=last, first_active_day=first_active,
                      first_user=first_user, last_user=last_user)
