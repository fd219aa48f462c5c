"""The bad-input catalogue: every case runs the command line, as a scheduler would.

Each case either exits with code 2 and prints ONE line on stderr that names the problem (the key,
the column, the count, the line) and the fix, without a traceback; or, where the data is valid
but odd or thin, loads with the odd rows counted and a clear note. docs/reliability.md lists the
same catalogue as a table. Cases already covered at the function level in test_events.py and
test_config.py are repeated here only through the CLI, where the one-line contract lives.

Decision on user ids that mix numbers and other text (e.g. ``123`` and ``u7``): the log is
valid (guest ids and account ids can legitimately differ), so loading succeeds, each id is its
own user, and ``check`` and the overview show a note saying how many ids of each kind there are
and that ``00123``/``123``/``u123`` style exports count as different users. A CSV whose ids look
numeric for the first 20,000 rows and then turn to text is read with the id column as text
instead of failing mid-scan.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from retention_kit.reporting.cli import main

from tests.factories import PARAMS

HEADER = "user_id,timestamp,event\n"


def _rows(n: int = 100, users: int = 5, days: int = 20, events: int = 3) -> str:
    return "".join(f"u{i % users},2024-01-{1 + i % days:02d} 10:00:00,e{i % events}\n" for i in range(n))


def _params(tmp: Path, source: str, data_extra: str = "", top: str = "") -> Path:
    f = tmp / "p.yaml"
    f.write_text(f"product: t\ntitle: T\n{top}data:\n  source: {source}\n{data_extra}", encoding="utf-8")
    return f


def _csv(tmp: Path, text: str | bytes, name: str = "events.csv") -> str:
    p = tmp / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return name


def _bad(capsys, argv: list[str], *needles: str) -> str:
    """Exit 2, one stderr line starting 'retention-kit: error:', containing every needle."""
    code = main(argv)
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert code == 2, (code, captured.err, captured.out)
    assert len(lines) == 1, lines
    assert lines[0].startswith("retention-kit: error: "), lines[0]
    assert "Traceback" not in captured.err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def _ok(capsys, argv: list[str], *needles: str) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    for n in needles:
        assert n in captured.out, (n, captured.out)
    return captured.out


# ------------------------------------------------------------------ the source cannot be read


def test_missing_file(tmp_path, capsys):
    _bad(capsys, ["check", str(_params(tmp_path, "nope.csv"))], "no event file at", "nope.csv", "check the path")


def test_truncated_parquet(tmp_path, capsys):
    full = tmp_path / "full.parquet"
    pd.read_csv(pd.io.common.StringIO(HEADER + _rows())).to_parquet(full)
    data = full.read_bytes()
    (tmp_path / "events.parquet").write_bytes(data[: len(data) // 2])
    _bad(capsys, ["check", str(_params(tmp_path, "events.parquet"))], "cannot read", "as parquet", "re-export")


def test_not_parquet_at_all(tmp_path, capsys):
    (tmp_path / "events.parquet").write_bytes(b"user_id,timestamp,event\nthis is a CSV named .parquet\n")
    _bad(capsys, ["check", str(_params(tmp_path, "events.parquet"))],
         "events.parquet holds CSV text, but its name says parquet", "rename it to events.csv or set source.format: csv")


def test_zero_byte_file(tmp_path, capsys):
    _bad(capsys, ["check", str(_params(tmp_path, _csv(tmp_path, b"")))], "is empty (0 bytes)", "re-export")


def test_truncated_gzip(tmp_path, capsys):
    blob = gzip.compress((HEADER + _rows(3000)).encode())
    (tmp_path / "events.csv.gz").write_bytes(blob[: len(blob) // 3])
    # DuckDB reads a cut gzip stream up to the cut without complaint; the kit checks the stream
    _bad(capsys, ["check", str(_params(tmp_path, "events.csv.gz"))], "gzip file is truncated", "export it again")


def test_not_utf8(tmp_path, capsys):
    src = _csv(tmp_path, (HEADER + "ü1,2024-01-01 10:00:00,café\n" * 5).encode("latin-1"))
    _bad(capsys, ["check", str(_params(tmp_path, src))], "not utf-8", "save the file as UTF-8")


@pytest.mark.parametrize("delim", [";", "|", "\t", "^"])
def test_csv_with_another_delimiter_loads(tmp_path, capsys, delim):
    # DuckDB's sniffer finds , ; | and tab; the kit's fallback splits the header on others (^)
    src = _csv(tmp_path, (HEADER + _rows()).replace(",", delim))
    _ok(capsys, ["check", str(_params(tmp_path, src))], "ok: 100 events, 5 users, 3 event types")


def test_ragged_row_names_the_line(tmp_path, capsys):
    text = HEADER + _rows(50) + "u1,2024-01-01 10:00:00,e1,extra,fields\n" + _rows(50)
    _bad(capsys, ["check", str(_params(tmp_path, _csv(tmp_path, text)))],
         "Line: 52", "Expected Number of Columns: 3", "fix that line")


def test_unbalanced_quote(tmp_path, capsys):
    # the sniffer settles on "no quoting" for this file, so the stray quote stays in the value,
    # which then is not a time: the row is dropped and counted, the rest loads
    text = HEADER + 'u1,"2024-01-01 10:00:00,e1\n' + _rows(50)
    _ok(capsys, ["check", str(_params(tmp_path, _csv(tmp_path, text)))], "ok: 50 events",
        "dropped rows: 1 time that does not parse")


def test_malformed_json_lines(tmp_path, capsys):
    (tmp_path / "events.jsonl").write_text('{"user_id": "a", "timestamp": "2024-01-01", "event": "x"}\n{"user_id": oops\n')
    _bad(capsys, ["check", str(_params(tmp_path, "events.jsonl"))], "Malformed JSON", "at byte", "one JSON object per line")


def test_folder_mixing_file_types(tmp_path, capsys):
    d = tmp_path / "logs"
    d.mkdir()
    (d / "a.csv").write_text(HEADER + _rows())
    pd.read_csv(d / "a.csv").to_parquet(d / "b.parquet")
    _bad(capsys, ["check", str(_params(tmp_path, "logs"))], "mixes file types (csv, parquet)", "source.format")


# ------------------------------------------------------------------ columns


def test_missing_column(tmp_path, capsys):
    src = _csv(tmp_path, "user_id,timestamp\nu1,2024-01-01\n")
    _bad(capsys, ["check", str(_params(tmp_path, src))], "column 'event' (data.event) not found", "columns are: user_id, timestamp")


def test_column_name_typo_suggests_nearest(tmp_path, capsys):
    src = _csv(tmp_path, "userid,timestamp,event\n" + _rows())
    _bad(capsys, ["check", str(_params(tmp_path, src))], "column 'user_id' (data.user) not found", "did you mean 'userid'?")


def test_user_ids_of_the_wrong_type(tmp_path, capsys):
    src = _csv(tmp_path, HEADER + "".join(f"{i}.5,2024-01-01 10:00:00,e\n" for i in range(10)))
    _bad(capsys, ["check", str(_params(tmp_path, src))], "column 'user_id' (data.user) has type float64", "text or whole numbers")


# ------------------------------------------------------------------ times


def test_time_column_all_null(tmp_path, capsys):
    src = _csv(tmp_path, HEADER + "".join(f"u{i},,e\n" for i in range(10)))
    _bad(capsys, ["check", str(_params(tmp_path, src))], "column 'timestamp' (data.time) is empty: all 10 rows are null", "map data.time")


def test_mixed_timestamp_formats_are_counted_with_an_example(tmp_path, capsys):
    # half ISO, half day/month/year: 50 of 100 do not parse, far over the 5% allowance
    rows = "".join(f"u{i},{'2024-01-%02d 10:00:00' % (1 + i % 9) if i % 2 else '%02d/01/2024 10:00' % (1 + i % 9)},e\n" for i in range(100))
    _bad(capsys, ["check", str(_params(tmp_path, _csv(tmp_path, HEADER + rows)))],
         "50 of 100 rows (50.0%)", "time that does not parse ('timestamp')", "(e.g. '01/01/2024 10:00')",
         "fix the time format", "max_dropped_share")


def test_unparseable_timestamps_counted_and_dropped_under_the_allowance(tmp_path, capsys):
    src = _csv(tmp_path, HEADER + _rows() + "u1,yesterday,e0\nu2,2024-02-30 10:00:00,e0\n")
    _ok(capsys, ["check", str(_params(tmp_path, src))], "ok: 100 events", "dropped rows: 2 time that does not parse ('timestamp')")


def test_unparseable_timestamps_after_the_sniffed_rows(tmp_path, capsys):
    # the CSV reader guesses TIMESTAMP from the first 20,480 rows; a bad value further down used
    # to abort the scan with a 25-line engine error. Now the column is re-read as text and the
    # row is counted like any other unparseable time.
    src = _csv(tmp_path, HEADER + _rows(25_000) + "u1,garbage,e0\n")
    _ok(capsys, ["check", str(_params(tmp_path, src))], "ok: 25,000 events", "dropped rows: 1 time that does not parse")


def test_epoch_numbers_are_not_taken_for_times(tmp_path, capsys):
    src = _csv(tmp_path, HEADER + "".join(f"u{i},{1_700_000_000 + i},e\n" for i in range(10)))
    _bad(capsys, ["check", str(_params(tmp_path, src))], "column 'timestamp' (data.time) holds numbers (int64), not times",
         "values near 1.7e9 look like seconds: set data.time_unit: s")
    # with the unit they load, counted from 1970-01-01 UTC
    _ok(capsys, ["check", str(_params(tmp_path, src, "  time_unit: s\n"))], "ok: 10 events", "2023-11-14 to 2023-11-14")


def test_far_future_timestamps_flagged_counted_and_configurable(tmp_path, capsys):
    src = _csv(tmp_path, HEADER + _rows() + "u1,2199-01-01 00:00:00,e0\n" * 10)
    _bad(capsys, ["check", str(_params(tmp_path, src))], "10 of 110 rows", "time after", "data.valid_until")
    # configurable: a later valid_until keeps them (e.g. scheduled events), the count disappears
    _ok(capsys, ["check", str(_params(tmp_path, src, "  valid_until: 2200-01-01\n"))], "ok: 110 events", "dropped rows: none")


def test_timestamps_before_1990_flagged_counted_and_configurable(tmp_path, capsys):
    src = _csv(tmp_path, HEADER + _rows() + "u1,1970-01-01 00:00:00,e0\n" * 10)
    _bad(capsys, ["check", str(_params(tmp_path, src))], "10 of 110 rows", "time before 1990-01-01 (data.valid_from)", "set data.valid_from")
    _ok(capsys, ["check", str(_params(tmp_path, src, "  valid_from: 1960-01-01\n"))], "ok: 110 events", "1970-01-01 to 2024-01-20")
    # a few stray ones are dropped and counted without failing the load
    src = _csv(tmp_path, HEADER + _rows() + "u1,1970-01-01 00:00:00,e0\n")
    _ok(capsys, ["check", str(_params(tmp_path, src))], "dropped rows: 1 time before 1990-01-01 (data.valid_from)")


# ------------------------------------------------------------------ user ids


def test_null_or_empty_user_ids(tmp_path, capsys):
    src = _csv(tmp_path, HEADER + _rows() + ",2024-01-01 10:00:00,e0\n   ,2024-01-01 10:00:00,e0\n")
    _ok(capsys, ["check", str(_params(tmp_path, src))], "dropped rows: 2 null or blank user id ('user_id')")
    src = _csv(tmp_path, HEADER + ",2024-01-01 10:00:00,e0\n" * 10 + _rows(10))
    _bad(capsys, ["check", str(_params(tmp_path, src))], "10 of 20 rows (50.0%) have a null or blank user id ('user_id')",
         "remove or fill those rows")


def test_user_ids_mixing_numbers_and_text(tmp_path, capsys):
    rows = "".join(f"{i if i % 2 else f'u{i}'},2024-01-{1 + i % 20:02d} 10:00:00,e\n" for i in range(100))
    out = _ok(capsys, ["check", str(_params(tmp_path, _csv(tmp_path, HEADER + rows)))], "ok: 100 events, 100 users")
    assert "note: user ids in 'user_id' mix 50 purely numeric ids with 50 other ids" in out


def test_text_user_id_after_the_sniffed_rows(tmp_path, capsys):
    # 25,000 numeric ids, then 'abc': the reader had guessed BIGINT and aborted mid-scan
    rows = "".join(f"{i % 300},2024-01-{1 + i % 20:02d} 10:00:00,e\n" for i in range(25_000))
    out = _ok(capsys, ["check", str(_params(tmp_path, _csv(tmp_path, HEADER + rows + "abc,2024-01-02 10:00:00,e\n")))],
              "ok: 25,001 events, 301 users")
    assert "mix 300 purely numeric ids with 1 other ids" in out


# ------------------------------------------------------------------ empty and thin


def test_empty_log(tmp_path, capsys):
    _bad(capsys, ["check", str(_params(tmp_path, _csv(tmp_path, HEADER)))], "the event log is empty (0 rows)", "check data.source")


def test_empty_after_filters(tmp_path, capsys):
    src = _csv(tmp_path, HEADER + _rows())
    _bad(capsys, ["check", str(_params(tmp_path, src, "  exclude_events: [e0, e1, e2]\n"))],
         "no events left after filters", "100 removed by data.exclude_events", "check data.exclude_events")


def test_no_active_event_present(tmp_path, capsys):
    src = _csv(tmp_path, HEADER + _rows())
    _bad(capsys, ["check", str(_params(tmp_path, src, "  active_events: [E0, open]\n"))],
         "data.active_events: 'E0' matches no event (nearest: 'e0'", "'open' matches no event", "case-sensitive")


def test_purchase_events_that_match_no_event(tmp_path, capsys):
    # "order" is not an event of the log: 0 paying users would follow; check says so and exits 2
    src = _csv(tmp_path, HEADER + _rows())
    _bad(capsys, ["check", str(_params(tmp_path, src, "  purchase_events: [order]\n  revenue: null\n"))],
         "data.purchase_events: 'order' matches no event", "case-sensitive")


def test_exact_duplicate_rows_counted_and_reported(tmp_path, capsys):
    src = _csv(tmp_path, HEADER + _rows() + _rows(30))
    # the first 30 rows appear twice; _rows(100) itself repeats (user, day) pairs but with
    # different events or days, so exactly 30 rows are copies
    base = pd.read_csv(tmp_path / src)
    expect = int(base.duplicated().sum())
    assert expect >= 30
    _ok(capsys, ["check", str(_params(tmp_path, src))], f"note: {expect:,} rows exactly repeat another row", "kept and counted")


# ------------------------------------------------------------------ params


@pytest.mark.parametrize(
    "top, data_extra, needles",
    [
        ("", "  timezon: UTC\n", ["unknown key 'data.timezon'", "did you mean 'timezone'?"]),
        ("stickness: {}\n", "", ["unknown key 'stickness'", "did you mean 'stickiness'?"]),
        ("", "  max_dropped_share: lots\n", ["'data.max_dropped_share'", "valid number", "(got 'lots')"]),
        ("key_behaviors:\n  window_days: -3\n", "", ["'key_behaviors.window_days'", "greater than 0", "(got -3)"]),
        ("stickiness:\n  periods_shown: 0\n", "", ["'stickiness.periods_shown'", "greater than 0", "(got 0)"]),
        ("key_behaviors:\n  window_days: 14\n  outcome_start: 7\n", "", ["overlaps the behaviour window [0, 14)", "set outcome_start >= window_days"]),
        ("key_behaviors:\n  outcome_start: 28\n  outcome_end: 14\n", "", ["outcome_end (14) must be greater than outcome_start (28)"]),
        ("ladder:\n  rungs:\n    - {name: Saver, when: {active_days: 1}}\n    - {name: saver, when: {active_days: 2}}\n", "",
         ["duplicate or reserved rung name 'saver'", "must be unique"]),
        ("", "  timezone: Europe/Berln\n", ["unknown timezone 'Europe/Berln'", "did you mean 'Europe/Berlin'?"]),
        ("", "  timezone: Mars/Olympus\n", ["unknown timezone 'Mars/Olympus'", "IANA name"]),
        ("", "  week_start: tuesday\n", ["'data.week_start'", "'monday' or 'sunday'"]),
    ],
    ids=["unknown-key", "unknown-section", "wrong-type", "negative-window", "zero-window", "overlapping-windows",
         "outcome-end-before-start", "duplicate-rungs", "timezone-typo", "unknown-timezone", "bad-week-start"],
)
def test_bad_params(tmp_path, capsys, top, data_extra, needles):
    src = _csv(tmp_path, HEADER + _rows())
    _bad(capsys, ["check", str(_params(tmp_path, src, data_extra, top))], "invalid params in", *needles)


@pytest.mark.parametrize("slug", ["../../etc", "/etc/passwd", "a/b", ".hidden", "x" * 65])
def test_product_slug_cannot_escape_the_output_folder(tmp_path, capsys, slug):
    f = tmp_path / "p.yaml"
    f.write_text(json.dumps({"product": slug, "data": {"source": "x.csv"}}))  # JSON is YAML
    _bad(capsys, ["check", str(f)], "'product'", "only letters, digits, '-' and '_'")
    # nothing was created outside (or inside) the output folder
    out = tmp_path / "out"
    _bad(capsys, ["run", str(f), "--out", str(out), "--no-progress"], "only letters, digits")
    assert not (tmp_path / "etc").exists() and not any(p.name not in {"index.html", ".lock"} for p in out.glob("*"))


def test_params_file_problems(tmp_path, capsys):
    _bad(capsys, ["check", str(tmp_path / "missing.yaml")], "params file not found", "give the path")
    _bad(capsys, ["check", str(tmp_path)], "is a folder", "give the path of a product's YAML file")
    f = tmp_path / "p.yaml"
    f.write_text("product: t\ndata: [\n")
    _bad(capsys, ["check", str(f)], "not valid YAML at line 3")
    f.write_bytes(b"product: caf\xe9\n")
    _bad(capsys, ["check", str(f)], "not UTF-8 text", "save the params file as UTF-8")
    f.write_text("product: t\ndata:\n  source: a.csv\nproduct: u\n")
    _bad(capsys, ["check", str(f)], "key 'product' appears twice (line 4)", "keep one")
    f.write_text("- product: t\n")
    _bad(capsys, ["check", str(f)], "expected a mapping of keys")


# ------------------------------------------------------------------ the output folder


def test_output_folder_below_a_file(tmp_path, capsys):
    # root ignores permission bits, so an unwritable folder is made with a file in the way
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _bad(capsys, ["run", str(PARAMS / "demo.yaml"), "--out", str(blocker / "reports"), "--no-progress"],
         "cannot write to the output folder", "--out")


def test_output_folder_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "reports"
    blocker.write_text("x")
    _bad(capsys, ["run", str(PARAMS / "demo.yaml"), "--out", str(blocker), "--no-progress"],
         "cannot write to the output folder", "--out")
    assert blocker.read_text() == "x"


def test_output_folder_on_a_read_only_file_system(tmp_path, capsys):
    ro = Path("/proc/self")  # always mounted and never writable, even for root
    if os.access(ro, os.W_OK) and os.geteuid() != 0:
        pytest.skip("no read-only folder available")
    _bad(capsys, ["run", str(PARAMS / "demo.yaml"), "--out", "/proc/rk-reports", "--no-progress"],
         "cannot write to the output folder")


def test_debug_shows_the_traceback_instead(tmp_path, capsys):
    f = _params(tmp_path, "nope.csv")
    assert main(["--debug", "check", str(f)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "retention-kit: error: data.source" in err


# ------------------------------------------------------------------ valid but thin or wide: reports


@pytest.mark.slow
def test_one_user_on_one_day_renders_every_report_with_notes(tmp_path):
    """One user, one day: every notebook renders, thin sections become 'not enough data' notes."""
    from retention_kit.reporting.runner import EXIT_OK, available_notebooks, run

    src = _csv(tmp_path, HEADER + "solo,2024-03-05 10:00:00,open\nsolo,2024-03-05 10:05:00,save\n")
    res = run([_params(tmp_path, src)], out=tmp_path / "out", jobs=2, progress=False)
    assert res.exit_code == EXIT_OK, [(s.notebook, s.message) for s in res.statuses]
    assert {s.notebook for s in res.statuses} == set(available_notebooks())
    pages = {p.stem: p.read_text() for p in (tmp_path / "out" / "t").glob("*.html")}
    assert set(pages) == set(available_notebooks())
    for name, html in pages.items():
        assert "Traceback" not in html and "This report failed" not in html, name
    notes = {name for name, html in pages.items() if "not enough data" in html}
    assert notes >= set(available_notebooks()) - {"overview"}, notes  # every analysis says why it is thin
    assert "<strong>1</strong> users" in pages["overview"]
    # every export of every family exists, a header with the contract's columns at the least
    from retention_kit import REPORTS

    for spec in REPORTS:
        for e in (e for e in spec.exports if not e.breakdown_only):  # these need breakdown.by
            header = (tmp_path / "out" / "t" / "data" / f"{e.name}.csv").read_text().splitlines()[0].split(",")
            assert header[: len(e.contract)] == e.contract, e.name


@pytest.mark.slow
def test_ten_thousand_event_names_keep_the_overview_small(tmp_path):
    from retention_kit.reporting.runner import EXIT_OK, run

    rows = "".join(f"u{i % 300},2024-01-{1 + i % 28:02d} {i % 24:02d}:00:00,event_{i % 10_000:05d}\n" for i in range(20_000))
    res = run([_params(tmp_path, _csv(tmp_path, HEADER + rows))], out=tmp_path / "out", notebooks=["overview"],
              progress=False)
    assert res.exit_code == EXIT_OK, res.statuses[0].message
    page = tmp_path / "out" / "t" / "overview.html"
    assert page.stat().st_size < 1_000_000, page.stat().st_size  # top 50 shown, the rest grouped
    assert "Showing 30 of 51 rows" in page.read_text()
    types = pd.read_csv(tmp_path / "out" / "t" / "data" / "event_types.csv")
    assert len(types) == 51 and types["events"].sum() == 20_000
    assert types["event"].iloc[-1] == "(other events: 9,950 types)" and types["events"].iloc[-1] == 20_000 - 50 * 2


def test_engagement_matrix_stays_a_normal_size_with_thousands_of_events():
    import io

    import matplotlib.pyplot as plt

    from retention_kit.plots.key_behaviors import engagement_matrix

    n = 2000
    segs = pd.DataFrame({"segment": "power", "event": [f"event_{i:05d}" for i in range(n)], "doers": 5,
                         "breadth": [0.01 + (i % 7) * 0.001 for i in range(n)], "depth_median": 1.0, "period": "week"})
    ax = engagement_matrix(segs, segment="power")
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", bbox_inches="tight")  # what the inline backend does
    plt.close(ax.figure)
    from PIL import Image

    w, h = Image.open(io.BytesIO(buf.getvalue())).size
    assert h < 2500 and w < 2500, (w, h)
