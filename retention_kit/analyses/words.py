"""The page words the families share: a section's heading and introduction, the kit's own values
(segments, verdicts, implicit rungs) as a page shows them, and a table's headers in the report
language. Each family's narrative module calls these with its catalog prefix
(``key_behaviors``, ``ladder``, ``lifecycle``); the messages live in
``retention_kit/core/messages/<language>/<family>.yaml``.

CSV exports never pass through here: their column names and values are contracts and stay as
the spec declares them, whatever the language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..core.i18n import catalog, t
from ..core.text import Raw

__all__ = ["section", "label", "page_table"]


def section(family: str, name: str, names: Sequence[str]) -> Raw:
    """The Markdown heading and introduction of the family's section ``name`` (one of ``names``),
    message ``<family>.section.<name>``.

    Examples
    --------
    >>> print(section("ladder", "definitions", ["definitions"]).text)
    ## Definitions in force
    """
    if name not in names:
        raise ValueError(f"no {family} section {name!r}; use one of {', '.join(names)}")
    return Raw(t(f"{family}.section.{name}"))


def label(family: str, kind: str, value: Any) -> str:
    """The kit's own value ``value`` (e.g. a segment) as a page shows it: message
    ``<family>.<kind>.<value>`` when the catalog has one, else the value itself (data, such as
    an event, a rung or an attribute value, is never translated).

    Examples
    --------
    >>> label("lifecycle", "segment", "churned"), label("lifecycle", "segment", "plan=pro")
    ('churned', 'plan=pro')
    """
    key = f"{family}.{kind}.{value}"
    return t(key) if key in catalog("en") else str(value)


def page_table(family: str, frame: pd.DataFrame, *, percent: Sequence[str] = (), caption: str | None = None,
               **options: Any) -> dict[str, Any]:
    """The arguments of :func:`retention_kit.reporting.report.show_table` for ``frame`` with its
    headers in the report language (message ``<family>.column.<name>``; a column without one
    keeps its name, as a pivot's data-valued columns do), ``percent`` renamed alike.

    Examples
    --------
    >>> import pandas as pd
    >>> args = page_table("ladder", pd.DataFrame({"rung": ["Saver"], "stay_rate": [0.5]}), percent=["stay_rate"])
    >>> list(args["df"].columns), args["percent"]
    (['rung', 'stay_rate'], ['stay_rate'])
    """
    names = {c: label(family, "column", c) for c in frame.columns}
    return {"df": frame.rename(columns=names), "percent": [names.get(c, c) for c in percent], "caption": caption,
            **options}
