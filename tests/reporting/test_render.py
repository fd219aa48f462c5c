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


GLYPH = ("/home/ana/.venv/lib/python3.11/site-packages/IPython/core/pylabtools.py:158: UserWarning: Glyph 28687 "
         "(\\N{CJK UNIFIED IDEOGRAPH-700F}) missing from font(s) DejaVu Sans.\n  fig.canvas.print_figure(bytes_io, **kw)\n")


def _content(html: str) -> str:
    """The page without its stylesheets (the template's CSS names things like 'Glyph')."""
    return re.sub(r"<style[^>]*>.*?</style>", "", html, flags=re.S)


def _noisy_nb():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=GLYPH),
        nbformat.v4.new_output("stream", name="stdout", text="42 buyers\n" + GLYPH + "WARNING:py.warnings:careful\n"
                               "[IPKernelApp] WARNING | Kernel is running over TCP without encryption.\n"
                               "KeyboardInterrupt caught in kernel\nsaved to /srv/shop/exports/events.csv\n"),
        nbformat.v4.new_output("display_data", data={"text/plain": "PosixPath('/srv/shop/exports/x.csv')"}),
        nbformat.v4.new_output("error", ename="SourceError", evalue="data.source: /srv/shop/exports/gone.csv not found",
                               traceback=["Traceback", "File /srv/shop/x.py"]),
    ]
    nb.cells = [cell]
    return nb


def test_stderr_warnings_and_machine_paths_never_reach_the_page():
    html = _content(render_html(_noisy_nb(), title="T", private_dirs=["/srv/shop"],
                                banner=failure_banner("cannot read /srv/shop/exports/gone.csv", last_good=None)))
    for noise in ("Glyph", "UserWarning", "pylabtools", "site-packages", "/home/ana", "WARNING", "IPKernelApp",
                  "KeyboardInterrupt", "/srv/shop", "Traceback"):
        assert noise not in html, noise
    # what the reader needs stays: the output, the file each message names, the error in one line
    assert "42 buyers" in html and "saved to …/events.csv" in html
    assert "SourceError: data.source: …/gone.csv not found" in html
    assert "cannot read …/gone.csv" in html and "PosixPath('…/x.csv')" in html


def test_a_notebook_with_only_noise_has_no_empty_output_left():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=GLYPH)]
    nb.cells = [cell]
    html = _content(render_html(nb, title="T"))
    assert "Glyph" not in html and "jp-OutputArea-output" not in html


def test_machine_folders_are_cut_but_data_values_that_look_like_paths_are_not():
    from retention_kit.reporting.render import machine_dirs, scrub_paths

    dirs = machine_dirs(["/srv/shop"])
    home = __import__("os").path.expanduser("~")
    assert scrub_paths(f"read {home}/data/e.csv and /srv/shop", dirs) == "read …/e.csv and …"
    # URL paths are event names in many products: they are data, not machine paths
    assert scrub_paths("event /checkout/confirm on https://shop.example/srv/shop/x", dirs) == \
        "event /checkout/confirm on https://shop.example/srv/shop/x"
    assert scrub_paths("/srv/shopping/list", dirs) == "/srv/shopping/list"  # a folder's name, not a prefix
