"""Params: one YAML file per product, validated into typed, immutable models.

Unknown keys are errors that suggest the nearest valid key; wrong types name the key and what is
expected. Paths in ``data.source`` and ``data.users.source`` are resolved against the folder of
the YAML file, so a params file works from any working directory.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zoneinfo
from pathlib import Path
from typing import Any, Literal, Union
from collections.abc import Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..core import conditions
from ..errors import ParamsError
from .formats import PRESETS

__all__ = [
    "Params",
    "DataParams",
    "SourceSpec",
    "UsersParams",
    "EventConstant",
    "EventFilter",
    "StickinessParams",
    "RetentionParams",
    "KeyBehaviorParams",
    "FilteredCandidate",
    "LadderParams",
    "Rung",
    "LifecycleParams",
    "BreakdownParams",
    "BehaviourCohort",
    "RESERVED_PROPERTIES",
    "load_params",
    "params_from_dict",
]

_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
#: Columns of the kit's event rows (``EventLog.events``): a property may not take their names.
RESERVED_PROPERTIES = frozenset({"user_id", "ts", "day", "event", "active", "revenue", "n"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(_Model):
    """Where the events live, when a plain path is not enough.

    Exactly one of ``path`` (file, glob or folder), ``url`` (anything ``ibis.connect`` accepts),
    ``backend`` (an Ibis backend name such as ``duckdb`` or ``pyspark``, with ``options`` passed to
    its ``connect``) or ``demo`` (arguments of :func:`retention_kit.datasets.make_demo_log`).
    ``table`` names the table for ``url`` and ``backend`` sources and for DuckDB database files;
    ``backend`` with ``path`` instead has that engine read the files itself (Parquet or CSV, a file
    or a folder: ``{backend: pyspark, path: events.parquet}``).
    ``format`` is the file format when the suffix does not say it; ``delimiter`` and ``decimal``
    (``","`` for ``11,77``) are a CSV file's; ``sheet`` (a name, or a number from 0) is an Excel
    workbook's (default: the first sheet). docs/sources.md describes every key.
    """

    path: str | None = None
    url: str | None = None
    backend: str | None = None
    table: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    demo: dict[str, Any] | None = None
    format: Literal["csv", "parquet", "json", "xlsx", "duckdb"] | None = None
    delimiter: str | None = None
    decimal: Literal[".", ","] | None = None
    sheet: str | int | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "SourceSpec":
        kinds = [k for k in ("path", "url", "backend", "demo") if getattr(self, k) is not None]
        if kinds == ["path", "backend"]:
            # files the other engine reads itself ({backend: pyspark, path: events.parquet})
            kinds = ["backend"]
            if self.table:
                raise ValueError("a backend source reads either 'path' (files) or 'table', not both")
        if len(kinds) != 1:
            raise ValueError(
                "give exactly one of path, url, backend or demo "
                f"(got {', '.join(kinds) or 'none'})"
            )
        if self.demo is not None and self.table not in (None, "events", "users"):
            raise ValueError("a demo source's table is 'events' (default) or 'users'")
        if (self.url or self.backend) and not self.table and not (self.backend and self.path):
            raise ValueError("a url or backend source needs 'table': the name of the events table "
                             "(a backend source may name files with 'path' instead)")
        if self.decimal is not None and self.decimal == self.delimiter:
            raise ValueError(f"decimal and delimiter are both {self.decimal!r}; a file that writes 11,77 "
                             "separates its fields with another character, such as ';'")
        if isinstance(self.sheet, int) and self.sheet < 0:
            raise ValueError("sheet is a sheet's name, or its number counting from 0")
        return self


TimeUnit = Literal["s", "ms", "us", "ns"]


def _names(v: str | list[str]) -> tuple[str, ...]:
    return (v,) if isinstance(v, str) else tuple(v)


def _nonempty(v: Any, what: str) -> Any:
    if isinstance(v, list) and (not v or not all(isinstance(c, str) and c for c in v)):
        raise ValueError(f"give {what} as a column name, or a non-empty list of column names")
    return v


class UsersParams(_Model):
    """Optional users table: one row per user with a signup time and attributes. Column names
    may be dotted paths into nested fields (``user_properties.plan``). ``signup_time`` is
    optional: left out, the column ``signup_time`` is used when the table has one, else users
    start on their first active day (a table of attributes alone); ``null`` never reads one."""

    source: Union[str, SourceSpec]
    user: str = "user_id"
    signup_time: str | None = "signup_time"
    signup_time_unit: TimeUnit | None = None
    attributes: list[str] = Field(default_factory=list)


class EventConstant(_Model):
    """``data.event: {constant: purchase}``: every row of the source is one kind of event (a table
    of orders, transactions or logins has no event column)."""

    constant: str = Field(min_length=1)


class DataParams(_Model):
    """How to read the event log and what counts as activity (shared by every notebook).

    ``format`` names another tool's export (:mod:`retention_kit.data.formats`) and fills the
    ``user``, ``time`` and ``event`` keys left out. ``user`` and ``event`` may list several
    columns, the first not null or empty on a row counting; any column may be a dotted path into
    a nested field. docs/sources.md describes every key.
    """

    source: Union[str, SourceSpec, None] = None  # None: the events are passed to load_events(source=...)
    format: Literal["segment", "mixpanel", "amplitude", "posthog", "ga4"] | None = None
    user: str | list[str] = "user_id"
    time: str = "timestamp"
    time_unit: TimeUnit | None = None
    source_timezone: Literal["UTC", "local"] | None = None
    event: str | list[str] | EventConstant = "event"
    timezone: str = "UTC"
    week_start: Literal["monday", "sunday"] = "monday"
    active_events: list[str] | None = None
    exclude_events: list[str] = Field(default_factory=list)
    users: UsersParams | None = None
    valid_from: dt.date = dt.date(1990, 1, 1)
    valid_until: dt.date | None = None
    max_dropped_share: float = Field(0.05, ge=0, le=1)
    revenue: str | list[str] | None = None  # a column, or columns multiplied (e.g. [quantity, price])
    purchase_events: list[str] | None = None
    properties: list[str] = Field(default_factory=list)  # event columns kept for filters and breakdowns

    @field_validator("properties")
    @classmethod
    def _properties(cls, v: list[str]) -> list[str]:
        if any(not isinstance(c, str) or not c.strip() for c in v):
            raise ValueError("give each property as a column name or a dotted path (properties.plan)")
        clash = sorted(set(v) & RESERVED_PROPERTIES)
        if clash:
            raise ValueError(f"'{clash[0]}' is a column of the kit's own event rows; a property cannot take its "
                             "name (the event, user, time and revenue are read from their own keys)")
        return list(dict.fromkeys(v))

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, raw: Any) -> Any:
        # the preset fills the keys the params leave out, before anything is validated
        if isinstance(raw, dict) and isinstance(raw.get("format"), str) and raw["format"] in PRESETS:
            return PRESETS[raw["format"]].defaults(raw)
        return raw

    @field_validator("user", "event")
    @classmethod
    def _lists(cls, v: Any) -> Any:
        return _nonempty(v, "it")

    @property
    def user_columns(self) -> tuple[str, ...]:
        """The user id columns, in the order they are tried."""
        return _names(self.user)

    @property
    def event_columns(self) -> tuple[str, ...]:
        """The event name columns, in the order they are tried (none for a constant event)."""
        return () if isinstance(self.event, EventConstant) else _names(self.event)

    @property
    def event_constant(self) -> str | None:
        """The one event name of a ``{constant: ...}`` source, else None."""
        return self.event.constant if isinstance(self.event, EventConstant) else None

    @property
    def user_label(self) -> str:
        """The user column(s) as messages name them."""
        return ", ".join(self.user_columns)

    @property
    def event_label(self) -> str:
        """The event column(s) as messages name them."""
        return ", ".join(self.event_columns) if self.event_constant is None else f"constant '{self.event_constant}'"

    @field_validator("timezone")
    @classmethod
    def _tz_exists(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            near = difflib.get_close_matches(v, sorted(zoneinfo.available_timezones()), n=1)
            hint = f"; did you mean '{near[0]}'?" if near else " (use an IANA name such as 'Europe/Berlin')"
            raise ValueError(f"unknown timezone '{v}'{hint}") from None
        return v

    @model_validator(mode="after")
    def _columns_distinct(self) -> "DataParams":
        roles = {"user": self.user_columns, "time": (self.time,), "event": self.event_columns}
        seen: dict[str, str] = {}
        for role, cols in roles.items():
            for c in cols:
                if c in seen and seen[c] != role:
                    raise ValueError(f"user, time and event must be different columns, but '{c}' is both "
                                     f"{seen[c]} and {role}")
                seen[c] = role
        return self


class EventFilter(_Model):
    """An event whose properties pass a filter (:mod:`retention_kit.core.conditions`), where a
    list of events is asked for: ``{event: purchase, where: {amount: {gte: 50}}}`` as a start or
    return event of retention (``stickiness.retention.start_event``, ``.return_event``)."""

    event: str = Field(min_length=1)
    where: dict[str, Any]

    @model_validator(mode="after")
    def _filter(self) -> "EventFilter":
        conditions.validate_where(self.where, "where")
        return self

    @property
    def leaf(self) -> dict[str, Any]:
        """The filter as an event condition (:func:`retention_kit.core.conditions.leaves`)."""
        return {"event": self.event, "where": dict(self.where)}

    @property
    def label(self) -> str:
        """The filter as the exports and pages write it: ``purchase (amount ≥ 50)``."""
        return conditions.leaf_label(self.leaf)


class RetentionParams(_Model):
    """How the stickiness report builds cohorts and counts returns (``stickiness.retention``).

    ``start_event``: events that start a cohort (null: the user's start, i.e. signup from the
    users table, else first active day). ``return_event``: events that count as a return (null:
    any active event; when set, start events count only if listed). Each item of either list is
    an event name or a filtered event (:class:`EventFilter`, ``{event: purchase, where: {amount:
    {gte: 50}}}``: only those events count). ``cohorts``: ``first`` puts
    each user once, in the period of their start; ``recurring`` puts a user in the cohort of every
    period in which they did a start event (with ``start_event`` null: every period in which they
    were active). ``day_cohorts``: daily cohorts kept (those starting in the last N days of data);
    ``max_day``: daily cells kept (D0..D<max_day>). ``brackets``: day ranges since the start,
    inclusive, e.g. ``[[1, 1], [2, 7], [8, 14], [15, 30]]``; null: no bracket retention.
    """

    start_event: list[str | EventFilter] | None = None
    return_event: list[str | EventFilter] | None = None
    cohorts: Literal["first", "recurring"] = "first"
    day_cohorts: int = Field(90, gt=0, le=3660)
    max_day: int = Field(90, gt=0, le=3660)
    brackets: list[tuple[int, int]] | None = None

    @field_validator("start_event", "return_event", mode="before")
    @classmethod
    def _one_name(cls, v: Any) -> Any:
        # `start_event: signup` is one event, as a list of one (a lone filter likewise)
        return [v] if isinstance(v, (str, Mapping)) else v

    @field_validator("start_event", "return_event")
    @classmethod
    def _names(cls, v: list[str | EventFilter] | None) -> list[str | EventFilter] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("give at least one event name, or null for the default")
        if any(isinstance(n, str) and not n.strip() for n in v):
            raise ValueError("event names must not be blank")
        keyed = {n if isinstance(n, str) else conditions.leaf_key(n.leaf): n for n in v}
        return list(keyed.values())

    @field_validator("brackets")
    @classmethod
    def _brackets(cls, v: list[tuple[int, int]] | None) -> list[tuple[int, int]] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("give at least one bracket such as [1, 1], or null for none")
        prev = 0
        for lo, hi in v:
            if lo < 1 or hi < lo:
                raise ValueError(f"bracket [{lo}, {hi}]: give [first_day, last_day] with 1 <= first_day <= last_day "
                                 "(days since the start; day 0 is the start itself, always 100%)")
            if lo <= prev:
                raise ValueError(f"bracket [{lo}, {hi}] overlaps or precedes the one before it; list brackets in "
                                 "order, without overlaps, e.g. [[1, 1], [2, 7], [8, 14]]")
            prev = hi
        return v


def _no_previous(cond: dict[str, Any], where: str) -> None:
    if conditions.uses_previous(cond):
        raise ValueError(f"{where}: 'previous' looks at a period before; a behaviour cohort counts one window "
                         "since the start")


class BehaviourCohort(_Model):
    """A behaviour cohort: the users for whom ``when`` (a condition of
    :mod:`retention_kit.core.conditions`) holds over their first ``window_days`` days, counted from
    their start day (day 0 to day window_days - 1), e.g.
    ``{name: invited_3, when: {event: invite_friend, min: 3}, window_days: 7}``."""

    name: str = Field(min_length=1, max_length=80)
    when: dict[str, Any]
    window_days: int = Field(7, gt=0, le=3660)

    @model_validator(mode="after")
    def _cond(self) -> "BehaviourCohort":
        where = f"cohort '{self.name}'.when"
        conditions.validate(self.when, where)
        _no_previous(self.when, where)
        if self.name.startswith("first.") or self.name.startswith("("):
            raise ValueError(f"cohort name '{self.name}': names starting with 'first.' or '(' are taken")
        return self


class BreakdownParams(_Model):
    """A breakdown: every analysis split by one segment (docs/segments.md).

    ``by``: a users-table attribute (listed in ``data.users.attributes``), ``first.<property>``
    (the property of the user's first event; listed in ``data.properties``) or the name of a
    behaviour cohort of ``cohorts``. ``top``: the most common segments by users are kept, the rest
    become ``(other)``. ``min_segment_size``: the smallest segment a comparison may headline (or
    every user, when there are fewer); null: the section's ``min_cohort_size``. At the top level
    it applies to every report; a report's own section (``stickiness.breakdown``, ...) may
    override any of its keys (``by: null`` turns it off for that report).
    """

    by: str | None = None
    top: int = Field(8, gt=0, le=100)
    cohorts: list[BehaviourCohort] = Field(default_factory=list)
    min_segment_size: int | None = Field(None, gt=0)

    @field_validator("by")
    @classmethod
    def _by(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("give an attribute, first.<property> or a behaviour cohort name, or null")
        return v

    @model_validator(mode="after")
    def _unique(self) -> "BreakdownParams":
        names = [c.name for c in self.cohorts]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"cohorts: the name '{dup[0]}' is given twice; cohort names are unique")
        return self


class StickinessParams(_Model):
    """Options of the stickiness notebook.

    ``granularity``: the growth and retention views the page leads with (every granularity is
    exported). ``min_cohort_size``: the smallest cohort a headline may quote (or every user, when
    the log has fewer). ``trailing_days``: the windows of the active-days histogram ending on the
    last day of data (L7, L28, any n).
    """

    mau_window: Literal[28, 30] = 28
    granularity: Literal["day", "week", "month"] = "week"
    retention_mode: Literal["on", "on_or_after"] = "on"
    periods_shown: int = Field(12, gt=0, le=520)
    min_cohort_size: int = Field(100, gt=0)
    retention: RetentionParams = Field(default_factory=RetentionParams)
    trailing_days: list[int] = Field(default_factory=lambda: [7, 28])
    breakdown: BreakdownParams | None = None  # overrides the top-level breakdown for this report

    @field_validator("retention_mode", mode="before")
    @classmethod
    def _yaml_on(cls, v: Any) -> Any:
        # YAML 1.1 reads a bare `on` as true
        return "on" if v is True else v

    @field_validator("trailing_days")
    @classmethod
    def _windows(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("give at least one window length in days, e.g. [7, 28]")
        if any(n < 1 or n > 3660 for n in v):
            raise ValueError("window lengths are whole days from 1 to 3660")
        return sorted(set(v))


class FilteredCandidate(_Model):
    """A key-behaviour candidate that counts only the events whose properties pass a filter
    (:mod:`retention_kit.core.conditions`): ``{event: purchase, where: {amount: {gte: 50}}}``,
    judged like an event type under ``name`` (default: :func:`~retention_kit.core.conditions.leaf_label`,
    e.g. ``purchase (amount ≥ 50)``)."""

    event: str = Field(min_length=1)
    where: dict[str, Any]
    name: str | None = Field(None, min_length=1, max_length=80)

    @model_validator(mode="after")
    def _filter(self) -> "FilteredCandidate":
        conditions.validate_where(self.where, "where")
        return self

    @property
    def label(self) -> str:
        """The candidate's name in the tables and on the page: ``name``, else the filter in words."""
        return self.name if self.name is not None else conditions.leaf_label(self.leaf)

    @property
    def leaf(self) -> dict[str, Any]:
        """The candidate as an event condition (:func:`retention_kit.core.conditions.leaves`)."""
        return {"event": self.event, "where": dict(self.where)}


class KeyBehaviorParams(_Model):
    """Options of the key-behaviour notebook; windows are in days since the user's start day.
    ``candidates``: filtered candidates (:class:`FilteredCandidate`), judged besides every event
    type; their names are unique and no event's (checked against the log at load)."""

    window_days: int = Field(7, gt=0)
    outcome_start: int = Field(14, ge=0)
    outcome_end: int = Field(28, gt=0)
    max_threshold: int = Field(10, gt=0, le=100)
    exclude: list[str] = Field(default_factory=list)
    power_user_days: int = Field(8, gt=0, le=28)
    segment_attributes: list[str] = Field(default_factory=list)
    window_scan: list[int] = Field(default_factory=lambda: [1, 3, 7, 10, 14])
    candidates: list[FilteredCandidate] = Field(default_factory=list)
    breakdown: BreakdownParams | None = None  # overrides the top-level breakdown for this report

    @model_validator(mode="after")
    def _windows(self) -> "KeyBehaviorParams":
        if self.outcome_end <= self.outcome_start:
            raise ValueError(
                f"outcome_end ({self.outcome_end}) must be greater than outcome_start "
                f"({self.outcome_start})"
            )
        if self.outcome_start < self.window_days:
            raise ValueError(
                f"the outcome window [{self.outcome_start}, {self.outcome_end}) overlaps the "
                f"behaviour window [0, {self.window_days}): retention would count as its own "
                f"cause; set outcome_start >= window_days"
            )
        if any(w <= 0 for w in self.window_scan):
            raise ValueError("window_scan values must be positive numbers of days")
        names: dict[str, int] = {}
        filters: dict[str, int] = {}
        for i, c in enumerate(self.candidates):
            key = f"key_behaviors.candidates[{i}]"
            if c.event in self.exclude:
                raise ValueError(f"{key}.event: '{c.event}' is listed in key_behaviors.exclude; remove one of the two")
            label = c.label
            if label.startswith("__"):
                raise ValueError(f"{key}.name: names starting with '__' are the kit's (such as __active_days__)")
            same = conditions.leaf_key(c.leaf)
            if same in filters:
                raise ValueError(f"{key}: the same event and filter as key_behaviors.candidates[{filters[same]}]; "
                                 "list each filter once")
            if label.casefold() in names:
                raise ValueError(f"{key}.name: '{label}' is also the name of key_behaviors.candidates"
                                 f"[{names[label.casefold()]}]; give each candidate its own name")
            names[label.casefold()], filters[same] = i, i
        return self


class Rung(_Model):
    """One rung of the Ladder of Engagement; ``when`` is a condition (:mod:`retention_kit.core.conditions`)."""

    name: str = Field(min_length=1, max_length=80)
    when: dict[str, Any]

    @model_validator(mode="after")
    def _cond(self) -> "Rung":
        conditions.validate(self.when, f"rung '{self.name}'.when")
        return self


class LadderParams(_Model):
    """The Ladder of Engagement, lowest rung first; Inactive is implicit below them.

    Conditions: ``{event: NAME, min: N}`` (count in the period), ``{active_days: N}`` (distinct
    active days in the period), combined with ``{all: [...]}`` / ``{any: [...]}``;
    ``{previous: CONDITION}`` holds when CONDITION held in the user's previous period. Without
    rungs the default frequency ladder is used. The headline compares only cohorts of at least
    ``min_cohort_size`` users (default 100, or all users when the log has fewer).
    """

    period: Literal["week", "month"] = "week"
    rungs: list[Rung] | None = None
    recent_periods: int = Field(8, gt=0)
    min_cohort_size: int = Field(100, gt=0)
    breakdown: BreakdownParams | None = None  # overrides the top-level breakdown for this report

    @model_validator(mode="after")
    def _unique(self) -> "LadderParams":
        if self.rungs is not None:
            if not self.rungs:
                raise ValueError("rungs: give at least one rung, or leave it out for the default")
            seen: set[str] = set()
            for r in self.rungs:
                key = r.name.strip().casefold()
                if key in seen or key in {"inactive", "active (other)"}:
                    raise ValueError(
                        f"rungs: duplicate or reserved rung name '{r.name}'; names must be unique "
                        "and not 'Inactive' or 'Active (other)'"
                    )
                seen.add(key)
        return self


class LifecycleParams(_Model):
    """Lifecycle thresholds in days (``None`` derives them from the data; always new_days <
    silent_days < churned_days), the at-risk factor, and the smallest group of buyers the summary
    compares (``min_cohort_size``: default 100, or all buyers when there are fewer)."""

    new_days: int | None = Field(None, gt=0)
    silent_days: int | None = Field(None, gt=0)
    churned_days: int | None = Field(None, gt=0)
    at_risk_factor: float = Field(2.0, gt=0)
    min_cohort_size: int = Field(100, gt=0)
    breakdown: BreakdownParams | None = None  # overrides the top-level breakdown for this report

    @model_validator(mode="after")
    def _order(self) -> "LifecycleParams":
        given = [(k, getattr(self, k)) for k in ("new_days", "silent_days", "churned_days") if getattr(self, k)]
        for (lo, a), (hi, b) in zip(given, given[1:]):
            if b <= a:
                raise ValueError(f"{hi} ({b}) must exceed {lo} ({a}): new_days < silent_days < churned_days")
        return self


class Params(_Model):
    """All params of one product. ``base_dir`` is the YAML file's folder (for relative paths)."""

    product: str
    title: str = ""
    language: Literal["en", "zh-TW", "zh-CN"] = "en"  # the report's language (retention_kit.core.i18n)
    data: DataParams
    show_user_ids: bool = False
    stickiness: StickinessParams = Field(default_factory=StickinessParams)
    key_behaviors: KeyBehaviorParams = Field(default_factory=KeyBehaviorParams)
    ladder: LadderParams = Field(default_factory=LadderParams)
    lifecycle: LifecycleParams = Field(default_factory=LifecycleParams)
    breakdown: BreakdownParams | None = None  # every report split by a segment (docs/segments.md)
    base_dir: str = "."

    @field_validator("product")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError(
                f"product slug {v!r} may hold only letters, digits, '-' and '_' (it names output "
                "folders), e.g. 'notes-app'"
            )
        return v

    @property
    def display_title(self) -> str:
        return self.title or self.product

    def breakdown_for(self, section: str | None = None) -> BreakdownParams | None:
        """The breakdown in force for a report's ``section`` (``stickiness``, ``key_behaviors``,
        ``ladder``, ``lifecycle``): the top-level ``breakdown`` with the keys the section's own
        ``breakdown`` sets in their place (its cohorts added to the top level's, replacing those
        of the same name); None when no ``by`` is in force.

        Examples
        --------
        >>> params.breakdown_for("stickiness") is None  # the demo sets no breakdown
        True
        """
        top = self.breakdown or BreakdownParams()
        own = getattr(getattr(self, section, None), "breakdown", None) if section else None
        if own is not None:
            merged = top.model_dump()
            merged.update({k: getattr(own, k) for k in own.model_fields_set if k != "cohorts"})
            if "cohorts" in own.model_fields_set:
                mine = {c.name for c in own.cohorts}
                merged["cohorts"] = [c for c in top.cohorts if c.name not in mine] + list(own.cohorts)
            else:
                merged["cohorts"] = list(top.cohorts)
            top = BreakdownParams.model_validate(
                {**merged, "cohorts": [c if isinstance(c, dict) else c.model_dump() for c in merged["cohorts"]]})
        return top if top.by is not None else None

    def _conditions(self) -> list[tuple[str, dict[str, Any]]]:
        """Every condition the params hold, with its key: rungs, filtered key-behaviour candidates
        and behaviour cohorts (top level and sections)."""
        out: list[tuple[str, dict[str, Any]]] = [(f"ladder.rungs['{r.name}'].when", dict(r.when))
                                                 for r in self.ladder.rungs or ()]
        out += [(f"key_behaviors.candidates[{i}]", c.leaf) for i, c in enumerate(self.key_behaviors.candidates)]
        rp = self.stickiness.retention
        for name, items in (("start_event", rp.start_event), ("return_event", rp.return_event)):
            out += [(f"stickiness.retention.{name}[{i}]", e.leaf) for i, e in enumerate(items or ())
                    if isinstance(e, EventFilter)]
        for where, bp in (("breakdown", self.breakdown), *((f"{s}.breakdown", getattr(self, s).breakdown)
                                                            for s in _SECTIONS)):
            for c in bp.cohorts if bp is not None else ():
                out.append((f"{where}.cohorts['{c.name}'].when", dict(c.when)))
        return out

    @model_validator(mode="after")
    def _cross(self) -> "Params":
        props = set(self.data.properties)
        for key, cond in self._conditions():
            for prop in conditions.properties(cond):
                if prop not in props:
                    raise ValueError(f"{key}: the filter reads property '{prop}', which is not listed in "
                                     f"data.properties (listed: {', '.join(sorted(props)) or 'none'}); add it there")
        attrs = list(self.data.users.attributes) if self.data.users is not None else []
        for section in (None, *_SECTIONS):
            bp = self.breakdown_for(section)
            if bp is None:
                continue
            where = f"{section}.breakdown.by" if section and getattr(self, section).breakdown is not None \
                and "by" in getattr(self, section).breakdown.model_fields_set else "breakdown.by"
            for c in bp.cohorts:
                if c.name in attrs:
                    raise ValueError(f"{where}: cohort '{c.name}' has the name of a users-table attribute; rename it")
            check_breakdown(bp.by, attributes=attrs, properties=list(props), cohorts=[c.name for c in bp.cohorts],
                            key=where)
        return self

    def event_names(self) -> list[tuple[str, list[str]]]:
        """Every event name the params use, with the key that names it: activity, exclusions,
        purchases, retention's start and return events, the key-behaviour exclusions and the
        ladder's conditions. Loading checks each against the log
        (:func:`retention_kit.data.names.require_params_events`): a name that matches no event is
        an error, never a silent zero.

        Examples
        --------
        >>> [k for k, _ in params.event_names()][:3]
        ['data.exclude_events', 'data.purchase_events', "ladder.rungs['Saver'].when"]
        """
        d = self.data
        out: list[tuple[str, list[str]]] = []
        excluded = d.exclude_events
        if d.format and list(excluded) == list(PRESETS[d.format].exclude_events):
            excluded = []  # the preset's bookkeeping calls: an export need not hold every one of them
        for key, names in (("data.active_events", d.active_events), ("data.exclude_events", excluded),
                           ("data.purchase_events", d.purchase_events),
                           ("stickiness.retention.start_event",
                            [n for n in self.stickiness.retention.start_event or () if isinstance(n, str)]),
                           ("stickiness.retention.return_event",
                            [n for n in self.stickiness.retention.return_event or () if isinstance(n, str)]),
                           ("key_behaviors.exclude", self.key_behaviors.exclude)):
            if names:
                out.append((key, list(names)))
        for key, cond in self._conditions():
            names = conditions.events(cond)
            if names:
                out.append((key, names))
        return out

    def resolve(self, path: str) -> str:
        """A path from the params, resolved against the YAML file's folder (URLs untouched)."""
        if "://" in path:
            return path
        p = Path(path).expanduser()
        return str(p if p.is_absolute() else (Path(self.base_dir) / p).resolve())


_SECTIONS = ("stickiness", "key_behaviors", "ladder", "lifecycle")


def check_breakdown(by: str, *, attributes: list[str], properties: list[str], cohorts: list[str], key: str) -> None:
    """Raise ``ValueError`` unless ``by`` names a users-table attribute, ``first.<property>`` of a
    listed property, or a behaviour cohort; the message lists what it could name.

    Examples
    --------
    >>> check_breakdown("first.platform", attributes=["plan"], properties=["platform"], cohorts=[], key="breakdown.by")
    >>> check_breakdown("pln", attributes=["plan"], properties=[], cohorts=["invited_3"], key="breakdown.by")
    Traceback (most recent call last):
    ...
    ValueError: breakdown.by: 'pln' is no users-table attribute, first-event property or behaviour cohort; did you mean 'plan'? (it can be: plan, invited_3)
    """
    if by.startswith("first."):
        prop = by[len("first."):]
        if prop in properties:
            return
        raise ValueError(f"{key}: '{by}' splits by the first event's '{prop}', which is not listed in data.properties "
                         f"(listed: {', '.join(properties) or 'none'}); add it there")
    if by in attributes or by in cohorts:
        return
    options = [*attributes, *(f"first.{p}" for p in properties), *cohorts]
    near = difflib.get_close_matches(by, options, n=1, cutoff=0.5)
    hint = f"; did you mean '{near[0]}'?" if near else ""
    why = "" if options else ": list attributes under data.users.attributes, properties under data.properties, " \
                             "or define cohorts under breakdown.cohorts"
    raise ValueError(f"{key}: '{by}' is no users-table attribute, first-event property or behaviour cohort{hint}"
                     + (f" (it can be: {', '.join(options)})" if options else why))


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The valid field names of the model reached by following ``loc`` (best effort)."""
    cur: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(cur, type) and issubclass(cur, BaseModel)):
            continue
        field = cur.model_fields.get(part)
        if field is None:
            break
        ann = field.annotation
        nxt = None
        for cand in getattr(ann, "__args__", ()) + (ann,):
            inner = getattr(cand, "__args__", ())
            for c in (cand, *inner):
                if isinstance(c, type) and issubclass(c, BaseModel):
                    nxt = c
        cur = nxt if nxt is not None else cur
    if isinstance(cur, type) and issubclass(cur, BaseModel):
        return [f for f in cur.model_fields if f != "base_dir"]
    return []


def _clean_loc(loc: tuple) -> tuple:
    # pydantic adds union-member tags (e.g. 'str', 'SourceSpec') to locations; users never wrote them
    return tuple(p for p in loc if not (isinstance(p, str) and (p == "str" or p[:1].isupper() or "[" in p)))


def _describe(err: ValidationError, origin: str) -> str:
    lines = []
    errors = err.errors()
    locs = [_clean_loc(e["loc"]) for e in errors]
    for e, loc in zip(errors, locs):
        # a union's "not a string" is noise when a deeper error explains the same key
        if e["type"] == "string_type" and any(len(o) > len(loc) and o[: len(loc)] == loc for o in locs):
            continue
        key = ".".join(str(p) for p in loc) or "(top level)"
        if e["type"] == "extra_forbidden":
            name = str(loc[-1])
            valid = _fields_at(Params, loc[:-1])
            near = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
            hint = f"; did you mean '{near[0]}'?" if near else f" (valid keys: {', '.join(valid)})"
            lines.append(f"unknown key '{key}'{hint}")
        elif e["type"] == "missing":
            lines.append(f"missing required key '{key}'")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            got = e.get("input")
            shown = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
            lines.append(f"'{key}': {msg}{shown}")
    # keep the message one readable line per problem, most useful first, no duplicates
    uniq = list(dict.fromkeys(lines))
    return f"invalid params in {origin}: " + "; ".join(uniq[:5])


def params_from_dict(raw: dict[str, Any], *, base_dir: str | Path = ".", origin: str = "params") -> Params:
    """Validate a params mapping (as read from YAML) into :class:`Params`.

    Raises
    ------
    ParamsError
        Naming the key, what is wrong and (for unknown keys) the nearest valid key.
    """
    if not isinstance(raw, dict):
        raise ParamsError(f"{origin}: expected a mapping of keys (product, title, data, ...)")
    if "base_dir" in raw:
        raise ParamsError(f"{origin}: 'base_dir' is set by the kit; remove it")
    try:
        return Params.model_validate({**raw, "base_dir": str(Path(base_dir).resolve())})
    except ValidationError as e:
        raise ParamsError(_describe(e, origin)) from None


class _DuplicateKey(yaml.YAMLError):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (YAML would keep the last one
    silently, so a pasted second ``product:`` or ``data:`` would quietly win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                continue  # the base loader reports unhashable keys
            if key in seen:
                raise _DuplicateKey(f"key '{key}' appears twice (line {key_node.start_mark.line + 1}); keep one")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_params(path: str | Path, *, overrides: dict[str, Any] | None = None) -> Params:
    """Read and validate a product's params YAML.

    Parameters
    ----------
    path
        The YAML file. Relative paths inside it are resolved against its folder.
    overrides
        Dotted keys to replace before validation, e.g. ``{"stickiness.mau_window": 30}``.

    Examples
    --------
    >>> from retention_kit.reporting.report import DEMO_PARAMS  # the packaged demo product
    >>> params = load_params(DEMO_PARAMS, overrides={"stickiness.mau_window": 30})
    >>> params.product, params.data.timezone, params.stickiness.mau_window
    ('demo', 'UTC', 30)
    """
    p = Path(path)
    if p.is_dir():
        raise ParamsError(f"{p} is a folder; give the path of a product's YAML file (e.g. {p / 'demo.yaml'})")
    if not p.is_file():
        raise ParamsError(f"params file not found: {p} (give the path of a product's YAML file)")
    try:
        raw = yaml.load(p.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except _DuplicateKey as e:
        raise ParamsError(f"{p}: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ParamsError(f"{p}: not valid YAML{where}: {getattr(e, 'problem', e)}") from None
    except UnicodeDecodeError:
        raise ParamsError(f"{p}: not UTF-8 text; save the params file as UTF-8") from None
    raw = dict(raw or {}) if isinstance(raw, dict) or raw is None else raw
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        *parents, leaf = dotted.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ParamsError(f"override {dotted!r}: '{part}' is not a section")
        node[leaf] = value
    return params_from_dict(raw, base_dir=p.parent, origin=str(p))
