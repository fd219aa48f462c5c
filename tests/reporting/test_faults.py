"""Faults: kernels that die, notebooks that raise, runs interrupted by signals, a disk that refuses
writes, two runs on one folder, and re-runs. In every case the last good report stays byte for
byte, nothing half-written is left beside it, the index says what failed, and a re-run succeeds.

Most tests use a tiny probe notebook (no kit import, about 2 s per kernel) whose behaviour is
switched by a ``mode.txt`` file next to the params, so a fault can be injected into a run that
has already published a good report.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from retention_kit.reporting import publish, runner
from retention_kit.reporting.cli import main
from retention_kit.reporting.runner import EXIT_FAILED, EXIT_OK, INTERRUPTED, run

from tests.factories import REPO, probe_notebooks

PROBE = """\
import os, pathlib, time
mode = pathlib.Path(params_path).with_name("mode.txt").read_text().strip()
pathlib.Path(export_dir, "probe.csv").write_text("mode,value\\n" + mode + ",1\\n")
pathlib.Path(params_path).with_name("started.txt").write_text(str(os.getpid()))
if mode == "raise":
    raise RuntimeError("probe notebook raised on purpose")
if mode == "exit":
    os._exit(1)
if mode == "kill9":
    os.kill(os.getpid(), 9)
if mode == "sleep":
    time.sleep(120)
