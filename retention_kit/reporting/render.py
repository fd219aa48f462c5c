"""Executed notebook -> self-contained HTML for people who never see code.

Code cells are hidden, figures are embedded, and nothing is fetched from the network: the
template drops nbconvert's require.js, MathJax and mermaid loaders. One exporter is built per
process and reused (building it costs more than rendering a small report).
"""

from __future__ import annotations

import functools
import html
from pathlib import Path

import nbformat

__all__ = ["render_html", "failure_banner"]

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
    keep = (f' The last good report is still published: <a href="{html.escape(last_good)}">{html.escape(last_good)}</a>.'
            if last_good else "")
    return nbformat.v4.new_markdown_cell(
        f'<div class="rk-banner"><b>This report failed.</b> {html.escape(message)}{keep}</div>'
    )


def _short_errors(nb: nbformat.NotebookNode) -> None:
    # readers get the one-line message; the full traceback stays in the executed .ipynb
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
        if cell.get("cell_type") == "markdown" and "papermill-error-cell" in str(cell.get("metadata", {})):
            cell["source"] = ""


def render_html(nb: nbformat.NotebookNode, *, title: str, banner: nbformat.NotebookNode | None = None) -> str:
    """HTML of an executed notebook: inputs hidden, errors shortened, optional banner on top."""
    nb = nbformat.from_dict(nb)  # a copy: the caller's notebook is left as executed
    _short_errors(nb)
    if banner is not None:
        nb.cells.insert(0, banner)
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body
