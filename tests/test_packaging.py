"""Install-time promises: pins, the conda and pip package lists agree, notebooks are clean."""

import json
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

from tests.factories import REPO


def _name(spec: str) -> str:
    return Requirement(spec).name.lower().replace("_", "-")


def test_environment_yml_lists_the_same_runtime_packages_as_pyproject():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"]
    conda = [d for d in env if isinstance(d, str) and not d.startswith(("python", "pip"))]
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
