"""Executed notebook -> self-contained HTML for people who never see code.

Code cells are hidden, figures are embedded, and nothing is fetched from the network: the
template drops nbconvert's require.js, MathJax and mermaid loaders. One exporter is built per
process and reused (building it costs more than rendering a small report).

Nothing but the report reaches the page, whatever the notebook (the kit's or an analyst's own):
stderr streams are dropped (the runner writes them to the run log), so are warning and log lines
printed to stdout, and file paths of the machine that ran the report are cut to their last part
(:func:`scrub_paths`) in every output that keeps text.
"""

from __future__ import annotations

import functools
import html
import os
import re
import sys
import sysconfig
import tempfile
from collections.abc import Iterable
from pathlib import Path

import nbformat

from ..core import i18n

__all__ = ["render_html", "failure_banner", "scrub_paths", "strip_noise", "machine_dirs"]

#: Lines of library noise in text output: a Python warning (``path:12: UserWarning: ...``), a log
#: line in logging's or Jupyter's default format (``WARNING:name:...``, ``[IPKernelApp] WARNING |
#: ...``), a traceback and the kernel's interrupt message. Indented lines after one (a warning's source line, a log record's
#: traceback) go with it.
_NOISE = re.compile(
    r"^(?:.*:\d+: \w*Warning: "
    r"|(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]*:"
    r"|\[[\w.]+\] (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) \| "
    r"|KeyboardInterrupt caught in "
    r"|Traceback \(most recent call last\):)"
)
_CONTINUATION = re.compile(r"^(?:\s+\S|\s*$)")

_TEMPLATES = Path(__file__).resolve().parent / "templates"


