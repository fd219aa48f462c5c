import subprocess
import sys

import pytest

from retention_kit.reporting.cli import main

from tests.factories import PARAMS


def test_check_ok(capsys, shared_data):
    assert main(["check", str(PARAMS / "stackexchange_martialarts.yaml")]) == 0
    out = capsys.readouterr().out
    assert "stackexchange_martialarts: ok: 25,724 events, 9,713 users, 83 event types" in out


def test_errors_are_one_line_with_exit_2(tmp_path, capsys):
    f = tmp_path / "p.yaml"
    f.write_text("product: demo\ndata:\n  source: missing.csv\n")
    assert main(["check", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("retention-kit: error: data.source") and "Traceback" not in err[0]
    f.write_text("product: demo\ndata:\n  source: missing.csv\n  tz: UTC\n")
    assert main(["check", str(f)]) == 2
    assert "unknown key 'data.tz'" in capsys.readouterr().err


def test_debug_shows_traceback(tmp_path, capsys):
    f = tmp_path / "p.yaml"
    f.write_text("product: demo\ndata:\n  source: missing.csv\n")
    assert main(["--debug", "check", str(f)]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_debug_is_accepted_after_the_subcommand_too(tmp_path, capsys):
    f = tmp_path / "p.yaml"
    f.write_text("product: demo\ndata:\n  source: missing.csv\n")
    assert main(["check", str(f), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err
    assert main(["--debug", "check", str(f)]) == 2  # before it, as before
    assert "Traceback" in capsys.readouterr().err
    assert main(["check", str(f)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_check_says_when_no_font_draws_the_names(tmp_path, capsys, monkeypatch):
    from tests.reporting.shop import write_shop

    from retention_kit.plots import common

    monkeypatch.setattr(common, "missing_glyphs", lambda texts: "瀏覽" if any("瀏" in t for t in texts) else "")
    assert main(["check", str(write_shop(tmp_path, n_users=40, days=30))]) == 0
    out = capsys.readouterr().out
    assert "shop: note: no installed font draws 瀏 覽" in out and "fonts-noto-cjk" in out


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["run", str(PARAMS / "demo.yaml"), "--out", str(blocker / "sub"), "--no-progress"]) == 2
    assert "cannot write to the output folder" in capsys.readouterr().err


def test_unknown_notebook(capsys, tmp_path):
    assert main(["run", str(PARAMS / "demo.yaml"), "--notebooks", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown notebook(s) nope" in capsys.readouterr().err


@pytest.mark.slow
def test_console_script_runs_demo(tmp_path):
    exe = __import__("pathlib").Path(sys.executable).with_name("retention-kit")
    r = subprocess.run([str(exe), "demo", "--out", str(tmp_path), "--notebooks", "overview", "--no-progress"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(tmp_path.resolve() / "index.html")
