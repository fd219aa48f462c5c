"""Reports in zh-TW and zh-CN: hand-checked sentences, headers and labels of the overview and
stickiness reports, and (slow) every page of both on the demo and the shop log with no English
sentence left."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest
import yaml

from retention_kit.analyses import overview, stickiness
from retention_kit.core import i18n
from retention_kit.plots import overview as ov_plots
from retention_kit.plots import use_style
from retention_kit.reporting import report
from retention_kit.reporting.publish import write_index
from retention_kit.reporting.render import render_html

from tests.factories import PARAMS, load, make_params
from tests.reporting.shop import write_shop
from tests.reporting.test_pages import _Text

ROWS = [("u1", "2024-01-01 09:00", "open"), ("u1", "2024-01-01 10:00", "open"),
        ("u2", "2024-01-01 11:00", "open"), ("u2", "2024-01-02 09:00", "buy")]


def _summary(log):
    types, per_day = overview.event_types(log), overview.events_per_day(log)
    return overview.summary(log.quality, types, per_day, overview.duplicate_rows(log)).text


def test_the_overview_summary_in_each_language():
    # by hand: 4 events of 2 users over 2 days; open is the most common (3 events, both users);
    # 2024-01-01 has 3 events; nothing dropped, no row repeats another
    log = load(ROWS)
    assert _summary(log).startswith("**In short.** The log holds **4** events from **2** users over **2** days")
    with i18n.using("zh-TW"):
        assert _summary(log) == (
            "**重點摘要。** 這份日誌共有 **4** 筆事件，來自 **2** 位用戶，涵蓋 **2** 天（2024-01-01 至 2024-01-02），"
            "共 2 種事件類型。最常見的事件是 `open`（100% 的用戶有此事件）。事件最多的一天是 2024-01-01，共 3 筆事件。"
            "沒有任何資料列因無效而被捨棄。沒有完全重複的資料列。")
    with i18n.using("zh-CN"):
        assert _summary(log).startswith("**重点摘要。** 这份日志共有 **4** 条事件，来自 **2** 名用户")


def test_the_quality_table_shows_its_checks_in_the_language_and_exports_them_as_they_are():
    rows = [*ROWS, (None, "2024-01-02 10:00", "open")]  # one row of five without a user: dropped
    log = load(rows, max_dropped_share=0.5)
    table = overview.quality_table(log)
    assert "dropped: null or blank user id ('user_id')" in set(table["check"])
    with i18n.using("zh-TW"):
        shown = overview.quality_shown(table)
    assert list(shown["check"]) == ["讀取的列數", "捨棄：用戶 ID 為空或空白（'user_id'）", "依 data.exclude_events 排除",
                                    "保留的列數"]
    assert list(shown["rows"]) == [5, 1, 0, 4] and list(table["check"])[0] == "rows read"  # the export's frame


def test_stickiness_notes_and_judgements_in_chinese():
    sp = make_params(stickiness={"trailing_days": [7, 28], "mau_window": 28}).stickiness
    trailing = pd.DataFrame({"days": [7]})
    active = pd.DataFrame({"mau": [float("nan")] * 10})
    with i18n.using("zh-CN"):
        assert stickiness.trailing_note(trailing, sp, span_days=20) == "L28：数据只涵盖 20 天，比窗口短，因此不显示。"
        assert stickiness.judged_by({"cadence": "monthly", "judge_by": "monthly retention"}, ratios_shown=False) == \
            "暂以每日留存率（月留存率需要更多月份的数据）"
    with i18n.using("zh-TW"):
        assert stickiness.ratios_note(active, sp) == (
            "DAU/MAU 與 WAU/MAU 需要 28 天的資料（stickiness.mau_window）；這份日誌只涵蓋 10 天，因此圖表顯示 DAU，"
            "以及從第 7 天起的 WAU。")
        assert stickiness.judged_by({"cadence": "monthly", "judge_by": "monthly retention"}) == "月留存率"
        defs = stickiness.definitions(sp)
    assert {"增長核算", "同期群", "第 N 日留存率", "超級用戶曲線"} <= set(defs)


def test_table_headers_come_from_the_catalog_and_data_columns_stay():
    with i18n.using("zh-TW"):
        assert [report.column_label(c) for c in ("retention", "quick_ratio", "2024-01-01")] == [
            "留存率", "快速比率", "2024-01-01"]
    assert report.column_label("retention") == "retention"


def test_a_chart_is_labelled_in_the_report_language():
    per_day = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=3), "events": [3, 1, 2],
                            "active_users": [2, 1, 1]})
    with plt.rc_context(), i18n.using("zh-TW"):
        use_style()  # the report language's CJK fonts
        ax = ov_plots.events_per_day(per_day)
    try:
        assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("每日事件數與活躍用戶數", "日期", "每日數量")
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["事件", "活躍用戶"]
    finally:
        plt.close(ax.figure)


def test_the_index_and_a_page_say_their_language(tmp_path):
    page = write_index(tmp_path, language="zh-TW").read_text(encoding="utf-8")
    assert '<html lang="zh-TW">' in page and "<title>Retention Kit 報告</title>" in page and "尚無報告。" in page
    assert "<th>產品</th><th>報告</th><th>狀態</th>" in page
    assert '<html lang="en">' in write_index(tmp_path).read_text(encoding="utf-8")
    body = render_html(nbformat.v4.new_notebook(), title="x", language="zh-CN")
    assert '<html lang="zh-CN">' in body


# three or more English words in a row: a sentence (or heading) left untranslated
_ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,}){2,}\b")


def _text(path: Path, *, title: str) -> str:
    p = _Text()
    p.feed(path.read_text(encoding="utf-8"))
    return " ".join(" ".join(p.parts).replace(title, " ").split())


def _params(tmp_path: Path, language: str) -> Path:
    raw = yaml.safe_load((PARAMS / "demo.yaml").read_text(encoding="utf-8"))
    raw.update(product=f"demo_{language}", language=language)
    path = tmp_path / f"demo_{language}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.slow
def test_every_page_of_the_overview_and_stickiness_reports_renders_in_chinese(tmp_path):
    from retention_kit.reporting.runner import EXIT_OK, run

    shop = tmp_path / "shop"
    shop.mkdir()
    files = [_params(tmp_path, "zh-TW"), _params(tmp_path, "zh-CN"), write_shop(shop, language="zh-TW")]
    res = run(files, out=tmp_path / "out", notebooks=["overview", "stickiness"], jobs=2, progress=False)
    assert res.exit_code == EXIT_OK, [st.message for st in res.statuses]
    for product, language, title, heading in (("demo_zh-TW", "zh-TW", "Demo Notes app", "增長核算"),
                                              ("demo_zh-CN", "zh-CN", "Demo Notes app", "增长核算"),
                                              ("shop", "zh-TW", "樂屋網 買家", "增長核算")):
        for notebook in ("overview", "stickiness"):
            page = tmp_path / "out" / product / f"{notebook}.html"
            assert f'<html lang="{language}">' in page.read_text(encoding="utf-8")
            text = _text(page, title=title)
            assert _ENGLISH.findall(text) == [], (product, notebook)
        assert heading in _text(tmp_path / "out" / product / "stickiness.html", title=title)
        log = (tmp_path / "out" / product / "run.log").read_text(encoding="utf-8")
        assert "no installed font draws" not in log  # the Chinese labels are drawn, not boxes
