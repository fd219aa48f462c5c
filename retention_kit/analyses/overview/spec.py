"""The data overview: its place in a run and its export contract."""

from __future__ import annotations

from ..spec import Column as C
from ..spec import SEGMENT_COLUMNS, Export, ReportSpec

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
        Export("segment_sizes", "The segments of the breakdown: users and valid events of each (written when "
                                "breakdown.by is set; docs/segments.md). The overview's compared share goes to "
                                "segment_comparisons.csv (report overview).", (
            *SEGMENT_COLUMNS,
            C("users", "the segment's users (with an event or in the users table)"),
            C("share_users", "users / every user of the breakdown"),
            C("events", "the segment's valid events (active or not; excluded events never count)"),
            C("events_per_user", "events / users"),
        ), breakdown_only=True),
    ),
)
