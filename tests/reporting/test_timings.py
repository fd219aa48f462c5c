"""The observability contract: status.json's ``load`` object, per-notebook compute and render
seconds, and ``retention-kit run --timings``."""

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from retention_kit.data.log import LoadStats
from retention_kit.reporting import publish, runner
from retention_kit.reporting.cli import main, timings_table
from retention_kit.reporting.runner import RunResult, compute_seconds, run

from tests.factories import probe_notebooks


def _status(notebook: str, **kw) -> publish.NotebookStatus:
    return publish.NotebookStatus(product="shop", title="Shop", notebook=notebook, status="ok", seconds=3.5,
                                  run_id="r1", **kw)


def test_status_json_holds_the_load_and_each_notebooks_timings(tmp_path):
    load = LoadStats(seconds=1.25, rows_scanned=1200, files_scanned=3, cache="partial")
    publish.write_status(tmp_path, [_status("overview", compute_seconds=2.0, render_seconds=0.5)], load=load)
    doc = json.loads((tmp_path / "status.json").read_text())
    assert doc["load"] == {"seconds": 1.25, "rows_scanned": 1200, "files_scanned": 3, "cache": "partial"}
    nb = doc["notebooks"]["overview"]
    assert nb["compute_seconds"] == 2.0 and nb["render_seconds"] == 0.5 and nb["seconds"] == 3.5
    # a run that did not load the log says so (null), and other notebooks keep their entries
    publish.write_status(tmp_path, [_status("stickiness")])
    doc = json.loads((tmp_path / "status.json").read_text())
    assert doc["load"] is None and set(doc["notebooks"]) == {"overview", "stickiness"}
    assert doc["notebooks"]["stickiness"]["compute_seconds"] is None


def test_compute_seconds_adds_up_the_cells_papermill_timed():
    nb = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_code_cell("a"), nbformat.v4.new_code_cell("b"), nbformat.v4.new_markdown_cell("c")]
    cells[0].metadata["papermill"] = {"duration": 1.5}
    cells[1].metadata["papermill"] = {"duration": 0.25}
    cells[2].metadata["papermill"] = {"duration": None}  # papermill leaves unexecuted cells untimed
    nb.cells = cells
    assert compute_seconds(nb) == 1.75
    assert compute_seconds(nbformat.v4.new_notebook()) is None


def test_timings_table_lists_the_load_and_every_notebook():
    res = RunResult(statuses=[_status("overview", compute_seconds=2.0, render_seconds=0.5), _status("ladder")],
                    index=None, input_errors=[],
                    loads={"shop": LoadStats(seconds=0.5, rows_scanned=12345, files_scanned=2, cache="miss")})
    lines = timings_table(res).splitlines()
    assert lines[0].split() == ["product", "cache", "load", "s", "rows", "scanned", "files", "scanned"]
    assert lines[1].split() == ["shop", "miss", "0.50", "12,345", "2"]
    assert lines[2] == ""
    assert lines[3].split() == ["product", "notebook", "status", "seconds", "compute", "s", "render", "s"]
    assert lines[4].split() == ["shop", "overview", "ok", "3.50", "2.00", "0.50"]
    assert lines[5].split() == ["shop", "ladder", "ok", "3.50", "-", "-"]


def _probe_notebooks(tmp: Path) -> Path:
    return probe_notebooks(tmp, "from retention_kit import load_events, load_params\n"
                                "log = load_events(load_params(params_path), cache_dir=cache_dir)\n"
                                "print(log.load_stats.cache, log.quality.rows_read)")


@pytest.mark.slow
def test_a_run_records_its_load_and_timings_and_the_next_run_hits_the_cache(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "events"
    folder.mkdir()
    # 3 + 2 rows in two files, one of them invalid (no user): 5 rows read, 4 kept
    pd.DataFrame({"user_id": ["a", "b", None], "timestamp": ["2024-01-01 10:00", "2024-01-02 10:00", "2024-01-02 11:00"],
                  "event": ["x", "y", "x"]}).to_csv(folder / "w1.csv", index=False)
    pd.DataFrame({"user_id": ["a", "c"], "timestamp": ["2024-01-08 10:00", "2024-01-09 10:00"],
                  "event": ["x", "x"]}).to_csv(folder / "w2.csv", index=False)
    params = tmp_path / "shop.yaml"
    params.write_text(f"product: shop\ntitle: Shop\ndata:\n  source: {folder}/*.csv\n  max_dropped_share: 0.5\n")
    nbs, out = _probe_notebooks(tmp_path), tmp_path / "out"
    res = run([params], out=out, notebook_dir=nbs, progress=False)
    assert res.exit_code == 0, [s.message for s in res.statuses]
    doc = json.loads((out / "shop" / "status.json").read_text())
    load = doc["load"]
    assert load["cache"] == "miss" and load["rows_scanned"] == 5 and load["files_scanned"] == 2
    assert load["seconds"] > 0
    nb = doc["notebooks"]["probe"]
    assert 0 < nb["compute_seconds"] <= nb["seconds"] and 0 < nb["render_seconds"] <= nb["seconds"]
    # the kernel loaded from what the runner's load built
    page = (out / "shop" / "probe.html").read_text()
    assert "hit 5" in page
    assert (out / ".cache" / "shop" / "manifest.json").exists()

    # the same source again: nothing scanned; --timings prints the same figures
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", nbs)  # the CLI runs the probe notebook too
    capsys.readouterr()
    code = main(["run", str(params), "--out", str(out), "--no-progress", "--timings"])
    assert code == 0
    err = capsys.readouterr().err.splitlines()
    head = next(i for i, line in enumerate(err) if line.startswith("product  cache"))
    assert err[head + 1].split() == ["shop", "hit", err[head + 1].split()[2], "0", "0"]
    doc = json.loads((out / "shop" / "status.json").read_text())
    assert doc["load"]["cache"] == "hit" and doc["load"]["rows_scanned"] == 0
    row = next(line for line in err if line.startswith("shop") and "probe" in line).split()
    nb = doc["notebooks"]["probe"]
    assert row[2:] == ["ok", f"{nb['seconds']:.2f}", f"{nb['compute_seconds']:.2f}", f"{nb['render_seconds']:.2f}"]

    # --cache-dir puts the cache elsewhere
    elsewhere = tmp_path / "cache"
    assert main(["run", str(params), "--out", str(out), "--no-progress", "--cache-dir", str(elsewhere)]) == 0
    assert json.loads((out / "shop" / "status.json").read_text())["load"]["cache"] == "miss"
    assert (elsewhere / "shop" / "manifest.json").exists()
