"""PostHog: the events model of a batch export to S3 (or a file download export), in Parquet or
JSON lines.

Sources
-------
- S3 destination for batch exports, https://posthog.com/docs/data-pipelines/batch-exports/s3
  (the events model: ``uuid``, ``event``, ``distinct_id``, ``person_id``, ``properties``,
  ``person_properties``, ``timestamp``; in Parquet ``timestamp`` is a UTC timestamp with
  microseconds and ``properties`` a JSON-encoded string; in JSON lines timestamps are ISO 8601
  text and properties nested objects)
- Events, https://posthog.com/docs/data/events (``distinct_id``; events starting with ``$`` are
  PostHog's own; ``$identify``, ``$create_alias``, ``$groupidentify`` and ``$set`` manage
  persons and groups)

Choices
-------
- **User**: ``person_id``, else ``distinct_id``. A person merges the distinct ids of one user
  (the anonymous one before sign-up and the identified one after), which is what PostHog's own
  retention counts; ``data.user: distinct_id`` counts each id apart.
- **Time**: ``timestamp``, when the event occurred as the client reported it, in UTC
  (``data.source_timezone: UTC``), converted to ``data.timezone``.
- **Event**: ``event``.
- **Excluded**: ``$identify``, ``$create_alias``, ``$groupidentify`` and ``$set``, counted
  apart; ``$pageview``, ``$autocapture`` and the rest count as activity.
- **Properties**: ``properties`` (``properties.$browser``, ``properties.$current_url``, your own)
  and ``person_properties``; in Parquet they are JSON text, and dotted paths read them the same.
"""

from __future__ import annotations

from . import Preset

PRESET = Preset(
    name="posthog",
    tool="PostHog",
    export="a batch export (S3) or file download export of the events model",
    files="Parquet, or JSON lines gzipped or not",
    user=("person_id", "distinct_id"),
    time="timestamp",
    source_timezone="UTC",
    event=("event",),
    exclude_events=("$identify", "$create_alias", "$groupidentify", "$set"),
    properties=("properties", "person_properties"),
    docs=("https://posthog.com/docs/data-pipelines/batch-exports/s3",
          "https://posthog.com/docs/data/events"),
)
