"""The Ladder of Engagement report: its place in a run and its export contract."""

from __future__ import annotations

from ..spec import Column as C
from ..spec import Export, ReportSpec, with_segment_exports

__all__ = ["SPEC"]

_RUNG = (C("rung", "rung name (Inactive, Active (other) or a configured rung)"),
         C("rung_order", "0 = Inactive, rising with the rung"))

_BASE = ReportSpec(
    name="ladder",
    title="Ladder of Engagement",
    order=40,
    question="Do users climb the Ladder of Engagement?",
    section="ladder",
    docs="docs/ladder.md",
    exports=(
        Export("ladder_composition", "Users on each rung per complete period, among all and among recent users.", (
            C("period", "first day of the period"),
            C("scope", "all (acquired by then) or recent (acquired in the last recent_periods periods)"),
            *_RUNG,
            C("users", "users on the rung"),
            C("share", "users / the scope's users in the period"),
        )),
        Export("ladder_cohorts", "Users on each rung per acquisition cohort and age.", (
            C("cohort", "first day of the cohort's start period"),
            C("age", "periods since the start period (0 = the start period)"),
            *_RUNG,
            C("users", "users on the rung"),
            C("share", "users / cohort_users"),
        ), extra=(C("cohort_users", "the cohort's users on the grid at that age"),
                  C("new_cohort", "false for a left-censored cohort or one starting before the first complete period"))),
        Export("ladder_transitions", "Rung in one period against the same user's rung in the next, pooled.", (
            C("from_rung", "rung in a period"),
            C("to_rung", "rung in the next period"),
            C("users", "user-periods making that move"),
            C("share", "users / users leaving from_rung"),
        ), extra=(C("from_order", "rung_order of from_rung"), C("to_order", "rung_order of to_rung"))),
        Export("ladder_validation", "Per rung: activity in the period and the share active in the next one.", (
            *_RUNG,
            C("user_periods", "(user, complete period) pairs on the rung"),
            C("median_active_days", "median distinct active days in the period"),
            C("share_active_next_period", "share of its user-periods active in the next complete period"),
        ), extra=(C("mean_active_days", "mean distinct active days in the period"),
                  C("user_periods_with_next", "user-periods that have a next complete period"))),
    ),
)

#: by segment (docs/segments.md)
SPEC = with_segment_exports(_BASE, ("ladder_composition", "ladder_transitions"))
