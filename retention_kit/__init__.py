"""Retention Kit: turn a product's raw event log into retention reports.

The public API is small: read params, load the event log, run analyses from the family modules
(``retention_kit.stickiness``, ``retention_kit.behaviors``, ``retention_kit.ladder``,
``retention_kit.overview``) and render reports with :func:`retention_kit.runner.run`.
"""

from .config import Params, load_params, params_from_dict
from .errors import (
    DataError,
    NotEnoughDataError,
    OutputError,
    ParamsError,
    RetentionKitError,
    SourceError,
)
from .events import DataQuality, EventLog, load_events

__version__ = "0.1.0"

__all__ = [
    "Params",
    "load_params",
    "params_from_dict",
    "EventLog",
    "DataQuality",
    "load_events",
    "RetentionKitError",
    "ParamsError",
    "DataError",
    "SourceError",
    "NotEnoughDataError",
    "OutputError",
    "__version__",
]
