"""What every notebook uses to narrate and export: start a report, show escaped text and tables,
export the tables it shows as CSV (the export contract), and turn thin data into a note.

Everything that comes from data or params (event names, titles, rung names, attribute values) is
HTML-escaped before it reaches the page; :func:`md` escapes the values it formats in.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import html
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import Params, load_params
from .errors import NotEnoughDataError
from .events import EventLog, load_events

__all__ = [
    "Report",
    "start",
    "esc",
    "code",
    "md",
    "raw",
    "note",
    "show_table",
    "definitions",
    "guard",
    "to_csv",
    "pct",
    "num",
]

_EXPORT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def esc(value: Any) -> str:
    """Text safe inside HTML and Markdown: HTML entities escaped, Markdown punctuation neutralised,
    line breaks folded to spaces."""
    s = " ".join(str(value).split())
    s = html.escape(s, quote=True)
    # inline Markdown that could turn data into links, emphasis, code or tables; values are never
    # at a line start (templates place them), so list and heading markers need no escape
    return re.sub(r"([\\`*_\[\]|~])", r"\\\1", s)


def code(value: Any) -> "_Raw":
    """A data value shown as inline code (e.g. an event name), escaped, for :func:`md`."""
    return _Raw(f"<code>{html.escape(' '.join(str(value).split()), quote=True)}</code>")


def pct(x: float | None, digits: int = 0) -> str:
    """A fraction as a percent string ('18%'); '–' when missing."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    return f"{100 * x:.{digits}f}%"


def num(x: float | int | None, digits: int = 0) -> str:
    """A number with thousands separators; '–' when missing."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    return f"{x:,.{digits}f}"


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def md(template: str, /, **values: Any) -> None:
    """Show Markdown; ``{name}`` placeholders are filled with escaped ``values``.

    The template is the notebook author's; values are data and get escaped (wrap a value in
    :func:`code` to show it as inline code). Returns None, so a cell ending in ``md(...)`` shows
    the text once.
    """
    from IPython.display import Markdown

    text = template.format(**{k: esc(v) if not isinstance(v, _Raw) else v.text for k, v in values.items()})
    _display(Markdown(text))


@dataclasses.dataclass(frozen=True)
class _Raw:
    text: str


def raw(text: str) -> _Raw:
    """Mark already-safe Markdown (e.g. built with :func:`esc`) so :func:`md` does not escape it."""
    return _Raw(text)


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
    for c in out.columns:
        if c in percent:
            out[c] = out[c].map(lambda v: pct(v, digits))
        elif pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda v: num(v, 2))
        elif pd.api.types.is_integer_dtype(out[c]):
            out[c] = out[c].map(num)
        elif pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    body = out.to_html(index=False, escape=True, border=0, classes="rk-table", na_rep="–")
    cap = f"<p><em>{html.escape(caption)}</em></p>" if caption else ""
    more = f"<p><em>Showing {max_rows:,} of {len(df):,} rows; all are in the CSV export.</em></p>" if len(df) > max_rows else ""
    _display(HTML(cap + body + more))


def definitions(items: Mapping[str, str], *, title: str = "Definitions in force") -> None:
    """A definitions list (term -> meaning); both escaped."""
    from IPython.display import HTML

    rows = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in items.items())
    _display(HTML(f"<details open><summary><b>{html.escape(title)}</b></summary><ul>{rows}</ul></details>"))


@contextlib.contextmanager
def guard(section: str) -> Iterator[None]:
    """Run a report section; thin data (:class:`NotEnoughDataError`) becomes a note, not a crash."""
    try:
        yield
    except NotEnoughDataError as e:
        note(f"{section}: not enough data. {e}", kind="warning")


def to_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` under the export contract: no index, dates ISO (YYYY-MM-DD), full-precision
    floats, written aside then moved into place so a reader never sees half a file."""
    path = Path(path)
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            if (col.dropna().dt.normalize() == col.dropna()).all():
                out[c] = col.dt.strftime("%Y-%m-%d")
            else:
                out[c] = col.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif col.dtype == object and col.map(lambda v: isinstance(v, dt.date)).any():
            out[c] = col.map(lambda v: v.isoformat() if isinstance(v, dt.date) else v)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    out.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")
    os.replace(tmp, path)
    return path


@dataclasses.dataclass(frozen=True)
class Report:
    """One notebook's run: params, the loaded event log and where exports go."""

    params: Params
    log: EventLog
    notebook: str
    export_dir: Path | None
    run_date: dt.date

    def export(self, df: pd.DataFrame, name: str) -> pd.DataFrame:
        """Write ``df`` as ``<export_dir>/<name>.csv`` (when the runner set an export folder) and
        return it unchanged, so a notebook exports exactly the frame it shows."""
        if not _EXPORT_NAME.match(name):
            raise ValueError(f"export name {name!r}: use lowercase letters, digits and '_'")
        if self.export_dir is not None:
            to_csv(df, self.export_dir / f"{name}.csv")
        return df

    def header(self, title: str, *, subtitle: str = "") -> None:
        """The report's title block: analysis, product, data range, timezone and run date."""
        from IPython.display import HTML

        q = self.log.quality
        sub = f"<p><em>{html.escape(subtitle)}</em></p>" if subtitle else ""
        _display(HTML(
            f"<h1>{html.escape(title)}: {html.escape(self.params.display_title)}</h1>"
            + sub
            + f"<p>Data from {q.first_day:%Y-%m-%d} to {q.last_day:%Y-%m-%d} "
            f"({html.escape(self.params.data.timezone)} calendar days), {q.rows_kept:,} events, "
            f"{q.users:,} users. Report run on {self.run_date:%Y-%m-%d}.</p>"
        ))

    def base_definitions(self) -> dict[str, str]:
        """The definitions shared by every analysis, worded from the params in force."""
        d = self.params.data
        active = "every event" if d.active_events is None else "the events " + ", ".join(d.active_events)
        excl = ", ".join(d.exclude_events) if d.exclude_events else "none"
        return {
            "Timezone": f"{d.timezone}; days, weeks and months are calendar periods in this zone.",
            "Week": f"starts on {d.week_start.capitalize()}.",
            "Active": f"a user is active on a day with at least one event that counts as activity ({active}).",
            "Excluded events": f"never counted: {excl}.",
            "Data range": "from the first to the last day with any event; a period not complete by the "
                          "end of the data is shown as incomplete (empty), never as zero.",
        }


def start(params_path: str | os.PathLike[str] | None = None, *, notebook: str,
          export_dir: str | os.PathLike[str] | None = None, overrides: dict[str, Any] | None = None,
          params: Params | None = None, log: EventLog | None = None) -> Report:
    """Begin a notebook: read params (default: the demo product), load and validate the events.

    Parameters
    ----------
    params_path
        The product's YAML file. ``None`` uses ``params/demo.yaml`` of this repository.
    notebook
        The notebook's name (``overview``, ``stickiness``, ...).
    export_dir
        Folder for CSV exports (the runner sets it); ``None`` exports nothing.
    overrides
        Dotted params keys to override, e.g. ``{"stickiness.mau_window": 30}``; ``None`` values
        are ignored so papermill parameters can default to "as in the YAML".
    params, log
        Already loaded objects (tests and interactive use).
    """
    if params is None:
        path = Path(params_path) if params_path else Path(__file__).resolve().parents[1] / "params" / "demo.yaml"
        params = load_params(path, overrides=overrides)
    if log is None:
        log = load_events(params)
    return Report(params=params, log=log, notebook=notebook,
                  export_dir=Path(export_dir) if export_dir else None, run_date=dt.date.today())
