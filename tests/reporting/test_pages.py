"""What the rendered pages say, on the demo and the shared real logs: no figure that could not be
computed reaches a page as nan, None or inf."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from retention_kit.reporting.runner import EXIT_OK

from tests.conftest import REFERENCE_PRODUCTS as PRODUCTS
# a missing figure printed raw; words such as "none" or "information" are fine
_MISSING = re.compile(r"(?<![\w.\-])(nan|NaN|None|inf|-inf|Infinity|NaT)(?![\w\-])")


class _Text(HTMLParser):
    """The text a reader sees: outside <script> and <style>, tags dropped (images' base64 data
    lives in attributes and is left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    p = _Text()
    p.feed(page)
    return html.unescape(" ".join(p.parts))


@pytest.mark.slow
def test_no_page_prints_nan_none_or_inf(reference_run):
    res, out = reference_run
    assert res.exit_code == EXIT_OK, [(s.product, s.notebook, s.message) for s in res.statuses if s.status != "ok"]
    pages = sorted(out.glob("*/*.html"))
    assert len(pages) == 5 * len(PRODUCTS)
    found = {}
    for page in pages:
        text = visible_text(page.read_text(encoding="utf-8"))
        hits = [text[max(0, m.start() - 60): m.end() + 20] for m in _MISSING.finditer(text)]
        if hits:
            found[f"{page.parent.name}/{page.name}"] = hits[:3]
    assert not found, found


def test_the_scan_sees_what_a_reader_sees():
    page = ('<p>lift 4.5 on earlier vs nan on later users</p><script>var x = None;</script>'
            '<img src="data:image/png;base64,infNaN"><p>none of the information</p>')
    text = visible_text(page)
    assert [m.group(1) for m in _MISSING.finditer(text)] == ["nan"]
