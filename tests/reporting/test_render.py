import re

import nbformat

from retention_kit.reporting.render import failure_banner, render_html

EXTERNAL = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I)


def _nb():
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("secret_code_marker = 1\nprint('visible output')")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="visible output\n")]
    err = nbformat.v4.new_code_cell("raise ValueError('x')")
    err.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="bad thing", traceback=["Traceback line 1", "frame secret"])]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), code, err]
    return nb


def test_html_hides_code_and_loads_nothing_external():
    html = render_html(_nb(), title="T")
    assert "visible output" in html
    assert "secret_code_marker" not in html
    assert not EXTERNAL.search(html)
    assert "require.js" not in html.lower() and "mathjax.js" not in html.lower() and "cdnjs" not in html


def test_errors_are_shortened_and_the_notebook_is_untouched():
    nb = _nb()
    html = render_html(nb, title="T")
    assert "ValueError: bad thing" in html and "frame secret" not in html
    assert nb.cells[2].outputs[0]["traceback"] == ["Traceback line 1", "frame secret"]


def test_failure_banner_escapes_message():
    html = render_html(_nb(), title="T", banner=failure_banner("<script>alert(1)</script>", last_good="../../x.html"))
    assert "This report failed" in html and "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
