"""The key-behaviour page in the report languages: sentences and labels from the catalog, data
values (event names) untouched, English as it always was."""

from __future__ import annotations

import html
import re

import pandas as pd

from retention_kit.analyses.key_behaviors import narrative
from retention_kit.core import i18n

from tests.factories import make_params

P = make_params(key_behaviors={"window_days": 7, "outcome_start": 14, "outcome_end": 28}).key_behaviors
ROW = pd.Series({"event": "邀請好友", "threshold": 3, "verdict": "beyond_activity", "retained_did": 0.5, "ci_did_low": 0.4,
                 "ci_did_high": 0.6, "retained_not": 0.1, "ci_not_low": 0.08, "ci_not_high": 0.12, "n_did": 100,
                 "n_eligible": 1000, "lift": 5.0, "phi": 0.3, "q_value": 0.0004, "adjusted_odds_ratio": 2.5,
                 "adjusted_or_low": 1.5, "adjusted_or_high": 4.0, "lift_discovery": 4.5, "lift_validation": 6.0,
                 "supported_validation": True, "stable": True})


def _plain(markdown: str) -> str:
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown))


def test_a_finding_reads_in_each_language_with_the_event_name_as_given():
    assert _plain(narrative.finding(ROW, P).text) == (
        "- Users who did `邀請好友` at least 3 times in their first 7 days: **50%** [40%, 60%] active in days 14-27, "
        "against **10%** [8%, 12%] for the rest (n = 100 of 1,000; lift 5.0, phi 0.30, q < 0.001); the effect holds "
        "on later users (lift 4.5 on earlier vs 6.0 on later users), and it is not explained by overall activity: "
        "among users with the same number of active days and of events in their first 7 days, activity-adjusted "
        "odds ratio 2.5 [1.5, 4.0].")
    with i18n.using("zh-TW"):
        assert _plain(narrative.finding(ROW, P).text) == (
            "- 前 7 天內做過 `邀請好友` 至少 3 次的用戶：**50%** [40%, 60%] 在第 14-27 天活躍，其餘用戶為 **10%** "
            "[8%, 12%]（n = 100 / 1,000；提升度 5.0，phi 0.30，q < 0.001）；效果在較晚的用戶身上依然成立（提升度："
            "較早用戶 4.5，較晚用戶 6.0），且整體活躍度無法解釋它：在前 7 天內活躍天數與事件數都相同的用戶中，"
            "活躍度校正後的勝算比 2.5 [1.5, 4.0]。")
    with i18n.using("zh-CN"):
        text = _plain(narrative.finding(pd.Series({**ROW.to_dict(), "threshold": 1, "stable": False}), P).text)
        assert text.startswith("- 前 7 天内做过 `邀請好友` 至少一次的用户：")
        assert "效果在较晚的用户身上不明显成立" in text and "优势比 2.5 [1.5, 4.0]" in text


def test_the_ranked_table_words_verdicts_and_headers_but_the_csv_frame_keeps_codes():
    found = pd.DataFrame([{"rank": 0, "event": "__active_days__", "threshold": 2, "verdict": "baseline",
                           "direction": "with staying", "stable": True},
                          {"rank": 1, "event": "結帳", "threshold": 1, "verdict": "activity_proxy",
                           "direction": "with leaving", "stable": False}])
    for c in ("n_did", "share_did", "retained_did", "retained_not", "lift", "phi", "q_value", "adjusted_odds_ratio",
              "adjusted_q_value", "lift_discovery", "lift_validation"):
        found[c] = 0.5
    before = found.copy()
    en = narrative.page_table(narrative.ranked_table(found), percent=["share_did"])
    assert list(en["df"].columns[:5]) == ["rank", "event", "threshold", "verdict", "direction"]
    assert en["df"]["verdict"].tolist() == ["baseline", "activity proxy"] and en["percent"] == ["share_did"]
    assert en["df"]["event"].tolist() == ["__active_days__", "結帳"] and en["df"]["stable"].tolist() == ["True", "False"]
    with i18n.using("zh-TW"):
        zh = narrative.page_table(narrative.ranked_table(found), percent=["share_did"])
    assert list(zh["df"].columns[:5]) == ["排名", "事件", "門檻", "判定", "方向"] and zh["percent"] == ["做過比例"]
    assert zh["df"]["判定"].tolist() == ["基準", "活躍度代理"]
    assert zh["df"]["方向"].tolist() == ["與留下相關", "與離開相關"]
    assert zh["df"]["事件"].tolist() == ["（活躍天數）", "結帳"] and zh["df"]["穩定"].tolist() == ["是", "否"]
    pd.testing.assert_frame_equal(found, before)


def test_segments_of_the_kit_are_worded_attribute_segments_are_data():
    with i18n.using("zh-CN"):
        assert [narrative.segment_label(s) for s in ("power", "churned", "plan=pro")] == ["超级用户", "流失用户", "plan=pro"]
    assert narrative.section("caution").text.startswith("## Caution\nThese are associations, not causes.")
    with i18n.using("zh-TW"):
        assert narrative.section("caution").text.startswith("## 注意\n這些是相關，不是因果。")
