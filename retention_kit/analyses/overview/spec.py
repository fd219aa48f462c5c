"""The data overview: its place in a run and its export contract."""

from __future__ import annotations

from ..spec import Column as C
from ..spec import Export, ReportSpec

__all__ = ["SPEC"]

SPEC = ReportSpec(
    name="overview",
    title="Data overview",
    order=10,
    question="What is in the log: range, users, event types, events per day, data quality, definitions",
    section=None,
    exports=(
        Export("event_types", "Event types by volume (the 50 largest, the rest in one row).", (
            C("event", "event name (or '(other events: N types)')"),
            C("events", "valid events of the type"),
            C("users", "distinct users with at least one"),
            C("share_users", "users / all users of the log"),
            C("active", "whether the event counts as activity"),
        )),
        Export("events_per_day", "Valid events and active users per local day of the data range.", (
            C("day", "local day (ISO)"),
            C("events", "valid events that day (0 on days without any)"),
            C("active_users", "distinct users active that day"),
        )),
        Export("data_quality", "What loading found: rows read, dropped by reason, excluded, kept.", (
            C("check", "what was counted"),
            C("rows", "rows"),
            C("share", "rows / rows read"),
        )),
    ),
)
