"""Integer user keys: joins and group-bys on integers run about 4x faster than on text at 10M
events, so text user ids are swapped for keys in the engine (see ``EventLog.user_keys``).

Two ways to make them:

- **hashed** (the embedded DuckDB): a key is a 64-bit hash of the id, so it needs no look at the
  rest of the log: the pieces of an incremental load (:mod:`.cache`) key their rows alone and
  agree, and a user keeps the key run after run. Two ids with one hash would merge two users,
  so every load checks the keys table (:func:`collisions`) and falls back to ranked keys if one
  ever occurs (about one chance in 10^12 for a million users).
- **ranked** (other engines, whose hash may be 32 bits, and the fallback): dense keys 1, 2, ...
  in the order of the ids, computed over the whole log.

Nothing the kit shows depends on which: keys never leave the engine
(:meth:`retention_kit.data.EventLog.original_ids` turns them back into ids), and nothing is
ordered by them.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

__all__ = ["integer_keys", "with_keys", "hashed", "hash_key", "collisions", "ranked_keys"]


def hashed(con: Any) -> bool:
    """Whether ``con``'s engine makes hashed keys (the embedded DuckDB: a 64-bit hash)."""
    return getattr(con, "name", None) == "duckdb"


def hash_key(user: ir.Value) -> ir.IntegerValue:
    """The hashed key of a text user id: DuckDB's 64-bit hash of it, read as a signed 64-bit
    integer (two's complement: hashes of 2**63 and above are the hash minus 2**64).

    Ibis's ``hash().cast("int64")`` gives the same values through a cast to a bit string and
    back, which took twice as long: 3.5-5.1 s against 1.7-2.6 s for 70M ids. The scan keys
    every (user, day, event) group this way."""
    h = _hash(user)
    below = h < ibis.literal(2**63, "uint64")
    # h - 2**64 = -(2**64 - 1 - h) - 1, where 2**64 - 1 - h (h's bits flipped) fits in int64
    return ibis.ifelse(below, h.cast("int64"), -(h ^ ibis.literal(2**64 - 1, "uint64")).cast("int64") - 1)


@ibis.udf.scalar.builtin(name="hash")
def _hash(value) -> dt.uint64:  # type: ignore[empty-body]
    """DuckDB's ``hash``: an unsigned 64-bit integer."""


def collisions(keys: ir.Table) -> int:
    """How many keys of a ``(user_id, key)`` table (one row per id) stand for more than one id."""
    r = keys.aggregate(ids=keys.count(), keys=keys.key.nunique()).execute().iloc[0]
    return int(r["ids"]) - int(r["keys"])


def ranked_keys(ids: ir.Table) -> ir.Table:
    """Dense keys 1, 2, ... of the distinct ``user_id`` values of ``ids``, in the ids' order."""
    ids = ids.select("user_id").distinct()
    return ids.mutate(key=(ibis.row_number().over(order_by="user_id") + 1).cast("int64"))


def integer_keys(daily: ir.Table, users: ir.Table | None, *,
                 hash_ok: bool = True) -> tuple[ir.Table, ir.Table | None, ir.Table | None]:
    """``daily`` cached; with text user ids, ``daily`` and ``users`` keyed by integers, plus the
    table mapping ``key`` back to ``user_id`` (None for integer ids).

    Keys are hashed on DuckDB (unless ``hash_ok`` is false, after a collision) and ranked
    elsewhere (see the module docstring); users of the users table with no events get keys too.
    """
    if not daily.user_id.type().is_string():
        return daily.cache(), users, None
    ids = daily.select("user_id").distinct()
    if users is not None:
        ids = ids.union(users.select("user_id"), distinct=True)
    keys = None
    if hash_ok and hashed(daily.get_backend()):
        keys = ids.mutate(key=hash_key(ids.user_id)).cache()
        if collisions(keys):
            keys = None
    if keys is None:
        keys = ranked_keys(ids).cache()
    d = daily.join(keys, "user_id")
    daily = d.select(user_id=d.key, **{c: d[c] for c in daily.columns if c != "user_id"}).cache()
    if users is not None:
        users = with_keys(users, keys)
    return daily, users, keys


def with_keys(users: ir.Table, keys: ir.Table) -> ir.Table:
    """``users`` with its text ``user_id`` replaced by the integer key."""
    u = users.join(keys, "user_id")
    return u.select(user_id=u.key, **{c: u[c] for c in users.columns if c != "user_id"})
