"""The data overview: what is in the log and what loading found (:mod:`.metrics`), in words
(:mod:`.narrative`), and the report's spec (:mod:`.spec`)."""

from .metrics import duplicate_rows, event_types, events_per_day, quality_table
from .narrative import quality_shown, summary, timezone_note, types_shown
from .spec import SPEC

__all__ = ["event_types", "events_per_day", "duplicate_rows", "quality_table", "summary", "quality_shown", "types_shown",
           "timezone_note", "SPEC"]
