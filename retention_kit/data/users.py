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

    A user listed on several rows gets one row by a fixed rule, so the result is the same every
    run: the earliest signup, and the attributes of the row with the earliest signup (without a
    signup time: the smallest value).
    """
    up = up or UsersParams(source="(given)")
    t, _ = read_source(override if override is not None else up.source, base=params, con=con,
                       what="data.users.source", text_columns=text_columns)
    user = first_of([column(t, up.user, "data.users.user", table=_TABLE)])
    attrs = {a: column(t, a, "data.users.attributes", table=_TABLE) for a in up.attributes}
    cols: dict[str, Any] = {"user_id": user}
    if up.signup_time:
        raw = column(t, up.signup_time, "data.users.signup_time", table=_TABLE,
                     want="number" if up.signup_time_unit else "any")
        cols["signup_day"] = local_time(raw, "data.users.signup_time", up.signup_time,
                                        unit=up.signup_time_unit).date()
    else:
        cols["signup_day"] = ibis.null("date")
    for a, v in attrs.items():
        cols[a] = v.cast("string")
    rows = t.filter(user.notnull()).select(**cols)
    aggs: dict[str, Any] = {"signup_day": rows.signup_day.min()}
    for a in up.attributes:
        aggs[a] = rows[a].argmin(rows.signup_day) if up.signup_time else rows[a].min()
    return rows.group_by("user_id").aggregate(**aggs)
