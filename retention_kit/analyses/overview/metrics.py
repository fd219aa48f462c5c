"""Data overview: what is in the log and what loading found.

Definitions: an *event type* is a distinct value of the event column after filters; its *users*
are the distinct users with at least one such event, and *share of users* divides by all users in
the log. *Events per day* counts valid events per local calendar day, *active users* the distinct
users active that day; days in the data range without events show 0 (the log was empty that day,
which is data, not a gap in coverage).
"""

from __future__ import annotations

import dataclasses

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ...data.engine import fetch
from ...data.keys import hashed
from ...data.log import SOURCE_KEY, EventLog

__all__ = ["event_types", "events_per_day", "Duplicates", "duplicate_rows", "quality_table"]

OTHER = "(other events)"


def event_types(log: EventLog, *, top: int | None = 50) -> pd.DataFrame:
    """Event types by volume: ``event``, ``events``, ``users``, ``share_users``, ``active``.

    ``active`` says whether the event counts as activity. With ``top``, the rest are grouped into
    one row named ``(other events)`` whose ``users`` counts users with any of them.

    Examples
    --------
    >>> et = event_types(log, top=5)
    >>> et.columns.tolist()
    ['event', 'events', 'users', 'share_users', 'active']
    >>> len(et), et.event.iloc[-1]
    (6, '(other events: 7 types)')
    >>> bool(et.events.sum() == log.quality.rows_kept)  # the last row holds the rest
    True
    """
    d = log.daily
    per = d.group_by(["event", "active"]).aggregate(events=d.n.sum(), users=d.user_id.nunique())
    df = fetch(per).sort_values(["events", "event"], ascending=[False, True], kind="stable").reset_index(drop=True)
    total_users = log.quality.users
    if top is not None and len(df) > top:
        rest = df.iloc[top:]
        rest_users = d.filter(d.event.isin(list(rest["event"]))).user_id.nunique().execute()
        other = pd.DataFrame({"event": [f"{OTHER[:-1]}: {len(rest):,} types)"], "active": [bool(rest["active"].any())],
                              "events": [int(rest["events"].sum())], "users": [int(rest_users)]})
        df = pd.concat([df.iloc[:top], other], ignore_index=True)
    df["share_users"] = df["users"] / total_users
    return df[["event", "events", "users", "share_users", "active"]]


def events_per_day(log: EventLog) -> pd.DataFrame:
    """Per local day of the data range: ``day``, ``events``, ``active_users`` (0 on empty days)."""
    d = log.daily
    events = fetch(d.group_by("day").aggregate(events=d.n.sum()))
    # active users from the shared distinct active days (one row per user and day): a count
    # per day, where a distinct count over the daily table took 5.3 s at 100M events (0.7 s)
    a = log.active_days()
    active = fetch(a.group_by("day").aggregate(active_users=a.count()))
    days = pd.DataFrame({"day": pd.date_range(log.first_day, log.last_day, freq="D").astype("datetime64[ns]")})
    out = (days.merge(events, on="day", how="left").merge(active, on="day", how="left")
           .fillna({"events": 0, "active_users": 0}))
    return out.astype({"events": "int64", "active_users": "int64"})


@dataclasses.dataclass(frozen=True)
class Duplicates:
    """Repeated rows among the valid rows of the source (see :func:`duplicate_rows`)."""

    exact: int
    same_key: int


def duplicate_rows(log: EventLog) -> Duplicates:
    """Rows that repeat another, counted as the copies beyond the first.

    Definition, over the source's valid rows with every column as read: ``exact`` counts rows
    equal to another row in *every* column (nulls equal), an export artefact worth fixing;
    ``same_key`` counts rows that share user, time and event with another row but differ in some
    other column (e.g. several products bought in one order at one second): valid rows, not
    duplicates. Both are kept in the analyses. One grouping of the source's rows by their key
    gives both, with a second read of only the rows whose key repeats (:func:`_repeats`); a log
    loaded through the activity cache keeps the counts per piece of the source there, so the
    next run reads them (and an incremental run counts its new files only).

    Examples
    --------
    >>> d = duplicate_rows(log)
    >>> d.exact >= 0 and d.same_key >= 0
    True
    """
    if log.source_rows_view is None:
        parts = [_repeats(log.events, ["user_id", "ts", "event"])]
    else:
        # per part of the source, kept in the activity cache: a later run reads the counts
        # instead of every column of every raw row (equal rows never lie in two parts)
        parts = log.source_results("overview.duplicates", lambda rows: _repeats(rows, list(SOURCE_KEY)))
    rows, variants, key_extra = (sum(p[k] for p in parts) for k in ("rows", "variants", "key_extra"))
    exact = rows - variants  # rows beyond the first of each distinct full row
    return Duplicates(exact=exact, same_key=key_extra - exact)