@functools.lru_cache(maxsize=1)
def _exporter():
    from nbconvert import HTMLExporter

    exp = HTMLExporter(
        template_name="rk_offline",
        extra_template_basedirs=[str(_TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        anchor_link_text="",
    )
    return exp


def failure_banner(message: str, *, last_good: str | None) -> nbformat.NotebookNode:
    """A markdown cell saying the report failed, why, and where the last good one is."""
    link = f'<a href="{html.escape(last_good)}">{html.escape(last_good)}</a>' if last_good else ""
    # the link is HTML of the kit's own; the sentence around it is escaped
    keep = (" " + html.escape(i18n.t("report.failed.last_good", link="{link}")).replace("{link}", link)
            if last_good else "")
    return nbformat.v4.new_markdown_cell(
        f'<div class="rk-banner"><b>{html.escape(i18n.t("report.failed"))}</b> {html.escape(message)}{keep}</div>'
    )


def machine_dirs(extra: Iterable[str | os.PathLike[str]] = ()) -> tuple[str, ...]:
    """Folders whose paths must not reach a page: the home folder, the Python installation, the
    temporary folder, the working folder, the kit's own folder and ``extra`` (the runner adds the
    output folder and each product's params and data folders). Longest first."""
    dirs = {os.path.expanduser("~"), sys.prefix, sys.base_prefix, sys.exec_prefix, tempfile.gettempdir(),
            os.getcwd(), str(Path(__file__).resolve().parents[2])}
    dirs |= {v for k, v in sysconfig.get_paths().items() if k in ("purelib", "platlib", "stdlib", "data")}
    dirs |= {os.fspath(d) for d in extra}
    out = set()
    for d in dirs:
        for form in (d, os.path.realpath(d)):
            form = form.rstrip("/\\")
            if form and form.count(os.sep) >= 1 and form not in ("/", "~"):
                out.add(form)
    return tuple(sorted(out, key=len, reverse=True))


@functools.lru_cache(maxsize=32)
def _dirs_pattern(dirs: tuple[str, ...]) -> re.Pattern[str] | None:
    if not dirs:
        return None
    alts = "|".join(re.escape(d) for d in dirs)
    # a machine folder, then the rest of the path up to a character no path in a message holds
    return re.compile(rf"(?<![\w.~/-])(?:{alts})(?=[/\\\s'\"<>:;,()\[\]]|$)([/\\][^\s'\"<>|;,()\[\]]*)?")


def scrub_paths(text: str, dirs: tuple[str, ...] | None = None) -> str:
    """``text`` with every path under a machine folder (:func:`machine_dirs`) cut to ``…/`` and
    its last part, so a message keeps the file it names but not where it lives.

    Examples
    --------
    >>> scrub_paths("not found: /srv/shop/events.csv", ("/srv/shop",))
    'not found: …/events.csv'
    >>> scrub_paths("page /checkout/confirm", ("/srv/shop",))
    'page /checkout/confirm'
    """
    pat = _dirs_pattern(machine_dirs() if dirs is None else dirs)
    if pat is None or not text:
        return text

    def cut(m: re.Match[str]) -> str:
        rest = (m.group(1) or "").rstrip("/\\.")
        last = re.split(r"[/\\]", rest)[-1] if rest else ""
        return f"…/{last}" if last else "…"

    return pat.sub(cut, text)


def strip_noise(text: str) -> str:
    r"""``text`` without warning, log and kernel lines (and the indented lines that follow each).

    Examples
    --------
    >>> strip_noise("42 users\n/x/y.py:3: UserWarning: careful\n  warn()\nok\n")
    '42 users\nok\n'
    """
    keep, dropping = [], False
    for line in text.splitlines(keepends=True):
        if _NOISE.match(line):
            dropping = True
            continue
        if dropping and _CONTINUATION.match(line) and line.strip():
            continue
        dropping = False
        keep.append(line)
    return "".join(keep)


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _clean_outputs(nb: nbformat.NotebookNode, dirs: tuple[str, ...]) -> None:
    """Drop stderr and noise, shorten errors to one line, cut machine paths: in place on a copy."""
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown" and "papermill-error-cell" in str(cell.get("metadata", {})):
            cell["source"] = ""
        kept = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                if out.get("name") == "stderr":
                    continue  # the runner writes it to the run log
                text = scrub_paths(strip_noise(_text(out.get("text", ""))), dirs)
                if not text.strip():
                    continue
                out["text"] = text
            elif kind == "error":
                # readers get the one-line message; the full traceback stays in the executed .ipynb
                # and the run log
                out["ename"] = scrub_paths(str(out.get("ename", "Error")), dirs)
                out["evalue"] = scrub_paths(str(out.get("evalue", "")), dirs)
                out["traceback"] = [f"{out['ename']}: {out['evalue']}"]
            elif kind in ("display_data", "execute_result"):
                data = out.get("data", {})
                for mime in ("text/plain", "text/html", "text/markdown"):
                    if mime in data:
                        data[mime] = scrub_paths(_text(data[mime]), dirs)
            kept.append(out)
        if "outputs" in cell:
            cell["outputs"] = kept


def render_html(nb: nbformat.NotebookNode, *, title: str, banner: nbformat.NotebookNode | None = None,
                private_dirs: Iterable[str | os.PathLike[str]] = (), language: str = "en") -> str:
    """HTML of an executed notebook: inputs hidden, stderr and warnings dropped, errors
    shortened, machine paths cut (``private_dirs`` adds folders to :func:`machine_dirs`),
    optional banner on top; ``language`` (the report language) is the page's ``lang``."""
    nb = nbformat.from_dict(nb)  # a copy: the caller's notebook is left as executed
    dirs = machine_dirs(private_dirs)
    _clean_outputs(nb, dirs)
    if banner is not None:
        banner = nbformat.from_dict(banner)
        banner["source"] = scrub_paths(_text(banner.get("source", "")), dirs)
        nb.cells.insert(0, banner)
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": scrub_paths(title, dirs)}})
    # nbconvert takes ISO 639-1 codes only ("zh"); the page says which Chinese (BCP 47 "zh-TW")
    return body.replace('<html lang="en">', f'<html lang="{html.escape(language)}">', 1)
