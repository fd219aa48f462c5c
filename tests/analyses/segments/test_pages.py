"""The comparison sections of the overview, ladder, lifecycle and key-behaviour pages: rows worked
out by hand or by plain pandas over the raw rows, the ladder's analysis names, and the pages run
in-process (no papermill) with and without a breakdown, in English and Chinese."""

from __future__ import annotations

import datetime as dt
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
from retention_kit.analyses.segments import (MISSING, key_behaviors_comparison, ladder_comparison,
                                             lifecycle_comparison, overview_comparison, overview_segments,
                                             page_summary, rung_slug, segments)
from retention_kit.data.datasets import make_demo_log, make_demo_users
from retention_kit.data.params import BreakdownParams, LadderParams
from retention_kit.reporting import report as report_mod

from tests.analyses.segments.test_segments import LC_ROWS, LC_THR, LC_USERS, _lc_params
from tests.factories import D0, REPO, day_events, events, load, make_params

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


# ---- the overview's comparison -------------------------------------------------------------------

# the last day of data is day 40: the window is days 13..40 (28 days), users started by day 12 count.
# Activity is "open" only ("push" is a valid event that is no activity). Users table: plan only, no
# signup times, so a user starts on their first active day; u0 has a row but no event (no start).
OV_ROWS = [("a1", 0, "open", 2), ("a1", 20, "open", 1),       # pro: started, back in the window
           ("a2", 5, "open", 1),                              # pro: started, not back
           ("a3", 12, "open", 1), ("a3", 40, "open", 1),      # pro: started on the cutoff, back on the last day
           ("a4", 13, "open", 1),                             # pro: started in the window: not counted
           ("b1", 0, "open", 1), ("b1", 12, "open", 1),       # free: last active the day before the window
           ("b2", 1, "open", 1), ("b2", 13, "open", 1),       # free: back on the window's first day
           ("b3", 2, "open", 1),                              # free: not back
           ("b4", 3, "open", 1), ("b4", 30, "push", 1),       # free: only a non-active event in the window
           ("c1", 0, "open", 1), ("c1", 40, "open", 1)]       # no users-table row: (missing), back
OV_USERS = pd.DataFrame({"user_id": ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4", "u0"],
                         "plan": ["pro"] * 4 + ["free"] * 5})


def _ov_log():
    return load(day_events(OV_ROWS), users=OV_USERS,
                params=make_params(active_events=["open"], users={"source": "(given)", "attributes": ["plan"]}))


