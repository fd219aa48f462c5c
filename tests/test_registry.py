"""The registry of report families (retention_kit.analyses.REPORTS): README's tables say what it
says, every family has a notebook, and the runner and the index page follow its order."""

from __future__ import annotations

import re

import pytest

from retention_kit import REPORTS
from retention_kit.analyses import report_spec
from retention_kit.reporting.runner import NOTEBOOK_DIR, available_notebooks

from tests.factories import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _table_rows(heading: str) -> list[list[str]]:
    """The body rows of the first Markdown table after ``heading``, as lists of cell texts."""
    lines = README[README.index(heading):].splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines[start + 2:end]]


def test_readme_notebook_table_is_the_registry():
    rows = _table_rows("## Explore in JupyterLab")
    readme = {re.sub(r"`", "", name): question for name, question in rows}
    expected = {s.name: (f"{s.question} ([docs]({s.docs}))" if s.docs else s.question) for s in REPORTS}
    assert readme == expected


def test_readme_export_table_is_the_registry():
    rows = _table_rows("### CSV exports")
    readme = {(f.strip("`"), cols, nb) for f, cols, nb in rows}
    expected = {(f"{e.name}.csv", ", ".join(e.contract), s.name) for s in REPORTS for e in s.exports}
    assert readme == expected


def test_every_report_has_its_notebook_in_run_order():
    assert [s.order for s in REPORTS] == sorted(s.order for s in REPORTS)
    assert available_notebooks(NOTEBOOK_DIR) == [s.name for s in REPORTS]
    names = [e.name for s in REPORTS for e in s.exports]
    assert len(names) == len(set(names)), "two families export the same file name"
    for s in REPORTS:
        assert all(c.doc for e in s.exports for c in (*e.columns, *e.extra)), f"{s.name}: undocumented column"
        if s.docs:
            assert (REPO / s.docs).exists(), s.docs


def test_unknown_names_are_clear_errors():
    with pytest.raises(KeyError, match="reports: overview, stickiness"):
        report_spec("stickyness")
    with pytest.raises(KeyError, match="declares no export 'dau'.*active_users"):
        report_spec("stickiness").export("dau")
