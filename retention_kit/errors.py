"""The one exception family of the kit.

Every problem a user can fix (params, data, output folder) is a :class:`RetentionKitError`
subclass whose message names the key or column, how many rows are affected and the fix. The CLI
prints that message on one line and exits with code 2.
"""

from __future__ import annotations

__all__ = [
    "RetentionKitError",
    "ParamsError",
    "DataError",
    "SourceError",
    "NotEnoughDataError",
    "OutputError",
    "InstallError",
]


class RetentionKitError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""

    exit_code: int = 2


class ParamsError(RetentionKitError):
    """The params YAML (or an override) is invalid: unknown key, wrong type or value."""


class SourceError(RetentionKitError):
    """The event source does not exist or cannot be read."""


class DataError(RetentionKitError):
    """The event log is readable but its content is invalid (missing column, bad times, ...)."""


class NotEnoughDataError(RetentionKitError):
    """The data is valid but too thin for an analysis; reports show a note instead of a chart."""


class OutputError(RetentionKitError):
    """The output folder cannot be written, or another run holds its lock."""


class InstallError(RetentionKitError):
    """The kit's own files (notebooks, templates) are missing: a broken or partial installation."""
