"""Every docstring example of the package runs, one test per module (so a failure names it).

The examples share three names besides their module's globals: ``log``, the demo log (the demo
params with a smaller demo source, loaded once per session), ``params``, those params, and
``lad``, ``params.ladder``. Anything else an example uses it imports itself. No example may be
skipped: an example that cannot run is deleted, not marked ``+SKIP``. Each docstring runs in its
own copy of the namespace (doctest's rule), so an example may rebind these names.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil

import pytest

import retention_kit
from retention_kit import load_events, load_params
from retention_kit.reporting.report import DEMO_PARAMS

#: The demo product at a quarter of its size: the examples run in seconds.
DEMO_SOURCE = {"demo": {"n_users": 1500, "seed": 7}}
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
#: Modules that cannot be imported without side effects (``python -m retention_kit`` runs the CLI).
NOT_IMPORTED = {"retention_kit.__main__"}

MODULES = sorted(m.name for m in pkgutil.walk_packages(retention_kit.__path__, "retention_kit."))


@pytest.fixture(scope="session")
def doctest_globs() -> dict:
    params = load_params(DEMO_PARAMS, overrides={
        "data.source": DEMO_SOURCE,
        "data.users.source": {**DEMO_SOURCE, "table": "users"},
    })
    return {"log": load_events(params), "params": params, "lad": params.ladder}


def _source(name: str) -> str:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin, name
    with open(spec.origin, encoding="utf-8") as f:
        return f.read()


def test_the_walk_finds_the_package():
    assert {"retention_kit.core.periods", "retention_kit.analyses.ladder.moves", "retention_kit.data.log"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str, doctest_globs: dict):
    if name in NOT_IMPORTED:
        assert ">>>" not in _source(name), f"{name} has examples but cannot be imported to run them"
        pytest.skip(f"{name} is not imported (side effects) and has no examples")
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder().find(module, extraglobs=doctest_globs)
    skipped = [f"{t.name} (line {t.lineno + ex.lineno + 1 if t.lineno is not None else '?'})"
               for t in tests for ex in t.examples if ex.options.get(doctest.SKIP)]
    assert not skipped, f"skipped examples (make them run or delete them): {skipped}"
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    failed = attempted = 0
    for t in sorted(tests, key=lambda t: t.name):
        r = runner.run(t, out=report.append)
        failed, attempted = failed + r.failed, attempted + r.attempted
    if failed:
        pytest.fail(f"{failed} of {attempted} examples failed in {name}:\n" + "".join(report), pytrace=False)
