"""Report text: code spans render as code boxes through the kit's page renderer, in list items,
paragraphs and Markdown cells, with the value escaped and literal."""

from __future__ import annotations

import re

import nbformat
import pytest

from retention_kit.core.text import code, fill
from retention_kit.reporting.render import render_html


def _page(markdown: list[str]) -> str:
    """HTML of a notebook whose one code cell showed ``markdown`` (as IPython's Markdown does),
    plus the same Markdown as a Markdown cell: both paths the kit's pages take."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("report.md(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": m, "text/plain": ""}) for m in markdown]
    nb.cells = [cell, *(nbformat.v4.new_markdown_cell(m) for m in markdown)]
    return render_html(nb, title="t")


@pytest.mark.parametrize("value, shown", [
    ("invite_friend", "invite_friend"),
    ("badge:Popular Question", "badge:Popular Question"),
    ("<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"),
    ("a **b** [c](http://x.invalid) _d_", "a **b** [c](http://x.invalid) _d_"),
    ("x`y", "x`y"),
    ("`x", "`x"),
])
def test_code_renders_as_a_code_box_with_the_value_inside(value, shown):
    html = _page([fill("- Users who did {e} at least 3 times", e=code(value)).text,
                  fill("Users who did {e} once", e=code(value)).text])
    # the value inside its box, in the list item and in the paragraph, from both paths (4 times)
    assert html.count(f"<li>Users who did <code>{shown}</code> at least 3 times</li>") == 2
    assert html.count(f"<p>Users who did <code>{shown}</code> once</p>") == 2
    assert "<code></code>" not in html


def test_code_folds_line_breaks_like_esc():
    assert code("a\nb\t c").text == "`a b c`"
    assert re.fullmatch(r"`+ ?[^`]*`[^`]* ?`+", code("x`y").text)
