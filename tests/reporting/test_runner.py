"""The runner end to end: papermill executes, nbconvert renders, good reports are never lost."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from retention_kit.reporting.runner import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, available_notebooks, run

from tests.factories import PARAMS, REPO, probe_notebooks

pytestmark = pytest.mark.slow
EXTERNAL = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I)


def _params(tmp: Path, name: str, source: str) -> Path:
    f = tmp / f"{name}.yaml"
    f.write_text(f"product: {name}\ntitle: Product {name}\ndata:\n  source: {source}\n")
    return f


def _nb_dir(tmp: Path) -> Path:
    """The overview notebook plus one that fails for products whose name starts with 'bad'."""
    return probe_notebooks(tmp, "import os, pathlib, yaml\n"
                                "p = yaml.safe_load(open(params_path))\n"
                                "pathlib.Path(export_dir, 'probe.csv').write_text('a\\n1\\n')\n"
                                "if p['product'].startswith('bad'):\n    raise RuntimeError('notebook exploded')\n"
                                "print('probe ok')", also=("overview",))


def test_demo_and_real_data_end_to_end(tmp_path, shared_data):
    out = tmp_path / "out"
    res = run([PARAMS / "demo.yaml", PARAMS / "stackexchange_martialarts.yaml"], out=out,
              notebooks=["overview"], jobs=2, progress=False)
    assert res.exit_code == EXIT_OK, [s.message for s in res.statuses]
    index = (out / "index.html").read_text()
    for product in ("demo", "stackexchange_martialarts"):
        page = out / product / "overview.html"
        html = page.read_text()
        assert "Data overview" in html
        assert "report.start(" not in html and "import retention_kit" not in html  # code hidden
        assert not EXTERNAL.search(html)
        assert f'href="{product}/overview.html"' in index
        for csv in ("event_types", "events_per_day", "data_quality"):
            assert (out / product / "data" / f"{csv}.csv").exists()
        st = json.loads((out / product / "status.json").read_text())
        assert st["notebooks"]["overview"]["status"] == "ok"
    # exported numbers agree with an independent read of the real file
    raw = pd.read_csv(shared_data / "stackexchange_martialarts" / "events.csv.gz")
    types = pd.read_csv(out / "stackexchange_martialarts" / "data" / "event_types.csv")
    top = raw["event"].value_counts()
    assert types.iloc[0]["event"] == top.index[0] and types.iloc[0]["events"] == top.iloc[0]
    per_day = pd.read_csv(out / "stackexchange_martialarts" / "data" / "events_per_day.csv")
    assert per_day["events"].sum() == len(raw)


def test_failures_are_isolated_and_keep_the_last_good_report(tmp_path):
    nbs = _nb_dir(tmp_path)
    good_csv = tmp_path / "good.csv"
    pd.DataFrame({"user_id": ["a", "b"], "timestamp": ["2024-01-01 10:00", "2024-01-02 10:00"], "event": ["x", "y"]}).to_csv(good_csv, index=False)
    ok = _params(tmp_path, "okprod", str(good_csv))
    bad = _params(tmp_path, "badprod", str(good_csv))
    out = tmp_path / "out"
    # first run: 'badprod' fails in the probe notebook, 'okprod' is unaffected
    res = run([ok, bad], out=out, notebook_dir=nbs, progress=False)
    assert res.exit_code == EXIT_FAILED
    by = {(s.product, s.notebook): s for s in res.statuses}
    assert by[("okprod", "probe")].status == "ok" and by[("okprod", "overview")].status == "ok"
    assert by[("badprod", "probe")].status == "failed" and "notebook exploded" in by[("badprod", "probe")].message
    assert by[("badprod", "overview")].status == "ok"
    assert not (out / "badprod" / "probe.html").exists()  # nothing good to publish yet
    failed_page = out / "badprod" / "archive" / by[("badprod", "probe")].run_id / "probe.html"
    assert "This report failed" in failed_page.read_text()
    index = (out / "index.html").read_text()
    assert "failed run" in index and "notebook exploded" in index

    # second run: okprod's data is now broken -> exit 2, its good report and CSVs stay in place
    before = (out / "okprod" / "overview.html").read_bytes()
    csv_before = (out / "okprod" / "data" / "event_types.csv").read_bytes()
    good_csv.write_text("user_id,timestamp,event\n")
    res = run([ok], out=out, notebook_dir=nbs, progress=False)
    assert res.exit_code == EXIT_BAD_INPUT
    assert "empty" in res.input_errors[0]
    assert (out / "okprod" / "overview.html").read_bytes() == before
    assert (out / "okprod" / "data" / "event_types.csv").read_bytes() == csv_before
    assert not list((out / "okprod").glob(".*.tmp"))
    st = json.loads((out / "okprod" / "status.json").read_text())
    assert st["notebooks"]["overview"]["status"] == "error"
    assert st["notebooks"]["overview"]["last_good_run"] != st["notebooks"]["overview"]["run_id"]
    # the index still lists badprod from the earlier run
    assert "badprod" in (out / "index.html").read_text()


def test_bad_params_exit_2_and_others_still_run(tmp_path):
    nbs = _nb_dir(tmp_path)
    good_csv = tmp_path / "good.csv"
    pd.DataFrame({"user_id": ["a"], "timestamp": ["2024-01-01 10:00"], "event": ["x"]}).to_csv(good_csv, index=False)
    ok = _params(tmp_path, "okprod", str(good_csv))
    broken = tmp_path / "broken.yaml"
    broken.write_text("product: x\ndata:\n  sourc: a.csv\n")
    res = run([broken, ok], out=tmp_path / "out", notebook_dir=nbs, notebooks=["probe"], progress=False)
    assert res.exit_code == EXIT_BAD_INPUT
    assert "did you mean 'source'" in res.input_errors[0]
    assert [s.status for s in res.statuses] == ["ok"]


def test_available_notebooks_in_report_order():
    names = available_notebooks()
    assert names[0] == "overview"


def test_kernels_on_one_spark_catalog_take_turns_and_wait_for_the_last_jvm(tmp_path):
    # an embedded Derby metastore admits one process: a turn begins only when no process that
    # holds the catalog (found by the JVM flag the kit's Spark session sets) is left
    import subprocess
    import sys
    import threading
    import time

    from retention_kit.data.backends import DERBY_HOME_FLAG
    from retention_kit.reporting.runner import _catalog_jvms, _catalog_turn

    folder = str(tmp_path / "catalog")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", f"{DERBY_HOME_FLAG}{folder}"])
    try:
        # just forked, the child still shows the parent's command line until it has exec'd
        deadline = time.monotonic() + 20
        while not _catalog_jvms([folder]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _catalog_jvms([folder]) == [holder.pid]
        assert _catalog_jvms([str(tmp_path / "other")]) == []
        threading.Timer(0.5, holder.kill).start()
        with _catalog_turn([folder]):
            assert holder.poll() is not None  # the holder was gone before the turn began
    finally:
        holder.kill()
        holder.wait()

    spans, guard = [], threading.Lock()

    def one(i):
        with _catalog_turn([folder]):
            t0 = time.monotonic()
            time.sleep(0.2)
            with guard:
                spans.append((t0, time.monotonic()))

    workers = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    spans.sort()
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # never two at once
    with _catalog_turn([]):  # products without a catalog do not wait
        pass


def _kernels() -> list:
    import psutil

    return [p for p in psutil.Process().children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]


def test_first_kernels_start_during_the_load_and_end_unrun_when_it_fails(tmp_path):
    """The run's first kernels start (and import the kit) while the runner loads the logs, and
    wait for every load to end before their first cell. A product whose load fails ends its
    waiting kernels without running a cell and without an archive entry; the other product's
    notebooks run in the kernels that follow."""
    nbs = _nb_dir(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text("user_id,timestamp,event\n")
    good_csv = tmp_path / "good.csv"
    pd.DataFrame({"user_id": ["a", "b"], "timestamp": ["2024-01-01 10:00", "2024-01-02 10:00"],
                  "event": ["x", "y"]}).to_csv(good_csv, index=False)
    broken, ok = _params(tmp_path, "brokenprod", str(empty)), _params(tmp_path, "okprod", str(good_csv))
    out = tmp_path / "out"
    # jobs=2: both kernels that start during the load are brokenprod's
    res = run([broken, ok], out=out, notebook_dir=nbs, notebooks=["probe", "overview"], jobs=2, progress=False)
    assert res.exit_code == EXIT_BAD_INPUT
    by = {(s.product, s.notebook): s for s in res.statuses}
    assert len(res.statuses) == 4 == len(by)
    assert {by[("brokenprod", n)].status for n in ("probe", "overview")} == {"error"}
    assert "empty" in by[("brokenprod", "probe")].message
    assert {by[("okprod", n)].status for n in ("probe", "overview")} == {"ok"}
    # the run's archive folder holds its log alone, as when no kernel had started
    assert [p.name for p in (out / "brokenprod" / "archive").rglob("*") if p.is_file()] == ["run.log"]
    assert not list((out / "brokenprod").glob("*.html"))
    st = json.loads((out / "brokenprod" / "status.json").read_text())
    assert {n["status"] for n in st["notebooks"].values()} == {"error"}
    assert not _kernels(), "a kernel outlived the run"
    lines = (out / "brokenprod" / "run.log").read_text().splitlines()
    started = [i for i, line in enumerate(lines) if "INFO runner: kernel starting during the load" in line]
    failed = [i for i, line in enumerate(lines) if "ERROR runner: DataError" in line]
    assert len(started) == 2 and failed and max(started) < failed[0]
    assert not any("the load has ended" in line for line in lines)

    # a good product alone: its first kernel starts before the load ends and runs after it
    res = run([ok], out=out, notebook_dir=nbs, notebooks=["probe"], progress=False)
    assert res.exit_code == EXIT_OK
    lines = (out / "okprod" / "run.log").read_text().splitlines()
    lines = lines[max(i for i, line in enumerate(lines) if "=== run" in line):]  # this run's part
    order = [next(i for i, line in enumerate(lines) if key in line)
             for key in ("probe INFO runner: kernel starting during the load", "INFO runner: load ",
                         "probe INFO runner: started (the load has ended", "probe INFO runner: ok in")]
    assert order == sorted(order), lines
    assert "probe ok" in (out / "okprod" / "archive" / res.statuses[0].run_id / "probe.ipynb").read_text()
