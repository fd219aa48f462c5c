"""Install-time promises: pins, the conda and pip package lists agree, notebooks are clean."""

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from retention_kit import REPORTS

from tests.factories import REPO


def _name(spec: str) -> str:
    return Requirement(spec).name.lower().replace("_", "-")


#: conda packages that are not Python packages (pip has no counterpart): the CJK font for charts
CONDA_ONLY = {"font-ttf-noto-cjk"}


def test_environment_yml_lists_the_same_runtime_packages_as_pyproject():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"]
    conda = [d for d in env if isinstance(d, str) and not d.startswith(("python", "pip")) and d not in CONDA_ONLY]
    assert CONDA_ONLY <= {d for d in env if isinstance(d, str)}
    assert {_name(d) for d in deps} == {_name(d) for d in conda}
    # the same version constraints too (conda writes ibis-framework without the [duckdb] extra)
    assert {_name(d): str(Requirement(d).specifier) for d in deps} == {_name(d): str(Requirement(d).specifier) for d in conda}
    pip = next(d for d in env if isinstance(d, dict))["pip"]
    assert pip == ["-e .[dev]"]


def test_engine_pins_hold_and_the_pitfalls_stay_away():
    from importlib.metadata import version

    import duckdb
    import ibis
    import pandas as pd

    assert version("ibis-framework").startswith("12.0.")
    assert tuple(int(x) for x in duckdb.__version__.split(".")[:2]) >= (1, 4) and int(duckdb.__version__.split(".")[0]) < 2
    sg = tuple(int(x) for x in re.findall(r"\d+", version("sqlglot"))[:2])
    assert sg < (30, 18)
    # the calls that break outside the pins: con.sql() (DuckDB 2) and create_table(name, frame) (sqlglot 30.18)
    con = ibis.duckdb.connect()
    assert con.sql("select 41 + 1 as x").execute()["x"].tolist() == [42]
    t = con.create_table("pins_check", pd.DataFrame({"a": [1, 2]}))
    assert t.count().execute() == 2
    assert "pins_check" in con.list_tables()


def test_notebooks_are_committed_without_outputs():
    nbs = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert nbs, "no notebooks found"
    for nb_path in nbs:
        nb = json.loads(nb_path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and cell.get("execution_count") is None, nb_path.name
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{nb_path.name} needs exactly one cell tagged 'parameters'"
        assert "params_path" in "".join(tagged[0]["source"]) and "export_dir" in "".join(tagged[0]["source"])


def test_ci_calls_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme and "make report" in readme
    assert "make test" in (REPO / ".ci" / "run").read_text()
    assert "reports/*" in (REPO / ".gitignore").read_text()
    assert (REPO / "reports" / "README.md").exists()


@pytest.mark.slow
def test_wheel_install_runs_the_demo_from_any_folder(tmp_path):
    """``pip install`` of the wheel (not editable) into a fresh venv carries the notebooks, params
    templates and HTML template: ``retention-kit demo`` from an empty folder writes every report,
    and a run that finds no notebook fails loudly instead of reporting success."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                    str(REPO)], check=True, capture_output=True)
    wheel = next(wheels.glob("retention_kit-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    for s in REPORTS:
        assert f"retention_kit/reporting/notebooks/{s.name}.ipynb" in names
    assert "retention_kit/reporting/params/demo.yaml" in names
    assert "retention_kit/reporting/templates/rk_offline/index.html.j2" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # the dependencies come from this environment's site-packages (no network); the kit itself
    # only from the wheel: a plain path entry, so this environment's editable install stays out
    site = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    venv_site = next((venv / "lib").glob("python*/site-packages"))
    (venv_site / "deps.pth").write_text(str(site) + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True)
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    # nbconvert's own templates are data files of the environment that installed nbconvert
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    where = subprocess.run([str(py), "-c", "import retention_kit; print(retention_kit.__file__)"], cwd=away, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert str(venv) in where and str(REPO) not in where

    done = subprocess.run([str(venv / "bin" / "retention-kit"), "demo", "--out", str(away / "out"), "--no-progress"],
                          cwd=away, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    for s in REPORTS:
        assert (away / "out" / "demo" / f"{s.name}.html").exists(), s.name
        for e in (e for e in s.exports if not e.breakdown_only):  # these need breakdown.by
            assert (away / "out" / "demo" / "data" / f"{e.name}.csv").exists(), e.name

    # no notebook to run: an error naming the folder, not a silent index page and exit 0
    empty = away / "no-notebooks"
    empty.mkdir()
    code = ("import sys; from retention_kit.reporting import cli, runner; from pathlib import Path; "
            f"runner.NOTEBOOK_DIR = Path({str(empty)!r}); sys.exit(cli.main(['demo', '--out', 'out2', '--no-progress']))")
    bad = subprocess.run([str(py), "-c", code], cwd=away, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no report notebook found" in bad.stderr
    assert not (away / "out2" / "index.html").exists()


def test_the_licence_is_an_spdx_string_so_setuptools_prints_no_deprecation_block():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"  # a TOML table here makes setuptools warn on every install
    assert "setuptools>=77" in meta["build-system"]["requires"]  # the first to read SPDX strings
