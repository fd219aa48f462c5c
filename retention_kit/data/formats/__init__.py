"""Presets for the exports of other analytics tools: ``data.format: segment | mixpanel |
amplitude | posthog | ga4``.

A preset says which fields of the tool's documented export shape hold the user, the time (with
its unit and zone) and the event, which events are bookkeeping rather than user actions, and
which fields hold properties (for breakdowns and filters). It only fills the ``data`` keys the
params leave out: explicit keys always win, and the time's unit and zone come with the preset's
time field only (a ``data.time`` of your own is read on its own terms). One module per tool
cites the pages the shape was taken from.

Examples
--------
>>> from retention_kit.data.formats import PRESETS
>>> PRESETS["segment"].user, PRESETS["ga4"].time_unit
(('userId', 'anonymousId'), 'us')
>>> filled = PRESETS["ga4"].defaults({"source": "events.parquet", "format": "ga4", "user": "user_id"})
>>> filled["user"], filled["time"], filled["event"]
('user_id', 'event_timestamp', 'event_name')
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["Preset", "PRESETS", "NAMES"]


@dataclasses.dataclass(frozen=True)
class Preset:
    """One tool's export shape, as the kit reads it.

    ``user`` and ``event`` list fields in order: the first that is not null or empty on a row is
    used (Segment's ``userId``, else ``anonymousId``). ``time_unit`` is the unit of an epoch
    time field (None: text or a timestamp); ``source_timezone`` the zone of times written without
    an offset (``"UTC"``; None: the kit's default, see ``data.source_timezone``).
    ``exclude_events`` are identity and bookkeeping calls, counted apart from user actions;
    ``properties`` are the fields that hold event and user properties (nested: name a property
    with a dotted path such as ``properties.plan``).
    """

    name: str
    tool: str
    export: str
    files: str
    user: tuple[str, ...]
    time: str
    event: tuple[str, ...]
    time_unit: str | None = None
    source_timezone: str | None = None
    exclude_events: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()

    def defaults(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` (a params ``data`` mapping) with the keys it leaves out filled from the preset."""
        out = dict(data)
        out.setdefault("user", _one(self.user))
        out.setdefault("event", _one(self.event))
        if "time" not in out:
            out["time"] = self.time
            if self.time_unit is not None:
                out.setdefault("time_unit", self.time_unit)
            if self.source_timezone is not None:
                out.setdefault("source_timezone", self.source_timezone)
        if self.exclude_events:
            out.setdefault("exclude_events", list(self.exclude_events))
        return out


def _one(fields: tuple[str, ...]) -> str | list[str]:
    return fields[0] if len(fields) == 1 else list(fields)


from . import amplitude, ga4, mixpanel, posthog, segment  # noqa: E402  (the modules use Preset)

#: The presets by ``data.format`` name, in the order the docs list them.
PRESETS: dict[str, Preset] = {m.PRESET.name: m.PRESET for m in (segment, mixpanel, amplitude, posthog, ga4)}
NAMES: tuple[str, ...] = tuple(PRESETS)