def test_overview_segments_and_comparison_by_hand():
    log = _ov_log()
    seg = segments(log, BreakdownParams(by="plan"))
    t = overview_segments(log, seg).set_index("segment")
    # pro a1..a4: 3 + 1 + 2 + 1 events; free b1..b4 and u0 (no events): 2 + 2 + 1 + 2 + 0; c1: 2
    assert t["users"].to_dict() == {"free": 5, "pro": 4, MISSING: 1} and set(t["breakdown"]) == {"plan"}
    assert t["events"].to_dict() == {"free": 7, "pro": 7, MISSING: 2}
    assert t.loc["pro", "share_users"] == pytest.approx(4 / 10) and t.loc["free", "events_per_user"] == pytest.approx(7 / 5)
    c = overview_comparison(log, seg, min_size=3)
    start, end = D0 + dt.timedelta(days=13), D0 + dt.timedelta(days=40)
    assert c.analysis == "overview_active_last_28_days" and c.headline == f"{start}/{end}"
    r = c.comparisons.set_index("segment")
    assert set(r["period"]) == {f"{start}/{end}"}
    # pro: a1, a3 of a1..a3 (a4 started in the window); free: b2 of b1..b4 (u0 has no start); missing: c1 of c1
    assert r["users"].to_dict() == {"free": 4, "pro": 3, MISSING: 1}
    assert r.loc["pro", "value"] == pytest.approx(2 / 3) and r.loc["pro", "rest_value"] == pytest.approx(2 / 5)
    assert r.loc["free", "value"] == pytest.approx(1 / 4) and r.loc["free", "rest_value"] == pytest.approx(3 / 4)
    assert (r.loc[MISSING, "value"], r.loc[MISSING, "rest_value"]) == (1.0, pytest.approx(3 / 7))
    d, lo, hi = _newcombe(2, 3, 2, 5)
    assert (r.loc["pro", "difference"], r.loc["pro", "ci_low"], r.loc["pro", "ci_high"]) == pytest.approx((d, lo, hi))
    p = 4 / 8  # pooled
    z = (2 / 3 - 2 / 5) / math.sqrt(p * (1 - p) * (1 / 3 + 1 / 5))
    assert r.loc["pro", "p_value"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    assert r["small"].to_dict() == {"free": False, "pro": False, MISSING: True}  # 1 user < 3: greyed, never named
    text = page_summary(c).text
    assert text.startswith("No segment of plan differs from the rest beyond chance in the share active from "
                           f"{start} to {end}") and f"Too small to compare (under 3 users): {MISSING}." in text


def test_overview_comparison_without_the_whole_window_says_why():
    # 20 days of data: the last 28 days are not all observed, so "not active" would mean "not yet seen"
    log = load(day_events([r for r in OV_ROWS if r[1] < 20]), users=OV_USERS,
               params=make_params(active_events=["open"], users={"source": "(given)", "attributes": ["plan"]}))
    c = overview_comparison(log, segments(log, BreakdownParams(by="plan")), min_size=3)
    assert c.comparisons is None and c.curves is None
    assert page_summary(c).text.startswith("There is nothing to compare by plan: the share needs data from")


def test_overview_comparison_equals_pandas_over_the_raw_rows():
    ev, us = make_demo_log(400, seed=5, days=90), make_demo_users(400, seed=5, days=90)
    log = load(ev, users=us, params=make_params(user="user_id", time="timestamp", event="event",
                                                exclude_events=["push_sent"],
                                                users={"source": "(given)", "user": "user_id",
                                                       "signup_time": "signup_time", "attributes": ["plan"]}))
    c = overview_comparison(log, segments(log, BreakdownParams(by="plan")), min_size=10)
    # plain pandas: kept rows are every event but push_sent, all active; a start is the signup day
    # (the users table), else the first active day; the window is the last 28 days of data
    kept = ev[ev["event"] != "push_sent"].assign(day=lambda f: f["timestamp"].dt.normalize())
    last = kept["day"].max()
    first = kept.groupby("user_id")["day"].min()
    signup = us.set_index("user_id")["signup_time"].dt.normalize()
    start = pd.concat([signup, first[~first.index.isin(signup.index)]])
    started = start[start <= last - pd.Timedelta(days=28)].index
    recent = set(kept.loc[kept["day"] >= last - pd.Timedelta(days=27), "user_id"])
    plan = us.set_index("user_id")["plan"].astype(str).reindex(started).fillna(MISSING)
    back = pd.Series(started.isin(list(recent)), index=started)
    want = back.groupby(plan).agg(["sum", "count"])
    got = c.comparisons.set_index("segment")
    assert got["users"].to_dict() == want["count"].to_dict()
    for s, row in want.iterrows():
        rest_k, rest_n = want["sum"].sum() - row["sum"], want["count"].sum() - row["count"]
        assert got.loc[s, "value"] == pytest.approx(row["sum"] / row["count"])
        assert got.loc[s, "rest_value"] == pytest.approx(rest_k / rest_n)


# ---- the ladder's analysis names -----------------------------------------------------------------

def test_rung_slugs_are_stable_identifiers():
    month = [("Inactive", 0), ("Active (other)", 1), ("1-3 days", 2), ("4-10 days", 3), ("11+ days", 4)]
    assert [rung_slug(n, month) for n, _ in month] == ["inactive", "active_other", "1_3_days", "4_10_days", "11_days"]
    zh = [("不活躍", 0), ("訪客", 1), ("創作者 Pro", 2)]
    assert rung_slug("創作者 Pro", zh) == "創作者_pro"
    # two rungs giving the same slug (and a name giving none) fall back to their place on the ladder
    clash = [("Inactive", 0), ("Power user", 1), ("power-user", 2), ("+++", 3), ("rung 1", 4)]
    assert [rung_slug(n, clash) for n, _ in clash] == ["inactive", "rung_1", "rung_2", "rung_3", "rung_4"]
    with pytest.raises(KeyError, match="no rung 'Creator'"):
        rung_slug("Creator", month)


def test_ladder_comparison_names_its_analysis_by_the_slug():
    rows = [(u, d, "open", 1) for u in ("a1", "a2", "b1", "b2") for d in (0, 7, 14)]
    users = pd.DataFrame({"user_id": ["a1", "a2", "b1", "b2"], "plan": ["pro", "pro", "free", "free"]})
    log = load(day_events(rows), users=users, params=make_params(users={"source": "(given)", "attributes": ["plan"]}))
    lad = LadderParams(period="week")
    c = ladder_comparison(log, segments(log, BreakdownParams(by="plan")), ladder=lad, rung="2-3 days", age=1,
                          min_size=1)
    assert c.analysis == "ladder_at_or_above_2_3_days" and c.fields["rung"] == "2-3 days"


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


@pytest.mark.parametrize("notebook", ["overview", "ladder", "lifecycle", "key_behaviors"])
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
    by_file = {"overview": "segment_sizes", "ladder": "ladder_composition_by_segment", "lifecycle": "lifecycle_by_segment",
               "key_behaviors": "behavior_segments_by_segment"}[notebook]
    by = pd.read_csv(tmp_path / "with" / f"{by_file}.csv")
    assert by.columns[:2].tolist() == ["breakdown", "segment"] and set(by["segment"]) == set(rows["segment"])
    plain = _run(notebook, without, tmp_path / "without")
    assert "By segment" not in plain
    assert not (tmp_path / "without" / "segment_comparisons.csv").exists()
    assert not (tmp_path / "without" / f"{by_file}.csv").exists()


@pytest.mark.parametrize("notebook,language", [("ladder", "zh-TW"), ("lifecycle", "zh-CN"), ("key_behaviors", "zh-TW"),
                                               ("overview", "zh-TW"), ("overview", "zh-CN")])
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
