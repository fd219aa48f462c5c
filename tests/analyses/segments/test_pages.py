"""The comparison sections of the ladder, lifecycle and key-behaviour pages: rows worked out by
hand, and the pages run in-process (no papermill) with and without a breakdown, in English and
Chinese."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from retention_kit.analyses import lifecycle
from retention_kit.core import i18n
from retention_kit.analyses.segments import (MISSING, key_behaviors_comparison, lifecycle_comparison, page_summary,
                                             segments)
from retention_kit.data.params import BreakdownParams
from retention_kit.reporting import report as report_mod

from tests.analyses.segments.test_segments import LC_ROWS, LC_THR, LC_USERS, _lc_params
from tests.factories import REPO, day_events, events, load, make_params

Z = 1.959963984540054


def _wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def _newcombe(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = _wilson(k1, n1), _wilson(k2, n2)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def test_key_behaviours_comparison_by_hand():
    # behaviour window day 0, outcome day 1 (retained = active on day 1). pro: a1, a2 back on day
    # 1, a3 not; free: b1 back, b2..b4 not. Every start is day 0, the data ends on day 1: all eligible.
    rows = [(u, 0, "open", 1) for u in ("a1", "a2", "a3", "b1", "b2", "b3", "b4")]
    rows += [(u, 1, "open", 1) for u in ("a1", "a2", "b1")]
    users = pd.DataFrame({"user_id": ["a1", "a2", "a3", "b1", "b2", "b3", "b4"],
                          "plan": ["pro"] * 3 + ["free"] * 4})
    log = load(day_events(rows), users=users, params=make_params(users={"source": "(given)", "attributes": ["plan"]}))
    seg = segments(log, BreakdownParams(by="plan"))
    c = key_behaviors_comparison(log, seg, window_days=1, outcome_start=1, outcome_end=2, min_size=3)
    r = c.comparisons.set_index("segment")
    assert r.loc["pro", "period"] == "1-1" and r.loc["pro", "analysis"] == "key_behaviors_retained"
    assert (r.loc["pro", "users"], r.loc["pro", "rest_users"]) == (3, 4)
    assert r.loc["pro", "value"] == pytest.approx(2 / 3) and r.loc["pro", "rest_value"] == pytest.approx(1 / 4)
    d, lo, hi = _newcombe(2, 3, 1, 4)
    assert (r.loc["pro", "difference"], r.loc["pro", "ci_low"], r.loc["pro", "ci_high"]) == pytest.approx((d, lo, hi))
    # pooled z-test: p = 3/7
    p = 3 / 7
    z = (2 / 3 - 1 / 4) / math.sqrt(p * (1 - p) * (1 / 3 + 1 / 4))
    assert r.loc["pro", "p_value"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    assert not r["small"].any()
    # q = 0.27 > 0.05: nobody is named
    assert page_summary(c).text.startswith("No segment of plan differs from the rest beyond chance")


def test_lifecycle_comparison_by_hand():
    log = load(events(LC_ROWS, hour=12), users=LC_USERS, params=_lc_params())
    seg = segments(log, BreakdownParams(by="plan"))
    snaps = lifecycle.snapshots(log, thresholds=lifecycle.thresholds(log, **LC_THR), by=seg)
    c = lifecycle_comparison(snaps, seg, min_size=3)
    assert c.analysis == "lifecycle_active" and c.headline == pd.Timestamp("2024-03-31")
    mar = c.comparisons[c.comparisons["period"] == pd.Timestamp("2024-03-31")].set_index("segment")
    # 31 Mar (see test_segments): pro 1 active of 2 started, free 1 of 3
    assert mar.loc["pro", "value"] == pytest.approx(1 / 2) and mar.loc["pro", "rest_value"] == pytest.approx(1 / 3)
    assert mar.loc["pro", "ci_low"] == pytest.approx(_newcombe(1, 2, 1, 3)[1])
    assert bool(mar.loc["pro", "small"]) and not bool(mar.loc["free", "small"])  # 2 users < 3: greyed, never named
    # 31 Jan: pro 1 active of 2, free 0 of 2
    jan = c.comparisons[c.comparisons["period"] == pd.Timestamp("2024-01-31")].set_index("segment")
    assert (jan.loc["free", "value"], jan.loc["free", "rest_value"]) == (0.0, 0.5)
    assert "pro" in page_summary(c).text.split("Too small to compare")[1]


# ---- the pages, in-process -----------------------------------------------------------------------

SMALL = """product: seg_pages
data:
  source: {{demo: {{n_users: 500, seed: 3}}}}
  user: user_id
  time: timestamp
  event: event
  timezone: UTC
  exclude_events: [push_sent]
  revenue: revenue
  purchase_events: [purchase, refund]
  users:
    source: {{demo: {{n_users: 500, seed: 3}}, table: users}}
    user: user_id
    signup_time: signup_time
    attributes: [plan]
{breakdown}
ladder:
  period: week
  rungs:
    - {{name: Visitor, when: {{active_days: 1}}}}
    - {{name: Saver, when: {{event: save_note, min: 1}}}}
    - {{name: Creator, when: {{all: [{{event: create_note, min: 2}}, {{active_days: 2}}]}}}}
