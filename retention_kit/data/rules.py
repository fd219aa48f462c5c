"""Which rows the kit keeps: column checks, time parsing and the table of drop rules.

A row is dropped when it fails a rule of :data:`DROP_RULES`; each dropped row is counted once,
under the first rule it fails, in the table's order. Each rule carries its reason (as the data
quality table words it), the fix a user can make, and whether an error shows an offending value,
so the order of the rules cannot separate a reason from its fix. Rows of ``data.exclude_events``
are removed too, but by configuration: they are counted apart, not as dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from ..errors import DataError
from .params import DataParams

__all__ = ["DropRule", "DROP_RULES", "Row", "row_checks", "check_column", "local_time", "blank"]


def check_column(t: ir.Table, name: str, key: str) -> None:
    """Raise :class:`DataError` when ``name`` (params key ``key``) is not a column of ``t``,
    suggesting the nearest column (and another delimiter when the file read as one column)."""
    if name not in t.columns:
        near = difflib.get_close_matches(name, list(t.columns), n=1, cutoff=0.5)
        hint = f"did you mean '{near[0]}'? " if near else ""
        cols = ", ".join(t.columns[:12]) + (" ..." if len(t.columns) > 12 else "")
        delim = ""
        if len(t.columns) == 1 and any(c in t.columns[0] for c in ";|\t"):
            delim = " The file looks like it uses another delimiter: set data.source to {path: ..., delimiter: ';'}."
        raise DataError(f"column '{name}' ({key}) not found in the event source; {hint}columns are: {cols}.{delim}")


def local_time(col: ir.Value, key: str, colname: str) -> ir.TimestampValue:
    """A time column as naive local timestamps in the session (product) time zone; null where a
    text value does not parse."""
    dtype = col.type()
    if dtype.is_timestamp():
        # aware timestamps cast to the session zone (the product's); naive ones are already local
        return col.cast("timestamp") if dtype.timezone else col
    if dtype.is_date():
        return col.cast("timestamp")
    if dtype.is_string():
        # TIMESTAMPTZ parsing honours an explicit offset and reads the rest in the session zone
        return col.strip().try_cast("timestamp('UTC')").cast("timestamp")
    raise DataError(
        f"column '{colname}' ({key}) has type {dtype}, not a time; give ISO timestamps "
        "(e.g. 2024-03-01 14:05:00) or convert epoch numbers before loading"
    )


def blank(col: ir.StringValue) -> ir.BooleanValue:
    """Null, empty or only whitespace. Only values starting with a space are trimmed: trimming
    every value would double the cost of the pass."""
    return col.isnull() | (col == "") | (col.startswith(" ") & (col.strip() == ""))


@dataclasses.dataclass(frozen=True)
class Row:
    """The expressions the rules test, built once per load from the raw source's columns."""

    user: ir.Value
    time_raw: ir.Value
    ts: ir.TimestampValue
    event: ir.StringValue
    lo: ir.TimestampScalar
    hi: ir.TimestampScalar


@dataclasses.dataclass(frozen=True)
class DropRule:
    """One reason to drop a row.

    ``reason`` is a template over the data params (``{user}``, ``{time}``, ``{event}``,
    ``{valid_from}``, ``{valid_until}``) worded as the data quality table shows it; ``fails``
    says whether a row fails the rule; ``shows_example`` puts one offending time value in the
    error, because the fix depends on what it looks like.
    """

    name: str
    reason: str
    fix: str
    fails: Callable[[Row], ir.BooleanValue]
    shows_example: bool = False

    def label(self, data: DataParams, valid_until: dt.date) -> str:
        return self.reason.format(user=data.user, time=data.time, event=data.event,
                                  valid_from=data.valid_from.isoformat(), valid_until=valid_until.isoformat())


_RAISE = "or raise data.max_dropped_share"

#: The drop rules in precedence order: a row is counted under the first rule it fails.
DROP_RULES: tuple[DropRule, ...] = (
    DropRule("user", "null or blank user id ('{user}')", f"remove or fill those rows, {_RAISE}",
             lambda r: blank(r.user) if r.user.type().is_string() else r.user.isnull()),
    DropRule("time_null", "null time ('{time}')", f"remove or fill those rows, {_RAISE}",
             lambda r: r.time_raw.isnull()),
    DropRule("time_unparsed", "time that does not parse ('{time}')",
             f"fix the time format (ISO, e.g. 2024-03-01 14:05:00) {_RAISE}",
             lambda r: r.time_raw.notnull() & r.ts.isnull(), shows_example=True),
    DropRule("too_early", "time before {valid_from} (data.valid_from)",
             "check the time column and data.timezone, or set data.valid_from",
             lambda r: r.ts.notnull() & (r.ts < r.lo), shows_example=True),
    DropRule("too_late", "time after {valid_until} (data.valid_until)",
             "check the time column's units and data.timezone, or set data.valid_until",
             lambda r: r.ts.notnull() & (r.ts >= r.hi), shows_example=True),
    DropRule("event", "null or blank event name ('{event}')", f"remove or fill those rows, {_RAISE}",
             lambda r: blank(r.event)),
)


def row_checks(row: Row, data: DataParams) -> tuple[list[ir.BooleanValue], ir.BooleanValue, ir.BooleanValue]:
    """Per rule, "the row fails it and no earlier rule" (the counted masks, in rule order);
    ``excluded`` (an ``exclude_events`` row that fails no rule) and ``valid`` (kept)."""
    first_fail: list[ir.BooleanValue] = []
    earlier: ir.BooleanValue = ibis.literal(False)
    for rule in DROP_RULES:
        fails = rule.fails(row)
        first_fail.append(fails & ~earlier)
        earlier = earlier | fails
    excluded = row.event.isin(data.exclude_events) if data.exclude_events else ibis.literal(False)
    return first_fail, excluded & ~earlier, ~earlier & ~excluded
