"""The report families, one folder each: the computations, their narrative text and their export
contract side by side.

:data:`REPORTS` is the registry: every family's :class:`~.spec.ReportSpec`, in run order. The
runner, publishing, the index page and the exports read it; adding a report is one folder here
(with its ``spec.py``), one entry below and one notebook (see ``docs/architecture.md``).
"""

from __future__ import annotations

from . import key_behaviors, ladder, lifecycle, overview, stickiness
from .spec import Column, Export, ReportSpec

__all__ = ["REPORTS", "report_spec", "ReportSpec", "Export", "Column"]

#: Every report family, in run order.
REPORTS: tuple[ReportSpec, ...] = tuple(sorted(
    (overview.SPEC, stickiness.SPEC, key_behaviors.SPEC, ladder.SPEC, lifecycle.SPEC), key=lambda s: s.order))


def report_spec(name: str) -> ReportSpec:
    """The spec of the report called ``name`` (its notebook's name); KeyError naming the reports
    otherwise."""
    for s in REPORTS:
        if s.name == name:
            return s
    raise KeyError(f"no report {name!r}; reports: {', '.join(s.name for s in REPORTS)}")
