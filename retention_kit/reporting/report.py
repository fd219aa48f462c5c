"""What every notebook uses to narrate and export: start a report, show escaped text and tables,
export the tables it shows as CSV (the export contract of its family's spec), and turn thin data
into a note.

Everything that comes from data or params (event names, titles, rung names, attribute values) is
HTML-escaped before it reaches the page; :func:`md` escapes the values it formats in, and the
families' narrative modules build their sentences the same way
(:func:`retention_kit.core.text.fill`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import html
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..analyses import REPORTS, ReportSpec, report_spec
from ..analyses.spec import SHARED_EXPORTS
from ..core import i18n
from ..core.i18n import t
from ..core.text import Raw, code, esc, fill, num, pct
from ..data import EventLog, Params, load_events, load_params
from ..errors import NotEnoughDataError
from .exports import REPORT_COLUMN, merge_rows, to_csv

__all__ = [
    "Report",
    "start",
    "esc",
    "code",
    "md",
    "section",
    "t",
    "raw",
    "note",
    "show_table",
    "definitions",
    "report_title",
    "column_label",
    "guard",
    "to_csv",
    "pct",
    "num",
    "DEMO_PARAMS",
    "route_warnings",
]

_EXPORT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: The demo product's params (package data, so it exists in any install).
DEMO_PARAMS = Path(__file__).resolve().parent / "params" / "demo.yaml"


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def md(text: str | Raw, /, **values: Any) -> None:
    """Show Markdown: a template whose ``{name}`` placeholders are filled with escaped ``values``
    (:func:`retention_kit.core.text.fill`), or text a narrative module already made safe
    (:class:`~retention_kit.core.text.Raw`). Returns None, so a cell ending in ``md(...)`` shows
    the text once."""
    from IPython.display import Markdown

    _display(Markdown(text.text if isinstance(text, Raw) and not values else fill(str(text), **values).text))


def section(key: str, /, **values: Any) -> None:
    """Show a section's heading and introduction: the Markdown message ``key`` of the report
    language (:func:`retention_kit.core.i18n.t`), its ``{name}`` placeholders filled with escaped
    ``values``. Notebooks call it instead of holding the words in a Markdown cell, so every
    heading comes from the catalog."""
    md(fill(t(key), **values) if values else Raw(t(key)))


def column_label(name: str) -> str:
    """A table header as the page shows it: the message ``column.<name>`` of the report
    language when the catalogs define one, else ``name`` itself (data values, such as a pivot's
    cohort labels, are never translated). The CSV exports keep their column names."""
    key = f"column.{name}"
    return t(key) if isinstance(name, str) and i18n.has(key) else name


def raw(text: str) -> Raw:
    """Mark already-safe Markdown (e.g. built with :func:`esc`) so :func:`md` does not escape it."""
    return Raw(text)


def note(text: str, *, kind: str = "info") -> None:
    """A boxed note (kind: info, warning, error); ``text`` is escaped."""
    from IPython.display import HTML

    colours = {"info": ("#eef5fb", "#2b6cb0"), "warning": ("#fff8e6", "#b7791f"), "error": ("#fdecea", "#c53030")}
    bg, border = colours.get(kind, colours["info"])
    _display(HTML(f'<div class="rk-note rk-{kind}" style="background:{bg};border-left:4px solid {border};'
                  f'padding:8px 12px;margin:8px 0">{html.escape(text)}</div>'))


def show_table(df: pd.DataFrame, *, percent: tuple[str, ...] | list[str] = (), digits: int = 1,
               max_rows: int = 30, caption: str | None = None) -> None:
    """Show a table with percent columns formatted and every cell escaped."""
    from IPython.display import HTML

    out = df.head(max_rows).copy()
    out.columns.name = None  # a pivot's column-index name would print as a stray header
    percent = [column_label(c) for c in percent]
    out.columns = [column_label(c) for c in out.columns]
    for c in out.columns:
        # nullable columns hold pd.NA where a figure does not exist: a dash, like NaN
        if c in percent:
            out[c] = out[c].map(lambda v: pct(v, digits) if pd.notna(v) else "–")
        elif pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda v: num(v, 2) if pd.notna(v) else "–")
        elif pd.api.types.is_integer_dtype(out[c]):
            out[c] = out[c].map(lambda v: num(v) if pd.notna(v) else "–")
        elif pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    body = out.to_html(index=False, escape=True, border=0, classes="rk-table", na_rep="–")
    cap = f"<p><em>{html.escape(caption)}</em></p>" if caption else ""
    more = (f"<p><em>{html.escape(t('report.table.more', shown=num(max_rows), rows=num(len(df))))}</em></p>"
            if len(df) > max_rows else "")
    _display(HTML(cap + body + more))


def definitions(items: Mapping[str, str], *, title: str | None = None) -> None:
    """A definitions list (term -> meaning); both escaped. ``title`` defaults to the report
    language's "Definitions in force"."""
    from IPython.display import HTML

    title = t("report.definitions.title") if title is None else title
    rows = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in items.items())
    _display(HTML(f"<details open><summary><b>{html.escape(title)}</b></summary><ul>{rows}</ul></details>"))


