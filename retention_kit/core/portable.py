"""Expressions that every engine the kit runs on reads the same way (DuckDB, PostgreSQL, Spark).

DuckDB casts a boolean to an integer; PostgreSQL refuses (``cannot cast type boolean to
bigint``) and Spark's null handling differs, so a count of rows that meet a condition is written
as a sum of ``CASE WHEN`` here, once, instead of a cast at each call site.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

__all__ = ["flag", "count_true"]


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
