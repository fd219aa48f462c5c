"""The ladder page in the report languages: conditions, flags and the summary from the catalog;
rung and event names untouched; English as it always was."""

from __future__ import annotations

import pandas as pd
import pytest

from retention_kit.analyses import ladder as L
from retention_kit.core import conditions, i18n

COND = {"all": [{"event": "建立筆記", "min": 2}, {"any": [{"active_days": 2}, {"previous": {"event": "share"}}]}]}


@pytest.mark.parametrize("cond", [COND, {"event": "save_note"}, {"any": [{"event": "a", "min": 3}, {"active_days": 1}]}])
def test_english_conditions_read_as_the_condition_language_says_them(cond):
    assert L.describe(cond) == conditions.describe(cond)


def test_conditions_in_chinese_keep_event_names():
    with i18n.using("zh-TW"):
        assert L.describe(COND) == "建立筆記 >= 2 且 （活躍天數 >= 2 或 上一期：share >= 1）"
    with i18n.using("zh-CN"):
        assert L.describe({"active_days": 3}) == "活跃天数 >= 3"


def test_the_definition_table_names_the_implicit_rungs_in_the_language(demo_params):
    lad = demo_params.ladder
    with i18n.using("zh-TW"):
        shown = L.page_table(L.shown_definition(lad))["df"]
    assert list(shown.columns) == ["階序", "階", "條件", "隱含"]
    assert shown["階"].tolist()[:2] == ["不活躍", "Visitor"]
    assert shown["條件"].tolist()[:2] == ["期間內沒有活躍（隱含）", "活躍天數 >= 1"]
    assert shown["隱含"].tolist()[:2] == ["是", "否"]
    en = L.page_table(L.shown_definition(lad))["df"]
    pd.testing.assert_frame_equal(en.drop(columns="implicit"), L.definition_table(lad).drop(columns="implicit"))


def test_flags_and_summary_in_simplified_chinese():
    t = pd.DataFrame({"rung": ["Visitor", "Saver"], "rung_order": [1, 2], "user_periods": [100, 50],
                      "share_active_next_period": [0.5, 0.4], "mean_active_days": [1.5, 2.0]})
    with i18n.using("zh-CN"):
        assert L.validation_flags(t) == ["Saver 顺序有误：其用户下一周活跃的比例低于 Visitor：40% 对 50%；请检查阶梯。"]
        assert L.validation_flags(t, period="month", min_user_periods=60) == [
            "Saver 只有 50 个用户月，太少而无法验证（少于 60）；请检查它的条件。"]
    pooled = pd.Series({"climb_rate": 0.1, "slide_rate": 0.2, "stay_rate": 0.7})
    with i18n.using("zh-TW"):
        assert L.summary("X。", pooled, [], "week").text == (
            "**重點摘要。** X。相鄰兩週之間，10% 的用戶升到更高的階，20% 下滑，70% 停留原階。"
            "各階順序正確：活躍程度與下一週的活躍都隨階層上升。")
    assert L.summary("X.", pooled, ["f"], "month").text == (
        "**In short.** X. Between consecutive months, 10% of users climb to a higher rung, 20% slide down and 70% "
        "stay. Check the ladder: 1 problem(s) in the validation below.")
