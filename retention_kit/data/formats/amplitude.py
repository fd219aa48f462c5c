"""Amplitude: the Export API's (or the Amazon S3 export's) events, a zip of gzipped JSON files
with one event per line; unzip it and point ``data.source`` at the folder.

Sources
-------
- Export API, https://amplitude.com/docs/apis/analytics/export ("the response is a zipped
  archive of JSON files"; ``user_id``, ``device_id``, ``event_type``, ``event_time`` as a UTC
  ISO-8601 timestamp, ``event_properties``, ``user_properties``, ``group_properties``)
- Amazon S3 export, https://amplitude.com/docs/data/destination-catalog/amazon-s3 (the same
  columns; times such as ``2015-08-10T12:00:00.000000``, in UTC without an offset)

Choices
-------
- **User**: ``user_id``, else ``device_id`` (Amplitude requires one of the two on every event).
  Amplitude's own charts count ``amplitude_id``, which merges a user's devices: set
  ``data.user: amplitude_id`` to count the same way.
- **Time**: ``event_time``, text in UTC without an offset (``data.source_timezone: UTC``),
  converted to ``data.timezone``.
- **Event**: ``event_type``.
- **Excluded**: nothing; user-property updates through the Identify API are not events.
- **Properties**: ``event_properties``, ``user_properties``, ``group_properties``, and the
  top-level device and location fields (``platform``, ``country``, ``city``, ...).
"""

from __future__ import annotations

from . import Preset

PRESET = Preset(
    name="amplitude",
    tool="Amplitude",
    export="the Export API's zip (or the S3 export), unzipped to a folder of .json.gz files",
    files="JSON lines, gzipped or not",
    user=("user_id", "device_id"),
    time="event_time",
    source_timezone="UTC",
    event=("event_type",),
    properties=("event_properties", "user_properties", "group_properties"),
    docs=("https://amplitude.com/docs/apis/analytics/export",
          "https://amplitude.com/docs/data/destination-catalog/amazon-s3"),
)