@contextlib.contextmanager
def guard(section: str, *, quiet: bool = False) -> Iterator[None]:
    """Run a report section; thin data (:class:`NotEnoughDataError`) becomes a note, not a crash.
    ``quiet``: no note either (a table computed for the CSV export only, not shown on the page)."""
    try:
        yield
    except NotEnoughDataError as e:
        if not quiet:
            note(t("report.not_enough_data", section=section, reason=str(e)), kind="warning")


@dataclasses.dataclass(frozen=True)
class Report:
    """One notebook's run: params, the loaded event log, the report's spec and where exports go."""

    params: Params
    log: EventLog
    notebook: str
    export_dir: Path | None
    run_date: dt.date

    @property
    def spec(self) -> ReportSpec:
        """The report family's spec (:data:`retention_kit.analyses.REPORTS`)."""
        return report_spec(self.notebook)

    def export(self, df: pd.DataFrame | None | Sequence[pd.DataFrame | None], name: str) -> pd.DataFrame:
        """Write ``df`` as ``<export_dir>/<name>.csv`` (when the runner set an export folder) and
        return it, so a notebook exports exactly the frame it shows.

        ``name`` must be one of the report's declared exports, or a shared one
        (:data:`retention_kit.analyses.spec.SHARED_EXPORTS`: the report's rows, tagged with its
        name in ``report``, replace its earlier rows in the file). ``df`` may be a list of frames
        (stacked, e.g. weeks then months); the contract's columns come first
        (:meth:`retention_kit.analyses.Export.frame`), and ``None`` (the data was too thin)
        writes the header alone, so the CSV always exists.
        """
        if not _EXPORT_NAME.match(name):
            raise ValueError(f"export name {name!r}: use lowercase letters, digits and '_'")
        frames = list(df) if isinstance(df, (list, tuple)) else [df]
        if name in SHARED_EXPORTS:  # several reports write rows into it: this report's rows, tagged
            frames = [f.assign(**{REPORT_COLUMN: self.notebook}) if f is not None else None for f in frames]
            out = report_spec(SHARED_EXPORTS[name]).export(name).frame(*frames)
            if self.export_dir is not None:
                part = to_csv(out, self.export_dir / f".{name}.{self.notebook}.part.csv")
                try:
                    merge_rows(part, self.export_dir / f"{name}.csv", self.notebook, owner=SHARED_EXPORTS[name],
                               order=[s.name for s in REPORTS])
                finally:
                    part.unlink()
            return out
        out = self.spec.export(name).frame(*frames)
        if self.export_dir is not None:
            to_csv(out, self.export_dir / f"{name}.csv")
        return out

    def header(self, *, subtitle: str = "") -> None:
        """The report's title block: the report's title, product, data range, timezone and run date."""
        from IPython.display import HTML

        log, q = self.log, self.log.quality
        sub = f"<p><em>{html.escape(subtitle)}</em></p>" if subtitle else ""
        # the overview describes the whole log; activity analyses the activity range
        first = q.first_day if self.notebook == "overview" else log.first_day
        before = (t("report.header.before", events=num(q.rows_before_activity), first=f"{log.first_day:%Y-%m-%d}")
                  if q.rows_before_activity and self.notebook != "overview" else "")
        _display(HTML(
            f"<h1>{html.escape(t('report.header.title', report=self.title, product=self.params.display_title))}</h1>"
            + sub
            + "<p>" + html.escape(t("report.header.data", first=f"{first:%Y-%m-%d}", last=f"{log.last_day:%Y-%m-%d}",
                                    timezone=self.params.data.timezone, events=num(q.rows_kept), users=num(q.users),
                                    before=before, run=f"{self.run_date:%Y-%m-%d}")) + "</p>"
        ))

    @property
    def title(self) -> str:
        """The report's title in the report language (:func:`report_title`)."""
        return report_title(self.notebook)

    def base_definitions(self) -> dict[str, str]:
        """The definitions shared by every analysis, worded from the params in force."""
        d = self.params.data
        sep = t("common.list_sep")
        active = (t("report.def.active.all") if d.active_events is None
                  else t("report.def.active.events", events=sep.join(d.active_events)))
        excl = sep.join(d.exclude_events) if d.exclude_events else t("report.def.excluded.none")
        return {
            t("report.def.timezone.term"): t("report.def.timezone", timezone=d.timezone),
            t("report.def.week.term"): t("report.def.week", day=t(f"common.weekday.{d.week_start.lower()}")),
            t("report.def.active.term"): t("report.def.active", active=active),
            t("report.def.excluded.term"): t("report.def.excluded", events=excl),
            t("report.def.range.term"): t("report.def.range"),
        }


