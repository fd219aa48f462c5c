"""Nothing but the report on the page, nothing but progress on the console.

Real kernels (marked slow): an analyst's own notebook that forces plotting warnings and writes
to stderr renders a page without any of it, and the run log holds it all; a real
``retention-kit demo`` prints one line per notebook, a summary and the index path, and neither
the console nor the log carries the kernels' TCP warning or a "KeyboardInterrupt caught in
kernel" line; ``--debug`` after the subcommand prints the run log on the console.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from retention_kit.reporting.render import machine_dirs
from retention_kit.reporting.runner import run

from tests.factories import PARAMS

FORCED = '''\
import io, sys, warnings
import matplotlib.pyplot as plt
from IPython.display import Image, display
import retention_kit
plt.rcParams["font.family"] = ["DejaVu Sans"]  # no CJK font: every Chinese glyph warns
fig, ax = plt.subplots()
ax.bar(["瀏覽商品", "結帳"], [3, 1])
ax.set_title("樂屋網 買家")
warnings.warn("forced plotting warning", UserWarning)
print("visible analyst output")
print("stderr line from", retention_kit.__file__, file=sys.stderr)
png = io.BytesIO()
fig.savefig(png, format="png")  # whatever the backend (tests run kernels with MPLBACKEND=Agg)
display(Image(png.getvalue()))
plt.close(fig)
'''
EXE = Path(sys.executable).with_name("retention-kit")
NOISE = ("Kernel is running over TCP", "KeyboardInterrupt", "Traceback", "Warning", "warning", "tqdm", "%|")


def _analyst_notebook(folder: Path) -> Path:
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("params_path = None\nexport_dir = None\ncache_dir = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(FORCED)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "mine.ipynb")
    return folder


@pytest.mark.slow
def test_forced_plotting_warnings_reach_the_log_and_never_the_page(tmp_path, capsys):
    out = tmp_path / "out"
    res = run([PARAMS / "demo.yaml"], out=out, notebook_dir=_analyst_notebook(tmp_path / "nbs"), progress=False)
    assert [s.status for s in res.statuses] == ["ok"], res.statuses
    html = (out / "demo" / "mine.html").read_text(encoding="utf-8")
    content = re.sub(r"<style[^>]*>.*?</style>", "", html, flags=re.S)
    assert "visible analyst output" in content and "<img" in content
    for noise in ("Glyph", "missing from font", "UserWarning", "forced plotting warning", "stderr line from"):
        assert noise not in content, noise
    for folder in (*machine_dirs(), str(tmp_path), str(PARAMS)):
        assert folder not in html, folder
    log = (out / "demo" / "run.log").read_text(encoding="utf-8")
    assert re.search(r"mine STDERR cell \d+: ", log) and "forced plotting warning" in log
    assert re.search(r"Glyph \d+ .* missing from font\(s\) DejaVu Sans", log)
    assert "stderr line from" in log and "mine INFO runner: ok in" in log
    assert res.logs == {"demo": out / "demo" / "run.log"}
    archived = out / "demo" / "archive" / res.statuses[0].run_id / "run.log"
    assert "forced plotting warning" in archived.read_text(encoding="utf-8")
    assert capsys.readouterr().err == ""  # progress=False: a silent console


@pytest.mark.slow
def test_a_real_demo_run_prints_progress_a_summary_and_the_index(tmp_path):
    r = subprocess.run([str(EXE), "demo", "--out", str(tmp_path), "--notebooks", "overview,stickiness"],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(tmp_path.resolve() / "index.html")
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3, r.stderr
    assert sorted(lines[:2], key=lambda ln: ln[:5]) == lines[:2]  # numbered in completion order
    for n, line in enumerate(lines[:2], start=1):
        assert re.fullmatch(rf"\[{n}/2\] demo/(overview|stickiness) ok \d+\.\d s", line), line
    assert re.fullmatch(r"2 of 2 reports ok in \d+ s; log: demo/run\.log", lines[2]), lines[2]
    log = (tmp_path / "demo" / "run.log").read_text(encoding="utf-8")
    assert "=== run " in log and log.count("INFO runner: ok in") == 2
    for noise in ("Kernel is running over TCP", "KeyboardInterrupt"):
        assert noise not in r.stderr and noise not in log, noise
    assert not any(n in r.stderr for n in NOISE)


@pytest.mark.slow
def test_debug_after_the_subcommand_prints_the_run_log(tmp_path):
    r = subprocess.run([str(EXE), "run", str(PARAMS / "demo.yaml"), "--out", str(tmp_path), "--notebooks",
                        "overview", "--no-progress", "--debug"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "demo: " in r.stderr and "overview INFO runner: started" in r.stderr
    assert "=== run " in r.stderr and not re.search(r"^\[1/1\]", r.stderr, flags=re.M)


@pytest.mark.slow
def test_kernels_use_unix_sockets_and_are_not_interrupted_at_shutdown(tmp_path, monkeypatch):
    """The two lines of first contact at their source: ipykernel warns about unencrypted TCP, and
    jupyter_client sends every kernel SIGINT before shutting it down, which an idle kernel may
    answer with "KeyboardInterrupt caught in kernel" on its own stdout."""
    import asyncio
    import signal as sig

    from jupyter_client.manager import AsyncKernelManager

    from retention_kit.reporting.runner import _kernel_manager

    sent: list[int] = []
    real = AsyncKernelManager._async_signal_kernel

    async def record(self, signum):
        sent.append(signum)
        await real(self, signum)

    monkeypatch.setattr(AsyncKernelManager, "_async_signal_kernel", record)
    out = tmp_path / "kernel.out"

    async def one_kernel():
        km = _kernel_manager(tmp_path, out)(kernel_name="python3")
        await km.start_kernel()
        assert km.transport == "ipc" and Path(km.connection_file).parent == tmp_path
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        reply = await kc.execute_interactive("x = 6 * 7")
        assert reply["content"]["status"] == "ok"
        kc.stop_channels()
        await km.shutdown_kernel()

    asyncio.run(one_kernel())
    assert sig.SIGINT not in sent
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    assert "without encryption" not in text and "KeyboardInterrupt" not in text
    assert not list(tmp_path.glob("*-[0-9]*")), "the sockets were not cleaned up"
