"""The lifecycle page in the report languages: thresholds, tables and segments from the catalog;
English as it always was; the frames behind the CSV exports untouched."""

from __future__ import annotations

import pandas as pd

from retention_kit.analyses import lifecycle
from retention_kit.core import i18n

THR = lifecycle.Thresholds(new_days=5, silent_days=10, churned_days=20, cadence_p80=4.2, cadence_days=4,
                           derived=("new_days", "silent_days", "churned_days"))


def test_thresholds_in_each_language():
    assert THR.describe() == (
        "New: started less than 5 days ago; active: last active less than 10 days ago; silent: 10 to 19 days; "
        "churned: 20 days or more without activity (a user never active counts from the start day and is silent, "
        "not active, until churned). Derived from the usage cadence (new_days, silent_days, churned_days): 80% of "
        "users with 2+ active days have a median gap of at most 4.2 days, rounded to 4; silent after 2x, churned "
        "after 4x that, new for 1x.")
    with i18n.using("zh-CN"):
        assert THR.describe() == (
            "新用户：开始不到 5 天；活跃：最后一次活跃不到 10 天前；沉默：10 到 19 天；流失：20 天以上没有活跃"
            "（从未活跃的用户从起始日起算，在流失之前属于沉默而非活跃）。由使用频率推得（new_days、silent_days、"
            "churned_days）：有 2 天以上活跃的用户中，80% 的间隔中位数不超过 4.2 天，取整为 4 天；超过 2 倍为沉默，"
            "超过 4 倍为流失，1 倍以内为新用户。")


def test_tables_show_headers_and_segments_in_the_language_without_touching_the_frame():
    frame = pd.DataFrame({"segment": ["active", "active or silent"], "users": [3, 4], "share_at_risk": [0.5, 0.25]})
    before = frame.copy()
    with i18n.using("zh-TW"):
        args = lifecycle.page_table(frame, percent=["share_at_risk"], caption=lifecycle.caption("at_risk"))
    assert list(args["df"].columns) == ["分群", "用戶數", "流失風險比例"] and args["percent"] == ["流失風險比例"]
    assert args["df"]["分群"].tolist() == ["活躍", "活躍或沉默"]
    assert args["caption"] == "各分群的流失風險用戶與其價值（營收以貨幣單位計）"
    pd.testing.assert_frame_equal(frame, before)
    en = lifecycle.page_table(frame, percent=["share_at_risk"])
    pd.testing.assert_frame_equal(en["df"], frame)
    wide = pd.DataFrame({"date": pd.to_datetime(["2024-01-31"]), "new": [1], "churned": [2]})
    with i18n.using("zh-CN"):
        assert list(lifecycle.page_table(wide)["df"].columns) == ["日期", "新用户", "流失"]


def test_at_risk_summary_sentence_in_traditional_chinese():
    at_risk = pd.DataFrame([{"segment": "active or silent", "users": 1859, "at_risk": 346, "share_at_risk": 346 / 1859,
                             "share_of_revenue_last_90d": 0.19, "share_of_revenue_to_date": 0.18}])
    import datetime as dt

    with i18n.using("zh-TW"):
        text = lifecycle.summary(as_of=dt.date(2024, 7, 28), has_money=True, at_risk=at_risk, snaps=None,
                                 repurchase=None, trend=None, thresholds=None).text
    assert text == ("**重點摘要。** 截至 2024-07-28，有 **346** 位用戶有流失風險，占 1,859 位活躍與沉默用戶的 19%，"
                    "貢獻最近 90 天營收的 19%、至今全部營收的 18%。")
