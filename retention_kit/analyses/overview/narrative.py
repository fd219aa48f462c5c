"""What the data overview says in words."""

from __future__ import annotations

import pandas as pd

from ...core.text import Raw, code, fill, num, pct
from ...data.log import DataQuality
from .metrics import Duplicates

__all__ = ["summary"]


def _duplicates_text(d: Duplicates) -> str:
    text = (f"{d.exact:,} rows exactly repeat another row in every column (kept; see data quality)."
            if d.exact else "No row exactly repeats another.")
    if d.same_key:
        text += (f" {d.same_key:,} rows share user, time and event with another row but differ in other columns: "
                 "valid rows, not duplicates.")
    return text


def summary(quality: DataQuality, types: pd.DataFrame, per_day: pd.DataFrame, duplicates: Duplicates) -> Raw:
    """The overview's "In short" paragraph, from the quality counts, the event types
    (:func:`.metrics.event_types`), the events per day and the duplicate count."""
    q = quality
    top = types.iloc[0]
    busiest = per_day.loc[per_day["events"].idxmax()]
    days = (q.last_day - q.first_day).days + 1
    dropped = q.dropped_total
    return fill(
        "**In short.** The log holds **{events}** events from **{users}** users over **{days}** days "
        "({first} to {last}), {types} event types. The most common event is {top_event} "
        "({top_share} of users have it). The busiest day was {busy_day} with {busy_events} events. "
        "{dropped_text} {dups_text}",
        events=num(q.rows_kept), users=num(q.users), days=num(days),
        first=f"{q.first_day:%Y-%m-%d}", last=f"{q.last_day:%Y-%m-%d}", types=num(q.event_types),
        top_event=code(top["event"]), top_share=pct(top["share_users"]),
        busy_day=f"{busiest['day']:%Y-%m-%d}", busy_events=num(busiest["events"]),
        dropped_text=(f"{dropped:,} rows ({dropped / q.rows_read:.1%}) were dropped as invalid (see data quality)."
                      if dropped else "No row was dropped as invalid."),
        dups_text=_duplicates_text(duplicates),
    )
