"""The key-behaviour report: its place in a run and its export contract."""

from __future__ import annotations

from ..spec import SEGMENT_COLUMNS, Export, ReportSpec
from ..spec import Column as C

__all__ = ["ACTIVE_DAYS", "VERDICTS", "SPEC"]

#: The baseline candidate's event name: active on at least k distinct days in the window.
ACTIVE_DAYS = "__active_days__"
#: The values of ``key_behaviors.csv``'s ``verdict`` column, with what each means.
VERDICTS = {
    "baseline": "the active-days baseline every behaviour is compared with",
    "beyond_activity": "significant, and still significant and away from 1 among users with the same active days "
                       "and event volume in the window",
    "activity_proxy": "significant, but explained by activity: not significant, or near 1, once active days and "
                      "event volume are held equal",
    "not_significant": "no significant link with staying (q >= 0.05)",
    "too_few_users": "fewer than max(25, 1% of eligible) users on one side at every threshold",
}

SPEC = ReportSpec(
    name="key_behaviors",
    title="Key behaviours",
    order=30,
    question="Which early behaviours go with users staying?",
    section="key_behaviors",
    docs="docs/key_behaviors.md",
    exports=(
        Export("key_behaviors", "Every candidate (event x threshold, plus the active-days baseline) on every split.", (
            C("event", "event name, or __active_days__ for the baseline"),
            C("threshold", "k: did the event at least k times in the behaviour window"),
            C("window_days", "behaviour window: days [0, window_days) since the start"),
            C("outcome_start", "outcome window start (days since the start)"),
            C("outcome_end", "outcome window end, exclusive"),
            C("split", "all, discovery (earlier two thirds of users) or validation (the later ones)"),
            C("n_eligible", "eligible users of the split"),
            C("n_did", "users who did it"),
            C("share_did", "n_did / n_eligible"),
            C("retained_did", "share of doers retained"),
            C("retained_not", "share of the rest retained"),
            C("lift", "retained_did / retained_not"),
            C("phi", "correlation of did and retained"),
            C("ci_did_low", "95% Wilson interval of retained_did, low"),
            C("ci_did_high", "95% Wilson interval of retained_did, high"),
            C("ci_not_low", "95% Wilson interval of retained_not, low"),
            C("ci_not_high", "95% Wilson interval of retained_not, high"),
            C("p_value", "Fisher's exact two-sided p-value"),
            C("q_value", "Benjamini-Hochberg q-value within the split"),
            C("adjusted_odds_ratio", "Mantel-Haenszel odds ratio within strata of active days and event volume in the "
                                     "window (empty for the baseline)"),
        ), extra=(
            C("n_not", "users who did not"), C("precision", "= retained_did"), C("recall", "share of retained users who did it"),
            C("odds_ratio", "crude odds ratio"), C("adjusted_or_low", "95% interval of the adjusted odds ratio, low"),
            C("adjusted_or_high", "95% interval of the adjusted odds ratio, high"),
            C("supported", "at least max(25, 1% of eligible) users on each side"),
            C("adjusted_p_value", "Cochran-Mantel-Haenszel p-value within the same strata (empty for the baseline)"),
            C("adjusted_q_value", "Benjamini-Hochberg q-value of adjusted_p_value within the split"),
            C("verdict", "on each event's chosen threshold row of split all (empty elsewhere): baseline, "
                         "beyond_activity, activity_proxy, not_significant or too_few_users"),
        )),
        Export("behavior_segments", "Breadth and depth of every event in every segment.", (
            C("segment", "power / occasional, <attribute>=<value>, retained / churned"),
            C("event", "event name"),
            C("segment_users", "users in the segment"),
            C("breadth", "share of the segment's users who did the event in the period"),
            C("depth_median", "median times per active week among those who did"),
        ), extra=(
            C("doers", "users of the segment who did it"),
            C("family", "activity, outcome or the attribute's name"),
            C("period", "last 28 days or behaviour window"),
        )),
        # by segment (docs/segments.md): behavior_segments.csv's own segment would clash with the
        # breakdown's leading segment, so it is behavior_segment here (as lifecycle_segment is in
        # lifecycle_by_segment.csv)
        Export("behavior_segments_by_segment", "behavior_segments.csv computed on each segment's users alone (written "
                                               "when breakdown.by is set; docs/segments.md).", (
            *SEGMENT_COLUMNS,
            C("behavior_segment", "behavior_segments.csv's segment (power / occasional, <attribute>=<value>, "
                                  "retained / churned), renamed here because segment is the breakdown's"),
            C("event", "event name"),
            C("segment_users", "users of the breakdown segment in the behaviour segment"),
            C("breadth", "share of them who did the event in the period"),
            C("depth_median", "median times per active week among those who did"),
        ), extra=(
            C("doers", "users who did it"),
            C("family", "activity, outcome or the attribute's name"),
            C("period", "last 28 days or behaviour window"),
        ), breakdown_only=True),
    ),
)
