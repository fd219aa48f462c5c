"""What a report family declares about itself: one :class:`ReportSpec` per family, with its
notebook, title, place in the run order, params section and the CSV files it exports
(:class:`Export`, the export contract: file name and columns, each documented).

The runner, publishing, the index page, the notebooks' headers and CSV exports (header-only on
thin data) read these specs through :data:`retention_kit.analyses.REPORTS`; a test checks that
README's tables say the same.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

__all__ = ["Column", "Export", "ReportSpec", "with_segment_exports", "SEGMENT_COLUMNS", "SHARED_EXPORTS"]

#: Exports several reports write rows into, each its own rows, named in a ``report`` column
#: (:func:`retention_kit.reporting.exports.merge_rows`): export name -> the family that declares
#: it. ``segment_comparisons``: every page with a comparison section adds its rows.
SHARED_EXPORTS = {"segment_comparisons": "stickiness"}


@dataclasses.dataclass(frozen=True)
class Column:
    """One documented column of an export."""

    name: str
    doc: str


@dataclasses.dataclass(frozen=True)
class Export:
    """One CSV file of a family: ``<name>.csv``.

    ``columns`` are the contract: downstream scripts rely on them, in this order (columns are
    added, never renamed). ``extra`` documents columns that follow them when there is data.
    ``breakdown_only`` files are written only when the params set a breakdown (``breakdown.by``).
    """

    name: str
    doc: str
    columns: tuple[Column, ...]
    extra: tuple[Column, ...] = ()
    breakdown_only: bool = False

    @property
    def contract(self) -> list[str]:
        """The contract's column names, in order."""
        return [c.name for c in self.columns]

    def frame(self, *frames: pd.DataFrame | None) -> pd.DataFrame:
        """The frames stacked (``None`` skipped), the contract's columns first, other columns
        after in their order; a header-only frame with the contract's columns when there is no
        frame (thin data), so the CSV still exists.

        Raises
        ------
        ValueError
            A frame lacks a contract column: the export would break its contract.

        Examples
        --------
        >>> e = Export("x", "doc", (Column("a", ""), Column("b", "")))
        >>> list(e.frame(None).columns), list(e.frame(pd.DataFrame({"c": [1], "b": [2], "a": [3]})).columns)
        (['a', 'b'], ['a', 'b', 'c'])
        """
        parts = [f for f in frames if f is not None]
        cols = self.contract
        if not parts:
            return pd.DataFrame(columns=cols)
        df = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        lacking = [c for c in cols if c not in df.columns]
        if lacking:
            raise ValueError(f"export {self.name}: the frame lacks contract column(s) {', '.join(lacking)}")
        return df[cols + [c for c in df.columns if c not in cols]]


@dataclasses.dataclass(frozen=True)
class ReportSpec:
    """One report family.

    ``name`` is the notebook's file name (``notebooks/<name>.ipynb``) and the page's
    (``<name>.html``); ``order`` sorts reports in a run and on the index page; ``section`` is the
    params section with the family's options (None: it has none); ``question`` is what the report
    answers, in a line; ``docs`` the page under ``docs/`` that documents it.
    """

    name: str
    title: str
    order: int
    question: str
    section: str | None
    exports: tuple[Export, ...]
    docs: str | None = None

    def export(self, name: str) -> Export:
        """The export called ``name``; KeyError naming the family's exports otherwise."""
        for e in self.exports:
            if e.name == name:
                return e
        raise KeyError(f"{self.name} declares no export {name!r} (it declares {', '.join(e.name for e in self.exports)})")


#: The leading columns of every ``<name>_by_segment.csv`` (docs/segments.md).
SEGMENT_COLUMNS = (
    Column("breakdown", "what the users were split on: breakdown.by (an attribute, first.<property> or a cohort name)"),
    Column("segment", "the segment's value; (other) for segments beyond breakdown.top, (missing) for users without one"),
)


def with_segment_exports(spec: ReportSpec, names: tuple[str, ...], *more: Export) -> ReportSpec:
    """``spec`` with ``<name>_by_segment`` declared for each of ``names``: the leading columns
    ``breakdown`` and ``segment``, then exactly the base file's columns (and its extras); plus
    ``more`` exports.

    Examples
    --------
    >>> base = ReportSpec("x", "X", 1, "?", None, (Export("a", "doc", (Column("c", "doc"),)),))
    >>> [e.contract for e in with_segment_exports(base, ("a",)).exports]
    [['c'], ['breakdown', 'segment', 'c']]
    """
    extra = tuple(Export(f"{e.name}_by_segment", f"{e.name}.csv computed on each segment's users alone (written "
                         "when breakdown.by is set; docs/segments.md).", (*SEGMENT_COLUMNS, *e.columns), extra=e.extra,
                         breakdown_only=True)
                  for e in (spec.export(n) for n in names))
    more = tuple(dataclasses.replace(m, breakdown_only=True) for m in more)
    return dataclasses.replace(spec, exports=(*spec.exports, *extra, *more))
