"""Google Analytics 4: the BigQuery export's ``events_YYYYMMDD`` tables, extracted to Parquet or
to newline-delimited JSON (``bq extract`` or ``EXPORT DATA``).

Sources
-------
- [GA4] BigQuery Export schema, https://support.google.com/analytics/answer/7029846
  (``event_timestamp``: microseconds since 1970 UTC; ``event_name``; ``event_params`` and
  ``user_properties``: repeated records of ``key`` and ``value`` with ``string_value``,
  ``int_value``, ``float_value``, ``double_value``; ``user_id``; ``user_pseudo_id``;
  ``event_date`` in the property's time zone)
- Export table data, https://cloud.google.com/bigquery/docs/exporting-data (in JSON, INT64
  values "are encoded as JSON strings to preserve 64-bit precision"; they are read back as
  whole numbers)

Choices
-------
- **User**: ``user_pseudo_id`` (the device or browser instance); ``data.user: user_id`` counts
  signed-in users instead (rows without a ``user_id`` are then dropped and counted).
- **Time**: ``event_timestamp``, microseconds since 1970 UTC (``data.time_unit: us``), converted
  to ``data.timezone``: set it to the property's time zone for days that match GA4's
  ``event_date``.
- **Event**: ``event_name``.
- **Excluded**: nothing (``session_start``, ``first_visit`` and ``user_engagement`` are
  collected automatically and count as activity; list them under ``data.exclude_events`` to
  count only your own events).
- **Properties**: ``event_params`` and ``user_properties`` (a dotted path such as
  ``event_params.value`` means the value of the parameter with that key, whichever of the four
  value fields holds it), ``device``, ``geo``, ``traffic_source``, ``ecommerce``. Revenue:
  ``data.revenue: ecommerce.purchase_revenue`` or ``event_params.value``.
"""

from __future__ import annotations

from . import Preset

PRESET = Preset(
    name="ga4",
    tool="Google Analytics 4",
    export="the BigQuery export's events_* tables, extracted to Parquet or JSON lines",
    files="Parquet, or JSON lines gzipped or not",
    user=("user_pseudo_id",),
    time="event_timestamp",
    time_unit="us",
    event=("event_name",),
    properties=("event_params", "user_properties", "device", "geo", "traffic_source", "ecommerce"),
    docs=("https://support.google.com/analytics/answer/7029846",
          "https://cloud.google.com/bigquery/docs/exporting-data"),
)