print("probe finished in mode", mode)
"""


def _nb_dir(tmp: Path) -> Path:
    return probe_notebooks(tmp, PROBE)


def _product(tmp: Path, mode: str = "ok") -> Path:
    csv = tmp / "events.csv"
    if not csv.exists():
        pd.DataFrame({"user_id": ["a", "b"], "timestamp": ["2024-01-01 10:00", "2024-01-02 10:00"],
                      "event": ["x", "y"]}).to_csv(csv, index=False)
    (tmp / "mode.txt").write_text(mode)
    p = tmp / "shop.yaml"
    p.write_text(f"product: shop\ntitle: Shop\ndata:\n  source: {csv}\n")
    return p


def _published(out: Path) -> dict[str, bytes]:
    prod = out / "shop"
    return {str(p.relative_to(prod)): p.read_bytes() for p in sorted(prod.rglob("*"))
            if p.is_file() and "archive" not in p.parts and p.name not in ("status.json", "run.log")}


def _no_temp_files(out: Path) -> None:
    left = [p for p in out.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".cache-")]
    assert not left, left


def _index_row(out: Path) -> str:
    html = (out / "index.html").read_text()
    return html


@pytest.mark.slow
def test_kernel_death_and_raising_notebook_keep_the_good_report(tmp_path):
    nbs, out = _nb_dir(tmp_path), tmp_path / "out"
    params = _product(tmp_path, "ok")
    assert run([params], out=out, notebook_dir=nbs, progress=False).exit_code == EXIT_OK
    good = _published(out)
    assert b"ok,1" in good["data/probe.csv"] and "probe.html" in good

    for mode, expect in [("raise", "probe notebook raised on purpose"), ("exit", "Dead"), ("kill9", "Dead")]:
        _product(tmp_path, mode)
        res = run([params], out=out, notebook_dir=nbs, progress=False)
        assert res.exit_code == EXIT_FAILED, mode
        (st,) = res.statuses
        assert st.status == "failed" and expect.lower() in st.message.lower(), (mode, st.message)
        assert _published(out) == good, mode  # byte-identical, CSV included
        _no_temp_files(out)
        status = json.loads((out / "shop" / "status.json").read_text())["notebooks"]["probe"]
        assert status["status"] == "failed" and status["last_good_run"] != status["run_id"]
        index = _index_row(out)
        assert "failed run" in index and "latest good report" in index
        failed_page = out / "shop" / "archive" / st.run_id / "probe.html"
        assert "This report failed" in failed_page.read_text()

    _product(tmp_path, "ok")
    res = run([params], out=out, notebook_dir=nbs, progress=False)
    assert res.exit_code == EXIT_OK
    assert _published(out)["probe.html"] != good["probe.html"]  # the re-run published anew


def _refuse_writes_into(out: Path, monkeypatch, name: str) -> None:
    """Make ``os.<name>`` (or ``shutil.<name>``) fail with ENOSPC for targets inside ``out``."""
    mod = shutil if name == "copyfile" else os
    original = getattr(mod, name)

    def refuse(src, dst, *a, **kw):
        if str(dst).startswith(str(out)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return original(src, dst, *a, **kw)

    monkeypatch.setattr(mod, name, refuse)


@pytest.mark.slow
def test_disk_that_refuses_writes(tmp_path, monkeypatch, capsys):
    nbs, out = _nb_dir(tmp_path), tmp_path / "out"
    params = _product(tmp_path, "ok")
    assert run([params], out=out, notebook_dir=nbs, progress=False).exit_code == EXIT_OK
    good = _published(out)
    (tmp_path / "mode.txt").write_text("second")

    # 1. copying the new report beside the old one fails (the step a full disk refuses): the
    #    notebook is marked failed with the reason, nothing of it is published, the index says so
    with monkeypatch.context() as m:
        _refuse_writes_into(out / "shop" / "data", m, "copyfile")
        res = run([params], out=out, notebook_dir=nbs, progress=False)
    assert res.exit_code == EXIT_FAILED
    assert "No space left on device" in res.statuses[0].message
    assert _published(out) == good
    _no_temp_files(out)
    assert "No space left on device" in _index_row(out)

    # 2. no rename succeeds anywhere in the output folder (not even the index): the command
    #    stops with one line and exit 2, the published report is untouched
    with monkeypatch.context() as m:
        m.setattr(runner, "NOTEBOOK_DIR", nbs)  # the CLI runs the probe notebook
        _refuse_writes_into(out, m, "replace")
        code = main(["run", str(params), "--out", str(out), "--no-progress"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("retention-kit: error")]
    assert code == 2 and len(err) == 1 and "No space left on device" in err[0], err
    assert _published(out) == good
    _no_temp_files(out)

    # 3. with the disk back, a re-run succeeds and publishes
    res = run([params], out=out, notebook_dir=nbs, progress=False)
    assert res.exit_code == EXIT_OK
    assert b"second,1" in _published(out)["data/probe.csv"]


def test_full_disk_is_one_line_from_the_cli(tmp_path, monkeypatch, capsys):
    # the first write of a run (the folder probe) fails: one line, exit 2, nothing written
    out = tmp_path / "out"
    real_write = Path.write_text

    def refuse(self, *a, **kw):
        if str(self).startswith(str(out)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, *a, **kw)

    monkeypatch.setattr(Path, "write_text", refuse)
    code = main(["run", str(REPO / "params" / "demo.yaml"), "--out", str(out), "--no-progress"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert code == 2 and len(err) == 1 and "No space left on device" in err[0] and "Traceback" not in err[0]


def test_second_run_on_a_locked_folder_gets_a_clear_message(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("previous index")
    with publish.RunLock(out):
        code = main(["run", str(REPO / "params" / "demo.yaml"), "--out", str(out), "--no-progress"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert code == 2 and len(err) == 1
    assert "another run is writing to" in err[0] and f"pid {os.getpid()}" in err[0] and "wait for it" in err[0]
    assert (out / "index.html").read_text() == "previous index"  # untouched


def _cli(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("retention-kit")), *args]


def _wait_for(path: Path, timeout: float = 60) -> None:
    t0 = time.time()
    while not path.exists():
        if time.time() - t0 > timeout:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_run_keeps_the_good_report_and_frees_the_folder(tmp_path, capsys, sig):
    nbs, out = _nb_dir(tmp_path), tmp_path / "out"
    params = _product(tmp_path, "ok")
    assert run([params], out=out, notebook_dir=nbs, progress=False).exit_code == EXIT_OK
    good = _published(out)

    _product(tmp_path, "sleep")
    started = tmp_path / "started.txt"
    started.unlink()
    # the console script runs the kit's own notebooks; a small driver runs the probe the same way
    driver = tmp_path / "driver.py"
    driver.write_text("import sys\nfrom retention_kit.reporting.cli import main\nfrom retention_kit.reporting import runner\n"
                      f"runner.NOTEBOOK_DIR = __import__('pathlib').Path({str(nbs)!r})\n"
                      "sys.exit(main(sys.argv[1:]))\n")
    proc = subprocess.Popen([sys.executable, str(driver), "run", str(params), "--out", str(out), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(started)  # the kernel is running the notebook
        kernel_pid = int(started.read_text())
        # a second run on the same folder meanwhile: refused with a clear message, nothing touched
        assert main(["run", str(params), "--out", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert "another run is writing to" in err and f"pid {proc.pid}" in err
        t0 = time.time()
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert time.time() - t0 < 30, "the interrupted run waited for its notebook instead of stopping"
    assert proc.returncode == 130, stderr
    assert "interrupted; published reports are unchanged" in stderr
    assert not _alive(kernel_pid), "the kernel outlived the interrupted run"
    assert _published(out) == good
    _no_temp_files(out)
    status = json.loads((out / "shop" / "status.json").read_text())["notebooks"]["probe"]
    assert status["status"] == "failed" and status["message"] == INTERRUPTED
    assert "interrupted before it finished" in _index_row(out)

    _product(tmp_path, "ok")
    assert run([params], out=out, notebook_dir=nbs, progress=False).exit_code == EXIT_OK


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_same_data_and_params_give_byte_identical_csv_exports(reference_run, tmp_path):
    """A second run of every notebook on the demo product, against the session's reference run of
    the same params (another process, other kernels, a cold cache of its own): every CSV export
    is byte-identical."""
    ref_res, ref_out = reference_run
    rb = run([REPO / "params" / "demo.yaml"], out=tmp_path / "b", jobs=2, progress=False)
    ok_a = {s.notebook for s in ref_res.statuses if s.product == "demo" and s.status == "ok"}
    ok_b = {s.notebook for s in rb.statuses if s.status == "ok"}
    assert "overview" in ok_a and ok_a == ok_b, [(s.notebook, s.message) for s in rb.statuses]
    a, b = ref_out / "demo" / "data", tmp_path / "b" / "demo" / "data"
    files = sorted(f.name for f in a.glob("*.csv"))
    assert len(files) >= 3 and files == sorted(f.name for f in b.glob("*.csv"))
    differ = [f for f in files if (a / f).read_bytes() != (b / f).read_bytes()]
    assert not differ, differ