def report_title(notebook: str) -> str:
    """A report's title in the report language in force: the message ``report.title.<name>``,
    else the English title of its spec (:data:`retention_kit.analyses.REPORTS`)."""
    key = f"report.title.{notebook}"
    return t(key) if i18n.has(key) else report_spec(notebook).title


class _StderrHandler(logging.Handler):
    """Log records as one line each on the stderr of the moment (in a kernel: the running cell's
    stderr stream, which the runner moves into the run log and the page never shows)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            if stream is not None:
                stream.write(self.format(record) + "\n")
        except Exception:  # pragma: no cover - logging must never break a report
            self.handleError(record)


def route_warnings() -> None:
    """Send warnings (``warnings.warn``) and library log records of WARNING and above through
    logging, one line each with the logger's name, to stderr: in a run that is the run log, in
    JupyterLab a cell's stderr. Called by :func:`start`; calling it again changes nothing.

    Examples
    --------
    >>> route_warnings(); route_warnings()
    >>> ours = [h for h in logging.getLogger().handlers if isinstance(h, _StderrHandler)]
    >>> len(ours)
    1
    >>> for h in ours:
    ...     logging.getLogger().removeHandler(h)
    >>> logging.captureWarnings(False)
    """
    logging.captureWarnings(True)
    root = logging.getLogger()
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)


def start(params_path: str | os.PathLike[str] | None = None, *, notebook: str,
          export_dir: str | os.PathLike[str] | None = None, cache_dir: str | os.PathLike[str] | None = None,
          overrides: dict[str, Any] | None = None, params: Params | None = None,
          log: EventLog | None = None) -> Report:
    """Begin a notebook: read params (default: the demo product), load and validate the events.

    Parameters
    ----------
    params_path
        The product's YAML file. ``None`` uses the demo product (:data:`DEMO_PARAMS`).
    notebook
        The notebook's name: a report of :data:`retention_kit.analyses.REPORTS`.
    export_dir
        Folder for CSV exports (the runner sets it); ``None`` exports nothing.
    cache_dir
        The run's activity cache folder (the runner sets it, so the notebooks of one run scan
        the raw log once); ``None`` caches nothing.
    overrides
        Dotted params keys to override, e.g. ``{"stickiness.mau_window": 30}``; ``None`` values
        are ignored so papermill parameters can default to "as in the YAML".
    params, log
        Already loaded objects (tests and interactive use).
    """
    route_warnings()
    report_spec(notebook)  # an unknown name fails here, before the data is loaded
    if params is None:
        params = load_params(Path(params_path) if params_path else DEMO_PARAMS, overrides=overrides)
    i18n.use(params.language)  # every message and number of this report, from here on
    if log is None:
        log = load_events(params, cache_dir=cache_dir)
    return Report(params=params, log=log, notebook=notebook,
                  export_dir=Path(export_dir) if export_dir else None, run_date=dt.date.today())
