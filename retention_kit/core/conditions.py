"""The condition language: what a user did in a period, as params write it.

A condition is a small tree of mappings, written in YAML by the analyst and used by the ladder's
rungs (and by anything else that asks "did the user do X in this period?"):

- ``{event: NAME, min: N}``: at least N events NAME in the period (``min`` defaults to 1);
  ``{event: NAME, min: N, where: {PROPERTY: TEST, ...}}`` counts only the events whose
  properties (``data.properties``) pass every test (a *property filter*, see :data:`OPERATORS`):
  ``{amount: {gte: 50}}``, ``{platform: [ios, android]}`` (one of), ``{plan: pro}`` (equal);
- ``{active_days: N}``: active on at least N distinct days in the period;
- ``{all: [C, ...]}`` / ``{any: [C, ...]}``: every / at least one of the conditions holds;
- ``{previous: C}``: C held in the user's previous period (false in their first period); it
  cannot be nested in another ``previous``.

This module is the one place that knows the language: :func:`validate` checks a tree (params
call it), :func:`compile` turns it into an engine expression over a table of per-period
counters, :func:`describe` says it in words, :func:`events` lists the event names it uses, and
:func:`is_catch_all` / :func:`uses_previous` answer structural questions. An event condition is a
*leaf*: :func:`leaves` lists a tree's distinct leaves, :func:`leaf_key` names one (the event name
alone without a filter, so counter columns of plain events keep their meaning) and
:func:`leaf_label` writes it for a page,
:func:`properties` lists the properties filters read, and :func:`where_expr` compiles a filter to
an engine expression over event rows. Filter values are bound as engine literals
(``ibis.literal``): a value from the params never becomes SQL text.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

__all__ = ["KEYS", "OPERATORS", "validate", "validate_where", "compile", "describe", "describe_where", "events",
           "is_catch_all", "uses_previous", "PREVIOUS_PREFIX", "leaves", "leaf_key", "leaf_label", "properties",
           "where_expr"]

#: The keys a condition mapping may hold.
KEYS = frozenset({"event", "min", "where", "active_days", "all", "any", "previous"})
#: The tests of a property filter (``where: {amount: {gte: 50}}``), with how :func:`describe`
#: writes them. A bare value means ``eq``, a list ``in``.
OPERATORS = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "in", "not_in": "not in"}
_ORDERED = frozenset({"gt", "gte", "lt", "lte"})
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
        if set(cond) - {"event", "min", "where"}:
            raise ValueError(f"{where}: an event condition takes only 'event', 'min' and 'where'")
        if not isinstance(cond["event"], str) or not cond["event"]:
            raise ValueError(f"{where}.event: expected an event name")
        m = cond.get("min", 1)
        if not _whole(m):
            raise ValueError(f"{where}.min: expected a whole number >= 1, got {m!r}")
        if "where" in cond:
            validate_where(cond["where"], f"{where}.where")
        return
    if "where" in cond:
        raise ValueError(f"{where}: 'where' filters the events of an 'event' condition; add 'event'")
    if "active_days" in cond:
        if len(cond) != 1:
            raise ValueError(f"{where}: 'active_days' stands alone in its mapping")
        m = cond["active_days"]
        if not _whole(m):
            raise ValueError(f"{where}.active_days: expected a whole number >= 1, got {m!r}")
        return
    raise ValueError(f"{where}: 'min' needs an 'event'")


def _scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool)) and not (isinstance(v, float) and v != v)


def validate_where(flt: Any, where: str) -> None:
    """Check one property filter (``{amount: {gte: 50}, platform: [ios, android]}``); raise
    ``ValueError`` naming its location and the fix.

    Examples
    --------
    >>> validate_where({"amount": {"gte": 50}, "platform": ["ios", "android"]}, "x.where")
    >>> validate_where({"amount": {"atleast": 50}}, "x.where")
    Traceback (most recent call last):
    ...
    ValueError: x.where.amount: unknown test 'atleast' (valid: eq, ne, gt, gte, lt, lte, in, not_in)
    """
    if not isinstance(flt, dict) or not flt:
        raise ValueError(f"{where}: a filter is a mapping of properties to tests, such as {{amount: {{gte: 50}}}}")
    for prop, test in flt.items():
        at = f"{where}.{prop}"
        if not isinstance(prop, str) or not prop:
            raise ValueError(f"{where}: property names are text (as listed in data.properties)")
        tests = test if isinstance(test, dict) else {"in" if isinstance(test, list) else "eq": test}
        if not tests:
            raise ValueError(f"{at}: give a test such as {{gte: 50}}")
        for op, value in tests.items():
            if op not in OPERATORS:
                near = difflib.get_close_matches(str(op), list(OPERATORS), n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                raise ValueError(f"{at}: unknown test '{op}'{hint} (valid: {', '.join(OPERATORS)})")
            if op in ("in", "not_in"):
                if not isinstance(value, list) or not value or not all(_scalar(v) for v in value):
                    raise ValueError(f"{at}.{op}: expected a non-empty list of values, such as [ios, android]")
            elif not _scalar(value):
                raise ValueError(f"{at}.{op}: expected one value (text, a number or true/false), got {value!r}")
            elif op in _ORDERED and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
                raise ValueError(f"{at}.{op}: compares with a number or a text, got {value!r}")


def _tests(flt: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """(property, operator, value) of a filter, in the order written."""
    out = []
    for prop, test in flt.items():
        tests = test if isinstance(test, dict) else {"in" if isinstance(test, list) else "eq": test}
        out += [(prop, op, value) for op, value in tests.items()]
    return out


def _literal_test(col: ir.Value, op: str, value: Any) -> ir.BooleanValue:
    """One test of a property column against a params value, bound as an engine literal. Text
    columns compare as numbers when the value is a number (JSON and CSV properties are often text);
    other columns compare as text when the value is text."""
    values = value if isinstance(value, list) else [value]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    boolean = all(isinstance(v, bool) for v in values)
    dtype = col.type()
    if numeric and not dtype.is_numeric():
        col = col.cast("string").try_cast("float64")
    elif boolean and dtype.is_boolean():
        pass
    elif not numeric and not (boolean and dtype.is_boolean()):
        col = col if dtype.is_string() else col.cast("string")
        values = [("true" if v else "false") if isinstance(v, bool) else str(v) for v in values]
    lits = [ibis.literal(v) for v in values]
    if op == "in":
        return col.isin(lits)
    if op == "not_in":
        return ~col.isin(lits)
    lit = lits[0]
    return {"eq": col == lit, "ne": col != lit, "gt": col > lit, "gte": col >= lit, "lt": col < lit,
            "lte": col <= lit}[op]


def where_expr(flt: Mapping[str, Any], table: ir.Table) -> ir.BooleanValue:
    """A property filter as a boolean expression over event rows: ``table`` has one column per
    property, named as ``data.properties`` lists it. Every test must hold; a row whose property
    is missing (null) passes no test but ``ne`` and ``not_in`` (it is not the value), so a filter
    never keeps a row by accident of a null. Values are engine literals, never SQL text.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"amount": [10.0, 60.0, None], "platform": ["ios", "web", "ios"]})
    >>> t.filter(where_expr({"amount": {"gte": 50}}, t)).amount.to_list()
    [60.0]
    >>> t.filter(where_expr({"platform": ["ios", "android"]}, t)).count().execute()
    2
    """
    out: ir.BooleanValue = ibis.literal(True)
    for prop, op, value in _tests(flt):
        if prop not in table.columns:
            raise ValueError(f"property '{prop}' is not a column of the event rows; list it under data.properties")
        test = _literal_test(table[prop], op, value)
        # SQL's three-valued logic: a null property fails "= x" but passes "!= x" and "not in"
        out = out & (test.fill_null(op in ("ne", "not_in")))
    return out


def describe_where(flt: Mapping[str, Any]) -> str:
    """A property filter in words.

    Examples
    --------
    >>> describe_where({"amount": {"gte": 50}, "platform": ["ios", "android"]})
    'amount >= 50 and platform in (ios, android)'
    """
    return " and ".join(f"{p} {OPERATORS[op]} {_show(v, '()')}" for p, op, v in _tests(flt))


def _show(v: Any, brackets: str) -> str:
    """A filter value as text: a list in ``brackets`` (``"()"`` or ``"{}"``), numbers without
    trailing zeros, booleans in lower case."""
    if isinstance(v, list):
        return brackets[0] + ", ".join(_show(x, brackets) for x in v) + brackets[1]
    if isinstance(v, bool):
        return "true" if v else "false"
    return f"{v:g}" if isinstance(v, float) else str(v)


#: How :func:`leaf_label` writes each test: symbols, so a label reads the same in every language.
_SYMBOLS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "in": "∈", "not_in": "∉"}


def leaf_label(leaf: Condition) -> str:
    """A readable name of an event condition, its filter in parentheses with the tests as symbols
    (a list as a set); the event name alone without a filter. The default name of a filtered
    key-behaviour candidate (whose caller checks that no event of the log has that name).

    Examples
    --------
    >>> leaf_label({"event": "purchase", "where": {"amount": {"gte": 50}}})
    'purchase (amount ≥ 50)'
    >>> leaf_label({"event": "page_view", "where": {"platform": ["ios", "android"], "plan": {"ne": "free"}}})
    'page_view (platform ∈ {ios, android}, plan ≠ free)'
    """
    if "where" not in leaf:
        return str(leaf["event"])
    tests = ", ".join(f"{p} {_SYMBOLS[op]} {_show(v, '{}')}" for p, op, v in _tests(leaf["where"]))
    return f"{leaf['event']} ({tests})"


def leaf_key(leaf: Condition) -> str:
    """The name of an event condition's counter: the event name for a plain event (so a table of
    per-event counters keyed by name serves every condition without a filter), else the event
    and its filter written canonically.

    Examples
    --------
    >>> leaf_key({"event": "buy", "min": 2}), leaf_key({"event": "buy", "where": {"amount": {"gte": 50}}})
    ('buy', 'buy where {"amount": {"gte": 50}}')
    """
    if "where" not in leaf:
        return str(leaf["event"])
    return f"{leaf['event']} where {json.dumps(leaf['where'], sort_keys=True)}"


def leaves(*conds: Condition) -> list[dict[str, Any]]:
    """The distinct event conditions of the trees (``event`` and ``where``; ``min`` dropped), by
    :func:`leaf_key`.

    Examples
    --------
    >>> leaves({"all": [{"event": "buy", "min": 2}, {"event": "buy", "where": {"plan": "pro"}}]})
    [{'event': 'buy'}, {'event': 'buy', 'where': {'plan': 'pro'}}]
    """
    found: dict[str, dict[str, Any]] = {}
    for c in _nodes(conds):
        if "event" in c:
            leaf = {"event": c["event"], **({"where": c["where"]} if "where" in c else {})}
            found.setdefault(leaf_key(leaf), leaf)
    return [found[k] for k in sorted(found)]


def _nodes(conds: Iterable[Condition]) -> Iterator[Condition]:
    """Every node of the trees, the roots first (``all``, ``any`` and ``previous`` are walked)."""
    for c in conds:
        yield c
        yield from _nodes(c.get("all", ()))
        yield from _nodes(c.get("any", ()))
        if "previous" in c:
            yield from _nodes([c["previous"]])


def properties(*conds: Condition) -> list[str]:
    """The properties the trees' filters read (sorted, unique).

    Examples
    --------
    >>> properties({"any": [{"event": "buy", "where": {"amount": {"gte": 50}}}, {"active_days": 2}]})
    ['amount']
    """
    return sorted({p for leaf in leaves(*conds) for p in leaf.get("where", {})})


def compile(cond: Condition, table: ir.Table, columns: Mapping[str, str]) -> ir.BooleanValue:  # noqa: A001
    """The condition as a boolean expression over ``table``.

    ``table`` has one row per user and period with an ``active_days`` column and one count column
    per event condition, named by ``columns`` (:func:`leaf_key` -> column name, which is the event
    name for a condition without a filter: event names are free text and stay out of the
    schema); for ``previous``, the same columns prefixed with :data:`PREVIOUS_PREFIX` hold the
    user's previous period.
    """

    def walk(c: Condition, prefix: str) -> ir.BooleanValue:
        if "all" in c:
            return functools.reduce(lambda a, b: a & b, [walk(s, prefix) for s in c["all"]])
        if "any" in c:
            return functools.reduce(lambda a, b: a | b, [walk(s, prefix) for s in c["any"]])
        if "previous" in c:
            return walk(c["previous"], PREVIOUS_PREFIX)
        if "event" in c:
            return table[prefix + columns[leaf_key(c)]] >= int(c.get("min", 1))
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
        text = f"{cond['event']} >= {cond.get('min', 1)}"
        return f"{text} where {describe_where(cond['where'])}" if "where" in cond else text
    return f"active days >= {cond['active_days']}"


def events(*conds: Condition) -> list[str]:
    """Event names used by the conditions (sorted, unique).

    Examples
    --------
    >>> events({"any": [{"event": "share"}, {"previous": {"event": "buy"}}]}, {"active_days": 1})
    ['buy', 'share']
    """
    return sorted({c["event"] for c in _nodes(conds) if "event" in c})


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
