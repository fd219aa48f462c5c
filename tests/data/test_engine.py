"""The engine's spill folder: each connection its own, so kernels that spill at once stay apart."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import ibis

from retention_kit.data.engine import SPILL_DIR_ENV, configure, connect

# a group-by that cannot fit in 100 MB: 2M groups out of 8M rows, every group 4 rows. The sums
# are worked out by hand: sum(c) = 8M, sum(k * c) = 4 * (0 + 1 + ... + 1,999,999).
_SPILLING_CHILD = textwrap.dedent("""
    import json, os, sys
    from retention_kit.data.engine import connect
    con = connect(memory_limit="100MB", threads=1)
    folder = con.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0]
    row = con.raw_sql("SELECT count(*), sum(k * c), sum(c) FROM (SELECT i % 2000000 AS k, count(*) AS c "
                      "FROM range(8000000) t(i) GROUP BY k)").fetchone()
    print(json.dumps({"row": [int(v) for v in row], "folder": folder, "spilled": os.path.isdir(folder)}))
""")
_EXPECTED = [2_000_000, 4 * (2_000_000 - 1) * 2_000_000 // 2, 8_000_000]


def test_two_processes_that_spill_at_once_in_one_folder_get_right_answers(tmp_path):
    # two kernels of a run share their working folder; DuckDB's default spill folder (.tmp there,
    # file names the same in every process) made each read the other's blocks
    import json
    spill = tmp_path / "spill"
    cwd = tmp_path / "kernel"
    cwd.mkdir()
    env = {**os.environ, SPILL_DIR_ENV: str(spill),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-c", _SPILLING_CHILD], cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    assert [r["row"] for r in results] == [_EXPECTED, _EXPECTED]
    assert all(r["spilled"] for r in results), "the query did not spill; the test checks nothing"
    folders = {Path(r["folder"]) for r in results}
    assert len(folders) == 2 and all(f.parent == spill for f in folders)
    # DuckDB removes the folders it made; nothing lands in the working folder
    assert not any(f.exists() for f in folders)
    assert list(cwd.iterdir()) == []


def test_a_connection_spills_outside_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(SPILL_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    folders = [connect().raw_sql("SELECT current_setting('temp_directory')").fetchone()[0] for _ in range(2)]
    assert folders[0] != folders[1]
    assert all(not Path(f).resolve().is_relative_to(tmp_path.resolve()) for f in folders)


def test_a_read_only_database_file_gets_the_kits_settings(tmp_path, monkeypatch):
    # a DuckDB file source is its own engine: without the settings it would spill into a folder
    # beside the user's database and take 80% of the machine's memory
    monkeypatch.setenv(SPILL_DIR_ENV, str(tmp_path / "spill"))
    path = tmp_path / "events.duckdb"
    ibis.duckdb.connect(path).disconnect()
    con = configure(ibis.duckdb.connect(path, read_only=True), memory_limit="300MB")
    folder, limit = con.raw_sql("SELECT current_setting('temp_directory'), current_setting('memory_limit')").fetchone()
    assert Path(folder).parent == tmp_path / "spill"
    assert limit.replace(" ", "") in {"286.1MiB", "300.0MB"}  # DuckDB reports in binary units
