"""The run log: per product, appended run after run with the run id, this run alone in the
archive, library warnings of the runner's process routed into it (not the console), and a
long-lived file trimmed to whole recent runs."""

from __future__ import annotations

import logging
import warnings

from retention_kit.reporting import runlog
from retention_kit.reporting.runlog import RunLog


def test_entries_go_to_the_product_log_and_this_runs_archive_copy(tmp_path, capsys):
    for run_id in ("20240101-000000", "20240102-000000"):
        with RunLog(tmp_path) as log:
            log.open_product("shop", run_id, notebooks=2)
            log.open_product("demo", run_id, notebooks=1)
            with log.context("shop", "overview"):
                warnings.warn(f"forced in {run_id}", UserWarning)
                logging.getLogger("some.library").warning("library says %s", "hello")
                logging.getLogger("some.library").info("too chatty for the log")
            log.write("demo", "ladder", "STDERR", "cell 3", "line one\nline two")
            log.write(None, None, "INFO", "runner", "to everyone")
    assert capsys.readouterr().err == ""  # nothing reached the console
    shop = (tmp_path / "shop" / "run.log").read_text(encoding="utf-8")
    assert shop.count("=== run 2024010") == 2  # appended: both runs, each with its id
    assert "=== run 20240101-000000 of shop: 2 notebook(s)" in shop
    assert "overview WARNING py.warnings:" in shop and "forced in 20240102-000000" in shop
    assert "overview WARNING some.library: library says hello" in shop and "too chatty" not in shop
    assert "line one" not in shop and shop.count("to everyone") == 2
    demo = (tmp_path / "demo" / "run.log").read_text(encoding="utf-8")
    assert "ladder STDERR cell 3: line one\n    line two\n" in demo and "forced in" not in demo
    archived = (tmp_path / "shop" / "archive" / "20240102-000000" / "run.log").read_text(encoding="utf-8")
    assert "forced in 20240102-000000" in archived and "20240101-000000" not in archived


def test_debug_echoes_the_log_on_the_console(tmp_path, capsys):
    with RunLog(tmp_path, echo=True) as log:
        log.open_product("shop", "20240101-000000", notebooks=1)
        log.write("shop", "overview", "STDERR", "cell 2", "a warning")
    err = capsys.readouterr().err
    assert "shop: " in err and "overview STDERR cell 2: a warning" in err


def test_warnings_capture_is_given_back_after_the_run(tmp_path):
    with RunLog(tmp_path):
        pass
    assert logging._warnings_showwarning is None  # warnings print as before outside a run


def test_a_long_log_keeps_whole_recent_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(runlog, "MAX_BYTES", 2_000)
    for i in range(30):
        with RunLog(tmp_path) as log:
            log.open_product("shop", f"20240101-0000{i:02d}", notebooks=1)
            log.write("shop", "overview", "INFO", "runner", "x" * 60)
    text = (tmp_path / "shop" / "run.log").read_text(encoding="utf-8")
    assert len(text.encode()) < 2 * 2_000 and "20240101-000029" in text and "20240101-000000" not in text
    assert text.split(" ", 3)[2] == "===" and text.endswith("\n")  # starts at a run's first line
