"""The optional users table (``data.users``): one row per user with a signup day and attributes."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from .params import Params, UsersParams
from .rules import column, first_of, local_time
from .sources import read_source

__all__ = ["load_users"]

_TABLE = "users table"


def load_users(params: Params, up: UsersParams | None, override: Any, con: Any,
               text_columns: tuple[str, ...] = ()) -> ir.Table:
    """The users table as an engine table: ``user_id``, ``signup_day`` (local date, null without
    ``signup_time``) and each attribute as text, under the name the params give it (a dotted path
    such as ``user_properties.plan`` names its column).

    ``signup_time`` is optional: left at its default and absent from the table, the table holds
    attributes alone and users start on their first active day.

    A user listed on several rows gets one row by a fixed rule, so the result is the same every
    run: the earliest signup, and the attributes of the user's earliest row: the row with the
    earliest signup, or, without a signup time, the earliest by the events' time column
    (``data.time``) when the table has it (a users table built from event rows keeps the value
    of the user's first event, not the alphabetical minimum); else the smallest value.
    """
    up = up or UsersParams(source="(given)")
    t, _ = read_source(override if override is not None else up.source, base=params, con=con,
                       what="data.users.source", text_columns=text_columns)
    user = first_of([column(t, up.user, "data.users.user", table=_TABLE)])
    attrs = {a: column(t, a, "data.users.attributes", table=_TABLE) for a in up.attributes}
    cols: dict[str, Any] = {"user_id": user}
    signup = up.signup_time
    if signup == "signup_time" and "signup_time" not in up.model_fields_set and "signup_time" not in t.columns:
        signup = None  # the default names a column the table does not have: attributes alone
    if signup:
        raw = column(t, signup, "data.users.signup_time", table=_TABLE,
                     want="number" if up.signup_time_unit else "any")
        ts = local_time(raw, "data.users.signup_time", signup, unit=up.signup_time_unit)
        cols["signup_day"] = ts.date()
        cols["__order"] = ts
    else:
        cols["signup_day"] = ibis.null("date")
        d = params.data
        if up.attributes and d.time in t.columns:
            cols["__order"] = local_time(column(t, d.time, "data.time", table=_TABLE,
                                                want="number" if d.time_unit else "any"),
                                         "data.time", d.time, unit=d.time_unit, zone=d.source_timezone)
    order = "__order" if "__order" in cols else None
    for a, v in attrs.items():
        cols[a] = v.cast("string")
    rows = t.filter(user.notnull()).select(**cols)
    aggs: dict[str, Any] = {"signup_day": rows.signup_day.min()}
    for a in up.attributes:
        # the value on the user's earliest row (argmin skips rows whose time is null)
        aggs[a] = rows[a].argmin(rows[order]) if order else rows[a].min()
    return rows.group_by("user_id").aggregate(**aggs)
