"""A shared export (segment_comparisons.csv): every report writes its own rows, a rerun replaces
them, publishing takes a notebook's own rows only (a failed notebook keeps its last good ones)."""

from __future__ import annotations

import csv

from retention_kit.reporting.exports import merge_rows


def test_shared_export_keeps_each_reports_rows(tmp_path):
    def write(path, rows):
        with path.open("w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
    head = ["analysis", "period", "segment", "report"]
    dst = tmp_path / "segment_comparisons.csv"
    # a file from before the column: its rows are the declaring family's (stickiness)
    write(dst, [head[:3], ["retention_week", "1", "pro"]])
    write(tmp_path / "l.csv", [head, ["ladder_at_or_above_A", "3", "pro", "ladder"]])
    order = ["stickiness", "key_behaviors", "ladder", "lifecycle"]
    merge_rows(tmp_path / "l.csv", dst, "ladder", owner="stickiness", order=order)
    write(tmp_path / "k.csv", [head, ["key_behaviors_retained", "14-27", "pro", "key_behaviors"]])
    merge_rows(tmp_path / "k.csv", dst, "key_behaviors", owner="stickiness", order=order)
    write(tmp_path / "l2.csv", [head, ["ladder_at_or_above_B", "3", "free", "ladder"]])
    merge_rows(tmp_path / "l2.csv", dst, "ladder", owner="stickiness", order=order)  # a rerun replaces its rows
    got = list(csv.reader(dst.open()))
    assert got == [head, ["retention_week", "1", "pro", "stickiness"], ["key_behaviors_retained", "14-27", "pro", "key_behaviors"],
                   ["ladder_at_or_above_B", "3", "free", "ladder"]]
    write(tmp_path / "h.csv", [head[:3]])  # header only: the report has no rows any more
    merge_rows(tmp_path / "h.csv", dst, "ladder", owner="stickiness", order=order)
    assert [r[-1] for r in csv.reader(dst.open())][1:] == ["stickiness", "key_behaviors"]


def test_publishing_takes_a_notebooks_own_rows_only(tmp_path):
    from retention_kit.reporting import publish
    product, run = tmp_path / "p", tmp_path / "p" / "archive" / "r1"
    (run / "data").mkdir(parents=True)
    head = "analysis,period,segment,report\n"
    # this run: the ladder and the lifecycle both wrote rows; the lifecycle notebook then failed
    (run / "data" / "segment_comparisons.csv").write_text(
        head + "ladder_at_or_above_A,3,pro,ladder\nlifecycle_active,2024-01-31,pro,lifecycle\n", encoding="utf-8")
    for f in ("ladder.ipynb", "ladder.html"):
        (run / f).write_text("x", encoding="utf-8")
    (product / "data").mkdir(parents=True)
    (product / "data" / "segment_comparisons.csv").write_text(
        head + "retention_week,1,pro,stickiness\nlifecycle_active,2023-12-31,pro,lifecycle\nladder_at_or_above_A,3,old,ladder\n",
        encoding="utf-8")
    publish.publish_notebook(product, run, "ladder", ["segment_comparisons.csv"])
    rows = (product / "data" / "segment_comparisons.csv").read_text(encoding="utf-8").splitlines()
    # the stickiness and the last good lifecycle rows stay; the ladder's are this run's
    assert rows == [head.strip(), "retention_week,1,pro,stickiness", "ladder_at_or_above_A,3,pro,ladder",
                    "lifecycle_active,2023-12-31,pro,lifecycle"]