"""


def _run(notebook: str, params_path: Path, export_dir: Path) -> str:
    """The notebook's code cells executed here, its parameters set; the text of what it shows."""
    shown: list[str] = []

    def capture(obj):
        data = getattr(obj, "data", None)
        shown.append(data if isinstance(data, str) else repr(obj))

    cells = json.loads((REPO / "notebooks" / f"{notebook}.ipynb").read_text(encoding="utf-8"))["cells"]
    ns: dict = {}
    old = report_mod._display
    report_mod._display = capture
    matplotlib.use("Agg")
    try:
        # the page sets the report language and the plot style, as in its own kernel: both are
        # put back afterwards for the tests that follow
        with i18n.using("en"), matplotlib.rc_context():
            for i, c in enumerate(cells):
                if c["cell_type"] != "code":
                    continue
                exec(compile("".join(c["source"]), f"{notebook}[{i}]", "exec"), ns)
                if i == 0:
                    ns.update(params_path=str(params_path), export_dir=str(export_dir))
    finally:
        report_mod._display = old
        plt.close("all")
        # report.start routes warnings to stderr, as in a kernel: undo it for the tests that follow
        for h in [h for h in logging.getLogger().handlers if isinstance(h, report_mod._StderrHandler)]:
            logging.getLogger().removeHandler(h)
        logging.captureWarnings(False)
    return "\n".join(shown)


@pytest.fixture(scope="module")
def page_params(tmp_path_factory):
    d = tmp_path_factory.mktemp("pages")
    with_b = d / "with.yaml"
    with_b.write_text(SMALL.format(breakdown="breakdown: {by: plan, min_segment_size: 30}"), encoding="utf-8")
    without = d / "without.yaml"
    without.write_text(SMALL.format(breakdown=""), encoding="utf-8")
    return with_b, without


@pytest.mark.parametrize("notebook", ["ladder", "lifecycle", "key_behaviors"])
def test_pages_show_the_section_only_with_a_breakdown(notebook, page_params, tmp_path):
    with_b, without = page_params
    text = _run(notebook, with_b, tmp_path / "with")
    assert "## By segment: plan" in text
    section = text[text.index("## By segment: plan"):]
    assert "differs from the rest" in section or "No segment of plan differs" in section
    for bad in ("nan", "None", "inf"):
        assert bad not in section.replace("Benjamini", ""), (bad, section[:2000])
    rows = pd.read_csv(tmp_path / "with" / "segment_comparisons.csv")
    assert len(rows) and set(rows["report"]) == {notebook} and set(rows["segment"]) <= {"free", "pro", MISSING}
    by_file = {"ladder": "ladder_composition_by_segment", "lifecycle": "lifecycle_by_segment",
               "key_behaviors": "behavior_segments_by_segment"}[notebook]
    by = pd.read_csv(tmp_path / "with" / f"{by_file}.csv")
    assert by.columns[:2].tolist() == ["breakdown", "segment"] and set(by["segment"]) == set(rows["segment"])
    plain = _run(notebook, without, tmp_path / "without")
    assert "By segment" not in plain
    assert not (tmp_path / "without" / "segment_comparisons.csv").exists()
    assert not (tmp_path / "without" / f"{by_file}.csv").exists()


@pytest.mark.parametrize("notebook,language", [("ladder", "zh-TW"), ("lifecycle", "zh-CN"), ("key_behaviors", "zh-TW")])
def test_the_section_speaks_the_report_language(notebook, language, page_params, tmp_path):
    import re

    with_b, _ = page_params
    zh = tmp_path / "zh.yaml"
    zh.write_text(with_b.read_text(encoding="utf-8") + f"language: {language}\n", encoding="utf-8")
    text = _run(notebook, zh, tmp_path / "out")
    heading = {"zh-TW": "## 依分群：plan", "zh-CN": "## 按分群：plan"}[language]
    section = re.sub(r"<[^>]+>", " ", text[text.index(heading):])
    # three or more Latin words in a row: a phrase left in English (segment names are data)
    english = re.findall(r"[A-Za-z][A-Za-z'\-]*(?:[ ,;:]+[A-Za-z][A-Za-z'\-]*){2,}", section)
    assert english == [], english
    assert "differs" not in section and "rest_value" not in section and "nan" not in section
