"""Expressions that every engine the kit runs on reads the same way (DuckDB, PostgreSQL, Spark).

DuckDB casts a boolean to an integer; PostgreSQL refuses (``cannot cast type boolean to
bigint``) and Spark's null handling differs, so a count of rows that meet a condition is written
as a sum of ``CASE WHEN`` here, once, instead of a cast at each call site.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

__all__ = ["flag", "count_true", "indexed"]


def flag(cond: ir.BooleanValue) -> ir.IntegerValue:
    """1 where ``cond`` holds, 0 where it is false or null (an ``int64`` column).

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"x": [1, 5, None]})
    >>> flag(t.x > 2).name("f").to_pandas().tolist()
    [0, 1, 0]
    """
    return ibis.ifelse(cond.fill_null(False), 1, 0).cast("int64")


def count_true(cond: ir.BooleanValue) -> ir.IntegerScalar:
    """The number of rows where ``cond`` holds (a null counts as false).

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"x": [1, 5, 7, None]})
    >>> int(count_true(t.x > 2).to_pandas())
    2
    """
    return flag(cond).sum()


def indexed(anchor: ir.Table, values: list, *, name: str, type: str) -> ir.Table:
    """A small table in ``anchor``'s engine: one row per value, ``k`` (0, 1, ...) and ``name``.

    An ``ibis.memtable`` would have to be uploaded to each engine (Spark cannot join one), so the
    rows are unnested from a literal array over one row of ``anchor`` (any non-empty table of
    the same engine) instead.

    Examples
    --------
    >>> import datetime as dt, ibis
    >>> t = indexed(ibis.memtable({"x": [1, 2]}), [dt.date(2024, 1, 31), dt.date(2024, 2, 29)],
    ...             name="date", type="date")
    >>> [(k, str(d.date())) for k, d in t.order_by("k").to_pandas().values.tolist()]
    [(0, '2024-01-31'), (1, '2024-02-29')]
    """
    one = anchor.select(__rk_one=ibis.literal(1)).limit(1)
    # Spark accepts a generator (unnest) only bare in a select list: cast it one step later
    rows = one.select(k=ibis.range(0, len(values)).unnest())
    k = rows.k.cast("int64")
    # a CASE per value, not array indexing: Spark's element_at wants an INT index
    value = ibis.cases(*[(k == i, ibis.literal(v, type=type)) for i, v in enumerate(values)])
    return rows.select(k=k, **{name: value})
