"""What the data overview says in words: its summary, and its tables and notes as a page shows
them (the exported frames keep their English columns and values; only the page is translated)."""

from __future__ import annotations

import re

import pandas as pd

from ...core.i18n import t
from ...core.text import Raw, code, fill, num, pct
from ...data.log import DataQuality
from ...data.rules import DROP_RULES
from .metrics import OTHER, Duplicates

__all__ = ["summary", "quality_shown", "types_shown", "timezone_note"]


def _duplicates_text(d: Duplicates) -> str:
    text = t("overview.summary.exact", rows=num(d.exact)) if d.exact else t("overview.summary.no_exact")
    if d.same_key:
        text += t("overview.summary.same_key", rows=num(d.same_key))
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
        t("overview.summary"),
        events=num(q.rows_kept), users=num(q.users), days=num(days),
        first=f"{q.first_day:%Y-%m-%d}", last=f"{q.last_day:%Y-%m-%d}", types=num(q.event_types),
        top_event=code(top["event"]), top_share=pct(top["share_users"]),
        busy_day=f"{busiest['day']:%Y-%m-%d}", busy_events=num(busiest["events"]),
        dropped_text=(t("overview.summary.dropped", rows=num(dropped), share=pct(dropped / q.rows_read, 1))
                      if dropped else t("overview.summary.no_dropped")),
        dups_text=_duplicates_text(duplicates),
    )


def _rule_pattern(reason: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", reason)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)) + "$")


_RULES = tuple((rule.name, _rule_pattern(rule.reason)) for rule in DROP_RULES)
_CHECKS = {"rows read": "overview.check.rows_read", "excluded by data.exclude_events": "overview.check.excluded",
           "rows kept": "overview.check.rows_kept",
           "exact duplicate rows, equal in every column (kept)": "overview.check.exact",
           "same user, time and event, other columns differ (kept, not duplicates)": "overview.check.same_key"}


def _check_label(check: str) -> str:
    if check in _CHECKS:
        return t(_CHECKS[check])
    if check.startswith("dropped: "):
        reason = check.removeprefix("dropped: ")
        for name, pattern in _RULES:
            m = pattern.match(reason)
            if m:
                return t("overview.check.dropped", reason=t(f"overview.drop.{name}", **m.groupdict()))
    return check


def quality_shown(quality: pd.DataFrame) -> pd.DataFrame:
    """The data-quality table (:func:`.metrics.quality_table`) as the page shows it: its checks in
    the report language (the CSV export keeps them as they are)."""
    return quality.assign(check=quality["check"].map(_check_label))


def types_shown(types: pd.DataFrame) -> pd.DataFrame:
    """The event types table (:func:`.metrics.event_types`) as the page shows it: event names as
    in the data; the grouped row's label and the activity flag in the report language."""
    counts = types["event"].str.extract(r"^" + re.escape(OTHER[:-1]) + r": ([\d,]+) types\)$", expand=False)
    out = types.assign(event=types["event"].where(counts.isna(), counts.map(
        lambda n: t("overview.other_events", types=n) if isinstance(n, str) else n)))
    if "active" in out:
        # "active" here says whether the event counts as activity (elsewhere: a count of active users)
        out["active"] = out["active"].map(lambda a: t("common.true") if a else t("common.false"))
        out = out.rename(columns={"active": t("overview.column.active")})
    return out


def timezone_note(timezone: str) -> str:
    """How times are read, for the data-quality section."""
    return t("overview.note.timezone", timezone=timezone)
