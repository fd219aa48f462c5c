"""Segment: the raw message log, one call per line, as the Amazon S3 (and AWS S3) destination
writes it: gzipped, newline-separated JSON, one folder of files per received day.

Sources
-------
- Spec: Common Fields, https://segment.com/docs/connections/spec/common/ (``anonymousId``,
  ``userId``, ``timestamp``, ``type``, ``context``, ``properties``, ``traits``)
- Amazon S3 destination, https://segment.com/docs/connections/storage/catalog/amazon-s3/ ("your
  logs will be stored as gzipped, newline-separated JSON containing the full call information")

Choices
-------
- **User**: ``userId``, else ``anonymousId`` (every call carries one or both). A visitor who
  signs up later counts as two users, the anonymous one and the identified one, unless the
  export was stitched: set ``data.user`` to the stitched id then.
- **Time**: ``timestamp``, ISO 8601 text with an offset (``2024-03-01T10:00:00.000Z``): the
  moment the call happened, which Segment corrects for the device's clock skew. It is converted
  to ``data.timezone``.
- **Event**: ``event`` for ``track`` calls; other calls are named by their ``type``
  (``page``, ``screen``, ``identify``, ``group``, ``alias``).
- **Excluded**: ``identify``, ``group`` and ``alias`` calls (who the user is, not what they
  did), counted apart; ``page`` and ``screen`` views count as activity.
- **Properties**: ``properties`` (track, page and screen calls), ``traits`` (identify and group
  calls) and ``context`` (device, app, campaign, locale, ...).
"""

from __future__ import annotations

from . import Preset

PRESET = Preset(
    name="segment",
    tool="Segment",
    export="the S3 destination's raw logs (a folder of .gz files)",
    files="JSON lines, gzipped or not",
    user=("userId", "anonymousId"),
    time="timestamp",
    event=("event", "type"),
    exclude_events=("identify", "group", "alias"),
    properties=("properties", "traits", "context"),
    docs=("https://segment.com/docs/connections/spec/common/",
          "https://segment.com/docs/connections/storage/catalog/amazon-s3/"),
)