def _repeats(rows: ir.Table, key: list[str]) -> dict[str, int]:
    """``rows``, ``variants`` (distinct full rows) and ``key_extra`` (rows beyond the first of each
    ``key``).

    Equal rows share their key, and equal keys share the key's hash. On DuckDB the rows are first
    grouped by a 64-bit hash of the key alone: a hash seen once is a key seen once, which no other
    row equals. Only the rows of repeated hashes (few in an event log) are then counted exactly,
    by every column and by the key, so a collision costs time, never a wrong count. Other
    engines group the rows by every column.

    The repeated hashes of up to :data:`SORTED_MAX` rows (a piece of the activity cache) are
    found by sorting the hashes in memory (:func:`_sorted_repeats`); the engine groups them for
    larger tables (a whole source of one big file). For a piece of 7M rows: 0.6 s against 1.9 s
    for the grouping, of which the sort 0.2 s on one core. At 100M events in the cache's 15
    pieces the count took 23.9 s, against 48.9 s by the grouping on the same machine."""
    if not hashed(rows.get_backend()):
        return _repeats_exact(rows, key)
    t = rows.mutate(__rk_h=_key_hash(*(rows[k] for k in key)))
    found = _sorted_repeats(t)
    if found is None:  # too many rows to hold their hashes: the engine groups them
        g = t.group_by("__rk_h").aggregate(c=t.count())
        r = g.aggregate(rows=g.c.sum(), repeated=g.__rk_h.collect(where=g.c > 1)).execute().iloc[0]
        # numpy, not pd.array: pandas passes a list of large ints through float64
        found = (0 if pd.isna(r["rows"]) else int(r["rows"]),
                 np.array(list(r["repeated"] if r["repeated"] is not None else []), dtype=np.uint64))
    n, repeated = found
    if not n:
        return {"rows": 0, "variants": 0, "key_extra": 0}
    if not len(repeated):
        return {"rows": n, "variants": n, "key_extra": 0}
    hashes = ibis.memtable({"__rk_h": repeated})
    some = _repeats_exact(t.semi_join(hashes, "__rk_h").drop("__rk_h"), key)
    return {"rows": n, "variants": n - some["rows"] + some["variants"], "key_extra": some["key_extra"]}


#: The most rows whose key hashes :func:`_repeats` sorts in memory (8 bytes each: 256 MB).
SORTED_MAX = 32_000_000


def _sorted_repeats(t: ir.Table) -> tuple[int, np.ndarray] | None:
    """The rows of ``t`` and its ``__rk_h`` values seen more than once (sorted, uint64), sorted
    in memory; None when ``t`` holds more than :data:`SORTED_MAX` rows (read up to one more).
    One Arrow table, not batches: a piece of 7M rows took 0.9 s against 1.7 s in batches."""
    got = t.select("__rk_h").to_pyarrow(limit=SORTED_MAX + 1)
    if got.num_rows > SORTED_MAX:
        return None
    h = got.column(0).to_numpy().astype(np.uint64, copy=True)
    del got
    h.sort()
    return len(h), np.unique(h[1:][h[1:] == h[:-1]])


@ibis.udf.scalar.builtin(name="hash")
def _key_hash(user, ts, event) -> dt.uint64:  # type: ignore[empty-body]
    """DuckDB's 64-bit hash of the three key columns in one call. Combining Ibis's hash of each
    column (cast through a bit string) took 40 s against 27 s for this grouping at 100M events."""


def _repeats_exact(rows: ir.Table, key: list[str]) -> dict[str, int]:
    """:func:`_repeats` by one grouping of the rows by every column, then by the key."""
    full = rows.group_by(list(rows.columns)).aggregate(c=rows.count())
    per_key = full.group_by(key).aggregate(rows=full.c.sum(), variants=full.count())
    r = per_key.aggregate(key_extra=(per_key.rows - 1).sum(), variants=per_key.variants.sum(),
                          rows=per_key.rows.sum()).execute().iloc[0]
    if pd.isna(r["rows"]):
        return {"rows": 0, "variants": 0, "key_extra": 0}
    return {"rows": int(r["rows"]), "variants": int(r["variants"]), "key_extra": int(r["key_extra"])}


def quality_table(log: EventLog, *, duplicates: Duplicates | None = None) -> pd.DataFrame:
    """Data-quality findings: ``check``, ``rows``, ``share`` (of rows read)."""
    df = log.quality.to_frame()
    if duplicates is not None:
        n = max(log.quality.rows_read, 1)
        extra = pd.DataFrame({"check": ["exact duplicate rows, equal in every column (kept)",
                                        "same user, time and event, other columns differ (kept, not duplicates)"],
                              "rows": [duplicates.exact, duplicates.same_key]})
        df = pd.concat([df, extra.assign(share=extra["rows"] / n)], ignore_index=True)
    return df
