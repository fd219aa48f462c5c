"""Mixpanel: the raw event export (``/api/2.0/export``), one JSON object per line with the
event's name in ``event`` and everything else, the user and the time included, in
``properties``.

Sources
-------
- Raw event export, https://docs.mixpanel.com/reference/raw-event-export ("complete with all
  event properties (including distinct_id) and the exact timestamp"; newline-delimited JSON,
  gzipped in transfer; ``time_in_ms`` exports milliseconds)
- Exporting raw data, https://mixpanel.com/help/reference/exporting-raw-data (``time`` is in
  seconds since 1970; for older projects it is "expressed in your project's timezone, not UTC")

Choices
-------
- **User**: ``properties.distinct_id``.
- **Time**: ``properties.time``, whole seconds since 1970-01-01 UTC (``data.time_unit: s``);
  an export made with ``time_in_ms=true`` needs ``data.time_unit: ms``. Projects created before
  2023 may export the project's wall-clock time counted as if it were UTC: set
  ``data.source_timezone: local`` and ``data.timezone`` to the project's time zone then.
- **Event**: ``event``.
- **Excluded**: ``$identify``, ``$create_alias`` and ``$merge`` (identity management calls of
  Mixpanel's ID merge), counted apart.
- **Properties**: ``properties`` (``properties.$city``, ``properties.mp_country_code``, your own
  event properties, ...).
"""

from __future__ import annotations

from . import Preset

PRESET = Preset(
    name="mixpanel",
    tool="Mixpanel",
    export="the raw event export (/api/2.0/export), saved as .jsonl or .json.gz",
    files="JSON lines, gzipped or not",
    user=("properties.distinct_id",),
    time="properties.time",
    time_unit="s",
    event=("event",),
    exclude_events=("$identify", "$create_alias", "$merge"),
    properties=("properties",),
    docs=("https://docs.mixpanel.com/reference/raw-event-export",
          "https://mixpanel.com/help/reference/exporting-raw-data"),
)
