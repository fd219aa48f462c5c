"""Retention Kit: turn a product's raw event log into retention reports.

The public API is small: read params (:func:`load_params`), load the event log
(:func:`load_events`), run the analyses of a report family
(``retention_kit.analyses.stickiness``, ``.key_behaviors``, ``.ladder``, ``.lifecycle``,
``.overview``) and render reports (:func:`retention_kit.reporting.runner.run`, or the
``retention-kit`` command). :data:`REPORTS` lists the report families.
"""

from .errors import (
    DataError,
    InstallError,
    NotEnoughDataError,
    OutputError,
    ParamsError,
    RetentionKitError,
    SourceError,
)
from .data import DataQuality, EventLog, Params, load_events, load_params, params_from_dict
from .analyses import REPORTS

__version__ = "0.1.0"

__all__ = [
    "Params",
    "load_params",
    "params_from_dict",
    "EventLog",
    "DataQuality",
    "load_events",
    "REPORTS",
    "RetentionKitError",
    "ParamsError",
    "DataError",
    "SourceError",
    "NotEnoughDataError",
    "OutputError",
    "InstallError",
    "__version__",
]

