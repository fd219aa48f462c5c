"""The run's progress lines: the time left, from the product's last run."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from retention_kit.reporting.progress import Eta, duration, last_seconds
from retention_kit.reporting.runner import EXIT_OK, run

from tests.factories import probe_notebooks


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_time_left_is_the_work_left_shared_among_the_kernels():
    keys = [("p", "a"), ("p", "b"), ("p", "c"), ("q", "a")]
    past = {("p", "a"): 10.0, ("p", "b"): 20.0, ("p", "c"): 30.0, ("q", "a"): 40.0}
    clock = Clock()
    eta = Eta(keys, past=past, jobs=2, clock=clock)
    assert eta.left() == (10 + 20 + 30 + 40) / 2
    eta.started(("p", "a"))
    eta.started(("p", "b"))
    clock.now = 4.0
    # running: 6 s and 16 s still expected; waiting: 30 + 40
    assert eta.left() == (6 + 16 + 30 + 40) / 2
    clock.now = 15.0  # a has run past its time: it adds nothing, not a negative time
    assert eta.left() == (0 + 5 + 30 + 40) / 2
    eta.finished(("p", "a"))
    eta.finished(("p", "b"))
    eta.finished(("p", "c"))
    assert eta.left() == 40.0  # one notebook left: one kernel works, whatever jobs says
    eta.started(("q", "a"))
    eta.finished(("q", "a"))
    assert eta.left() is None  # all ended: no "about 0 s left" on lines still to print


def test_two_notebooks_ending_together_print_no_estimate_without_past_times():
    # the first line is printed after both kernels ended (seen in a real run): nothing is left,
    # and with no past times there never was an estimate
    eta = Eta([("p", "a"), ("p", "b")], past={}, jobs=2, clock=Clock())
    for k in (("p", "a"), ("p", "b")):
        eta.started(k)
    eta.finished(("p", "a"))
    eta.finished(("p", "b"))
    assert eta.left() is None
    from retention_kit.reporting import publish
    from retention_kit.reporting.runner import _progress_line
    st = publish.NotebookStatus(product="p", title="P", notebook="a", status="ok", seconds=11.6, run_id="r")
    assert _progress_line(1, 2, st, eta.left()) == "[1/2] p/a ok 11.6 s"


def test_no_estimate_while_a_notebook_to_finish_has_no_past_time():
    eta = Eta([("p", "a"), ("p", "new")], past={("p", "a"): 10.0, ("x", "other"): 5.0}, jobs=1, clock=Clock())
    assert eta.left() is None
    eta.started(("p", "new"))
    eta.finished(("p", "new"))
    assert eta.left() == 10.0


@pytest.mark.parametrize("seconds, text", [(0.4, "0 s"), (42.4, "42 s"), (60, "1 min"), (185, "3 min 5 s"),
                                           (3725, "1 h 2 min"), (-3, "0 s")])
def test_durations_read_as_a_person_says_them(seconds, text):
    assert duration(seconds) == text


def test_last_seconds_are_the_last_good_runs(tmp_path):
    assert last_seconds(tmp_path) == {}
    (tmp_path / "status.json").write_text("{not json")
    assert last_seconds(tmp_path) == {}
    (tmp_path / "status.json").write_text(json.dumps({"notebooks": {
        "a": {"status": "ok", "seconds": 12.5}, "b": {"status": "failed", "seconds": 1.0},
        "c": {"status": "ok", "seconds": None}}}))
    assert last_seconds(tmp_path) == {"a": 12.5}


@pytest.mark.slow
def test_a_second_run_says_how_long_the_rest_will_take(tmp_path, capsys):
    nbs = probe_notebooks(tmp_path, "print('probe')")
    shutil.copy(nbs / "probe.ipynb", nbs / "second.ipynb")
    pd.DataFrame({"user_id": ["a", "b"], "timestamp": ["2024-01-01 10:00", "2024-01-02 10:00"],
                  "event": ["x", "y"]}).to_csv(tmp_path / "events.csv", index=False)
    params = tmp_path / "shop.yaml"
    params.write_text(f"product: shop\ntitle: Shop\ndata:\n  source: {tmp_path / 'events.csv'}\n")
    out = tmp_path / "out"

    assert run([params], out=out, notebook_dir=nbs, jobs=1).exit_code == EXIT_OK
    first = capsys.readouterr().err.splitlines()
    # a first run knows no past times: no estimate, rather than a guess
    assert not any("left" in ln or "by the last run" in ln for ln in first), first

    past = json.loads((out / "shop" / "status.json").read_text())["notebooks"]
    total = past["probe"]["seconds"] + past["second"]["seconds"]
    assert run([params], out=out, notebook_dir=nbs, jobs=1).exit_code == EXIT_OK
    lines = capsys.readouterr().err.splitlines()
    opening = next(ln for ln in lines if "by the last run's times" in ln)
    assert re.fullmatch(r"2 reports to run, 1 at a time: about \d+ s by the last run's times", opening)
    assert int(re.search(r"about (\d+) s", opening).group(1)) == round(total)
    first_done = next(ln for ln in lines if ln.startswith("[1/2]"))
    m = re.fullmatch(r"\[1/2\] shop/(probe|second) ok \d+\.\d s; about (\d+) s left", first_done)
    assert m, first_done
    other = "second" if m.group(1) == "probe" else "probe"
    assert int(m.group(2)) <= round(past[other]["seconds"])
    last = next(ln for ln in lines if ln.startswith("[2/2]"))
    assert "left" not in last


def test_kernels_on_one_spark_catalog_are_estimated_one_after_another(tmp_path):
    from types import SimpleNamespace

    from retention_kit.reporting.runner import _eta

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "status.json").write_text(json.dumps({"notebooks": {
        "a": {"status": "ok", "seconds": 10.0}, "b": {"status": "ok", "seconds": 30.0}}}))

    def tasks(catalogs):
        return [SimpleNamespace(params=SimpleNamespace(product="p"), notebook=n, catalogs=catalogs) for n in "ab"]

    assert _eta(tasks(()), tmp_path, jobs=2).left() == 20.0
    assert _eta(tasks(("/cat",)), tmp_path, jobs=2).left() == 40.0


@pytest.mark.slow
def test_kernels_that_run_at_once_share_the_engine_memory_limit(tmp_path, monkeypatch):
    # the limit is the run's: two kernels at once get half each, less room for their own Python
    # (engine.KERNEL_RESERVE_MB), so together they stay within it
    from retention_kit.reporting import runner as runner_mod
    monkeypatch.setattr(runner_mod, "DEFAULT_MEMORY_LIMIT", "5GB")
    monkeypatch.delenv("RETENTION_KIT_SPILL_DIR", raising=False)
    nbs = probe_notebooks(tmp_path, "import os, pathlib\n"
                                    "from retention_kit.data import engine\n"
                                    "pathlib.Path(export_dir, '..', '..', f'{os.getpid()}.limit').write_text("
                                    "engine.DEFAULT_MEMORY_LIMIT)\n"
                                    "pathlib.Path(export_dir, '..', '..', f'{os.getpid()}.spill').write_text("
                                    "engine.spill_folder())")
    shutil.copy(nbs / "probe.ipynb", nbs / "second.ipynb")
    pd.DataFrame({"user_id": ["a", "b"], "timestamp": ["2024-01-01 10:00", "2024-01-02 10:00"],
                  "event": ["x", "y"]}).to_csv(tmp_path / "events.csv", index=False)
    params = tmp_path / "shop.yaml"
    params.write_text(f"product: shop\ntitle: Shop\ndata:\n  source: {tmp_path / 'events.csv'}\n")
    for jobs, expected in ((2, "2100MB"), (1, "5GB")):
        out = tmp_path / f"out{jobs}"
        assert run([params], out=out, notebook_dir=nbs, jobs=jobs, progress=False).exit_code == EXIT_OK
        limits = [p.read_text() for p in (out / "shop" / "archive").glob("*/*.limit")]
        assert limits == [expected, expected], (jobs, limits)
        # each kernel spills into a folder of its own in the run's spill folder, gone after the run
        spills = [Path(p.read_text()) for p in (out / "shop" / "archive").glob("*/*.spill")]
        assert len(set(spills)) == 2 and all(s.parent == out / ".spill" for s in spills), spills
        assert not (out / ".spill").exists()
