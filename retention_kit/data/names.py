"""Names that params give for values of the data (event names, for now) must exist in it.

One check for every params key that lists such names: :func:`check_names` compares a list with
the values the data holds and raises a :class:`~retention_kit.errors.DataError` naming the key,
each unknown name, its nearest existing names and the fix; :func:`require_events` applies it to
a loaded log's event names (:func:`event_names`, cached on the log). A name that the params
exclude (``data.exclude_events``) is reported as excluded, not as a typo.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..core import conditions
from ..errors import DataError, ParamsError
from .engine import fetch
from .log import EventLog

__all__ = ["check_names", "event_names", "require_events", "require_params_events", "require_new_names",
           "require_properties"]


def check_names(names: Sequence[str] | None, known: Iterable[str], *, key: str, what: str = "event",
                where: str = "", excluded: Iterable[str] = ()) -> None:
    """Raise :class:`DataError` when a name in ``names`` is not in ``known``.

    The message names ``key``, every unknown name with up to three nearest existing names
    (:func:`difflib.get_close_matches`, which also catches a different case), ``where`` the
    names were looked for (e.g. "in column 'event' of the 1,234 valid rows") and the fix. Names
    in ``excluded`` are said to be excluded by ``data.exclude_events``.

    Examples
    --------
    >>> check_names(["open"], ["open", "close"], key="stickiness.retention.start_event")
    >>> try:
    ...     check_names(["Opne"], ["open", "close"], key="stickiness.retention.start_event")
    ... except DataError as e:
    ...     print(e)
    stickiness.retention.start_event: 'Opne' matches no event (nearest: 'open'); event names are case-sensitive: use names as the data writes them
    """
    if not names:
        return
    have = set(known)
    excl = set(excluded)
    bad = [n for n in dict.fromkeys(names) if n not in have]
    if not bad:
        return
    # matched without case, so 'Signup' finds 'signup'; shown as the data writes them
    folded: dict[str, list[str]] = {}
    for p in sorted(have):
        folded.setdefault(p.casefold(), []).append(p)
    parts = []
    for n in bad:
        if n in excl:
            parts.append(f"'{n}' is removed by data.exclude_events")
            continue
        close = difflib.get_close_matches(n.casefold(), list(folded), n=3, cutoff=0.6)
        near = [p for f in close for p in folded[f]]
        hint = f" (nearest: {', '.join(repr(p) for p in near[:3])})" if near else ""
        parts.append(f"'{n}' matches no {what}{hint}")
    loc = f" {where}" if where else ""
    raise DataError(f"{key}: {'; '.join(parts)}{loc}; {what} names are case-sensitive: use names as the data "
                    "writes them")


def event_names(log: EventLog) -> tuple[str, ...]:
    """The distinct event names of the loaded log (after ``data.exclude_events``), sorted."""
    d = log.daily
    return log.memoized(("names.events",),
                        lambda: tuple(sorted(str(e) for e in fetch(d.select("event").distinct())["event"])))


def require_events(log: EventLog, names: Sequence[str] | None, *, key: str) -> None:
    """:func:`check_names` of ``names`` (the value of params key ``key``) against the log's
    events; nothing to check when ``names`` is None or empty.

    Examples
    --------
    >>> require_events(log, ["app_open"], key="stickiness.retention.return_event")
    >>> require_events(log, ["app_opened"], key="stickiness.retention.return_event")
    Traceback (most recent call last):
    ...
    retention_kit.errors.DataError: stickiness.retention.return_event: 'app_opened' matches no event (nearest: 'app_open') in column 'event' of the ... valid rows; ...
    """
    if not names:
        return
    check_names(names, event_names(log), key=key,
                where=f"in column '{log.params.event_label}' of the {log.quality.rows_kept:,} valid rows",
                excluded=log.params.exclude_events)


def require_params_events(log: EventLog, wanted: Sequence[tuple[str, Sequence[str]]]) -> None:
    """:func:`check_names` of every (params key, names) pair in ``wanted`` (what
    :meth:`retention_kit.data.Params.event_names` lists) against the log: ``data.exclude_events``
    against the source's names before exclusion (its rows are removed at load, but counted per
    name), every other key against the log's events. Loading calls it, so ``retention-kit check``
    fails (exit 2) on a name that matches no event.

    Examples
    --------
    >>> require_params_events(log, params.event_names())
    >>> require_params_events(log, [("data.purchase_events", ["purchse"])])
    Traceback (most recent call last):
    ...
    retention_kit.errors.DataError: data.purchase_events: 'purchse' matches no event (nearest: 'purchase'...
    """
    where = f"in column '{log.params.event_label}' of the {log.quality.rows_kept:,} valid rows"
    for key, names in wanted:
        if key == "data.exclude_events":
            removed = {e for e, n in log.quality.excluded_events.items() if n}
            check_names(names, set(event_names(log)) | removed, key=key, where=where)
        else:
            check_names(names, event_names(log), key=key, where=where, excluded=log.params.exclude_events)


def require_properties(log: EventLog, leaf: Mapping[str, Any], *, key: str) -> None:
    """Raise :class:`ParamsError` when a property filter (:mod:`retention_kit.core.conditions`)
    reads a property the log does not carry (not listed in ``data.properties``): what the params
    check at load, for conditions given from Python.

    Examples
    --------
    >>> require_properties(log, {"event": "share", "where": {"platform": "ios"}}, key="x")
    Traceback (most recent call last):
    ...
    retention_kit.errors.ParamsError: x: the filter reads property 'platform', which is not listed in data.properties (listed: none); add it there
    """
    props = list(log.params.properties)
    missing = [p for p in conditions.properties(leaf) if p not in props]
    if missing:
        raise ParamsError(f"{key}: the filter reads property '{missing[0]}', which is not listed in data.properties "
                          f"(listed: {', '.join(sorted(props)) or 'none'}); add it there")


def require_new_names(log: EventLog, named: Sequence[tuple[str, str]]) -> None:
    """Raise :class:`ParamsError` when a name the params give to something new (a filtered
    key-behaviour candidate) is already an event's: the two would share one ``event`` value in
    the exports. ``named`` holds (params key, name) pairs.

    Examples
    --------
    >>> require_new_names(log, [("key_behaviors.candidates[0].name", "share (platform = ios)")])
    >>> require_new_names(log, [("key_behaviors.candidates[0].name", "share")])
    Traceback (most recent call last):
    ...
    retention_kit.errors.ParamsError: key_behaviors.candidates[0].name: 'share' is the name of an event of the log; give the candidate another name
    """
    have = set(event_names(log))
    for key, name in named:
        if name in have:
            raise ParamsError(f"{key}: '{name}' is the name of an event of the log; give the candidate another name")
