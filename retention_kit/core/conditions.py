"""The condition language: what a user did in a period, as params write it.

A condition is a small tree of mappings, written in YAML by the analyst and used by the ladder's
rungs (and by anything else that asks "did the user do X in this period?"):

- ``{event: NAME, min: N}``: at least N events NAME in the period (``min`` defaults to 1);
- ``{active_days: N}``: active on at least N distinct days in the period;
- ``{all: [C, ...]}`` / ``{any: [C, ...]}``: every / at least one of the conditions holds;
- ``{previous: C}``: C held in the user's previous period (false in their first period); it
  cannot be nested in another ``previous``.

This module is the one place that knows the language: :func:`validate` checks a tree (params
call it), :func:`compile` turns it into an engine expression over a table of per-period
counters, :func:`describe` says it in words, :func:`events` lists the event names it uses, and
:func:`is_catch_all` / :func:`uses_previous` answer structural questions.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from typing import Any

import ibis.expr.types as ir

__all__ = ["KEYS", "validate", "compile", "describe", "events", "is_catch_all", "uses_previous", "PREVIOUS_PREFIX"]

#: The keys a condition mapping may hold.
KEYS = frozenset({"event", "min", "active_days", "all", "any", "previous"})
#: Column prefix of the previous period's counters (see :func:`compile`).
PREVIOUS_PREFIX = "prev_"

Condition = Mapping[str, Any]


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def validate(cond: Any, where: str, *, in_previous: bool = False) -> None:
    """Check one condition tree; raise ``ValueError`` naming its location (``where``) and the fix.

    Examples
    --------
    >>> validate({"all": [{"event": "share"}, {"active_days": 2}]}, "rung 'Sharer'.when")
    >>> validate({"evnt": "share"}, "rung 'Sharer'.when")
    Traceback (most recent call last):
    ...
    ValueError: rung 'Sharer'.when: unknown condition key 'evnt'; did you mean 'event'? (valid: event + min, active_days, all, any, previous)
    """
    if not isinstance(cond, dict) or not cond:
        raise ValueError(f"{where}: a condition is a mapping such as {{event: share, min: 1}}")
    unknown = set(cond) - KEYS
    if unknown:
        key = sorted(unknown)[0]
        near = difflib.get_close_matches(key, sorted(KEYS), n=1)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        raise ValueError(
            f"{where}: unknown condition key '{key}'{hint} "
            "(valid: event + min, active_days, all, any, previous)"
        )
    if "all" in cond or "any" in cond:
        if len(cond) != 1:
            raise ValueError(f"{where}: 'all' / 'any' must stand alone in their mapping")
        (op, items), = cond.items()
        if not isinstance(items, list) or not items:
            raise ValueError(f"{where}.{op}: expected a non-empty list of conditions")
        for i, sub in enumerate(items):
            validate(sub, f"{where}.{op}[{i}]", in_previous=in_previous)
        return
    if "previous" in cond:
        if len(cond) != 1:
            raise ValueError(f"{where}: 'previous' stands alone in its mapping")
        if in_previous:
            raise ValueError(f"{where}: 'previous' cannot be nested in another 'previous'")
        validate(cond["previous"], f"{where}.previous", in_previous=True)
        return
    if "event" in cond:
        if set(cond) - {"event", "min"}:
            raise ValueError(f"{where}: an event condition takes only 'event' and 'min'")
        if not isinstance(cond["event"], str) or not cond["event"]:
            raise ValueError(f"{where}.event: expected an event name")
        m = cond.get("min", 1)
        if not _whole(m):
            raise ValueError(f"{where}.min: expected a whole number >= 1, got {m!r}")
        return
    if "active_days" in cond:
        if len(cond) != 1:
            raise ValueError(f"{where}: 'active_days' stands alone in its mapping")
        m = cond["active_days"]
        if not _whole(m):
            raise ValueError(f"{where}.active_days: expected a whole number >= 1, got {m!r}")
        return
    raise ValueError(f"{where}: 'min' needs an 'event'")


def compile(cond: Condition, table: ir.Table, columns: Mapping[str, str]) -> ir.BooleanValue:  # noqa: A001
    """The condition as a boolean expression over ``table``.

    ``table`` has one row per user and period with an ``active_days`` column and one count column
    per event of the condition, named by ``columns`` (event name -> column name: event names are
    free text and stay out of the schema); for ``previous``, the same columns prefixed with
    :data:`PREVIOUS_PREFIX` hold the user's previous period.
    """

    def walk(c: Condition, prefix: str) -> ir.BooleanValue:
        if "all" in c:
            return functools.reduce(lambda a, b: a & b, [walk(s, prefix) for s in c["all"]])
        if "any" in c:
            return functools.reduce(lambda a, b: a | b, [walk(s, prefix) for s in c["any"]])
        if "previous" in c:
            return walk(c["previous"], PREVIOUS_PREFIX)
        if "event" in c:
            return table[prefix + columns[c["event"]]] >= int(c.get("min", 1))
        return table[prefix + "active_days"] >= int(c["active_days"])

    return walk(cond, "")


def describe(cond: Condition) -> str:
    """The condition in words.

    Examples
    --------
    >>> describe({"all": [{"event": "create_note", "min": 2}, {"active_days": 2}]})
    'create_note >= 2 and active days >= 2'
    """
    if "all" in cond or "any" in cond:
        op = "all" if "all" in cond else "any"
        parts = [describe(c) for c in cond[op]]
        parts = [f"({p})" if (" and " in p or " or " in p) else p for p in parts]
        return (" and " if op == "all" else " or ").join(parts)
    if "previous" in cond:
        return f"previous period: {describe(cond['previous'])}"
    if "event" in cond:
        return f"{cond['event']} >= {cond.get('min', 1)}"
    return f"active days >= {cond['active_days']}"


def events(*conds: Condition) -> list[str]:
    """Event names used by the conditions (sorted, unique).

    Examples
    --------
    >>> events({"any": [{"event": "share"}, {"previous": {"event": "buy"}}]}, {"active_days": 1})
    ['buy', 'share']
    """
    found: set[str] = set()

    def walk(c: Condition) -> None:
        if "event" in c:
            found.add(c["event"])
        for key in ("all", "any"):
            for sub in c.get(key, ()):
                walk(sub)
        if "previous" in c:
            walk(c["previous"])

    for c in conds:
        walk(c)
    return sorted(found)


def is_catch_all(cond: Condition) -> bool:
    """Whether a condition holds for every active user, decided structurally:
    ``{active_days: 1}`` or ``any`` of a list containing a catch-all.

    Examples
    --------
    >>> is_catch_all({"any": [{"event": "share"}, {"active_days": 1}]})
    True
    """
    if "active_days" in cond:
        return cond["active_days"] <= 1
    if "any" in cond:
        return any(is_catch_all(c) for c in cond["any"])
    return False


def uses_previous(cond: Condition) -> bool:
    """Whether the condition looks at the user's previous period anywhere in its tree."""
    return "previous" in cond or any(uses_previous(s) for k in ("all", "any") for s in cond.get(k, ()))
