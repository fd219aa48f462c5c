"""Do two versions of the kit export the same CSVs? Runs the report set of each params file with
the kit at a git revision and with the working tree, and compares every export byte for byte.

    .venv/bin/python -m benchmarks.compare_exports --base e28fbfa              # demo + shared real logs
    .venv/bin/python -m benchmarks.compare_exports --base main~3 params/demo.yaml

The revision is checked out (``git archive``) into a temporary folder and put first on
``PYTHONPATH`` for its run, kernels included; both runs read the same params files, so both see
the same data. Prints one line per product and file that differs, and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PARAMS = ["params/demo.yaml", "params/stackexchange_martialarts.yaml", "params/online_retail.yaml",
                  "params/online_retail_loyalty.yaml"]
# the command line of a revision: the module moved when the package was laid out by family
_MAIN = ("import sys\ntry:\n    from retention_kit.reporting.cli import main\nexcept ImportError:\n"
         "    from retention_kit.cli import main\nsys.exit(main())")


def _checkout(rev: str, into: Path) -> None:
    blob = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into, filter="fully_trusted")


def _run(code_dir: Path | None, params: list[Path], out: Path, cwd: Path) -> None:
    env = dict(os.environ)
    if code_dir is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code_dir), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    cmd = [sys.executable, "-c", _MAIN, "run", *map(str, params), "--out", str(out), "--jobs", "2", "--no-progress"]
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the run with {code_dir or 'the working tree'} failed ({done.returncode}):\n{done.stderr[-2000:]}")


def compare(base: Path, new: Path) -> list[str]:
    """Lines naming each product/file that differs between two output folders."""
    diffs = []
    for product in sorted({p.name for p in base.iterdir() if p.is_dir()} | {p.name for p in new.iterdir() if p.is_dir()}):
        b, n = base / product / "data", new / product / "data"
        names = sorted({p.name for p in b.glob("*.csv")} | {p.name for p in n.glob("*.csv")})
        for name in names:
            fb, fn = b / name, n / name
            if not fb.exists() or not fn.exists():
                diffs.append(f"{product}/{name}: only in the {'new' if fn.exists() else 'base'} run")
            elif fb.read_bytes() != fn.read_bytes():
                diffs.append(f"{product}/{name}: differs")
    return diffs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="git revision to compare against (e.g. a commit or main~2)")
    ap.add_argument("params", nargs="*", default=DEFAULT_PARAMS, help="params files (default: demo and shared logs)")
    args = ap.parse_args(argv)
    params = [(REPO / p).resolve() for p in args.params]
    with tempfile.TemporaryDirectory(prefix="rk-compare-") as tmp:
        tmp_path = Path(tmp)
        code = tmp_path / "base-code"
        _checkout(args.base, code)
        _run(code, params, tmp_path / "base", cwd=tmp_path)
        _run(None, params, tmp_path / "new", cwd=tmp_path)
        diffs = compare(tmp_path / "base", tmp_path / "new")
        files = sum(1 for _ in (tmp_path / "new").glob("*/data/*.csv"))
    for d in diffs:
        print(d)
    print(f"{files} CSV files compared against {args.base}: {len(diffs)} differ")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
