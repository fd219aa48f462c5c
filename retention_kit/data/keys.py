"""Dense integer user keys: joins and group-bys on integers run about 4x faster than on text at
10M events, so text user ids are swapped for keys in the engine (see ``EventLog.user_keys``)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

__all__ = ["integer_keys", "with_keys"]


def integer_keys(daily: ir.Table, users: ir.Table | None) -> tuple[ir.Table, ir.Table | None, ir.Table | None]:
    """``daily`` cached; with text user ids, ``daily`` and ``users`` keyed by dense integers, plus
    the table mapping ``key`` back to ``user_id`` (None for integer ids).

    Keys follow the order of the ids, so the same log always gets the same keys; users of the
    users table with no events get keys too.
    """
    if not daily.user_id.type().is_string():
        return daily.cache(), users, None
    ids = daily.select("user_id").distinct()
    if users is not None:
        ids = ids.union(users.select("user_id"), distinct=True)
    keys = ids.mutate(key=(ibis.row_number().over(order_by="user_id") + 1).cast("int64")).cache()
    d = daily.join(keys, "user_id")
    daily = d.select(user_id=d.key, **{c: d[c] for c in daily.columns if c != "user_id"}).cache()
    if users is not None:
        users = with_keys(users, keys)
    return daily, users, keys


def with_keys(users: ir.Table, keys: ir.Table) -> ir.Table:
    """``users`` with its text ``user_id`` replaced by the integer key."""
    u = users.join(keys, "user_id")
    return u.select(user_id=u.key, **{c: u[c] for c in users.columns if c != "user_id"})
