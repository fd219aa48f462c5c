"""The lifecycle and value report: its place in a run and its export contract."""

from __future__ import annotations

import dataclasses

from ..spec import SEGMENT_COLUMNS, Export, ReportSpec, with_segment_exports
from ..spec import Column as C

__all__ = ["SPEC"]

_BASE = ReportSpec(
    name="lifecycle",
    title="Lifecycle and value",
    order=50,
    question="New, active, silent, churned; who is at risk; revenue and repurchase",
    section="lifecycle",
    docs="docs/lifecycle.md",
    exports=(
        Export("lifecycle", "Users per lifecycle segment at each month end.", (
            C("date", "month end"),
            C("segment", "new, active, silent or churned"),
            C("users", "started users in the segment"),
            C("share", "users / users started by that date"),
        )),
        Export("at_risk_users", "The users at risk on the last day of data (the one per-user export).", (
            C("user_id", "the source's own user id"),
            C("segment", "active or silent"),
            C("last_active", "last active day (or start day)"),
            C("days_since_last", "days since last_active"),
            C("typical_gap_days", "the user's median gap between active days"),
            C("revenue_to_date", "net revenue up to the last day (empty without revenue)"),
        ), extra=(C("active_days", "active days up to the last day"), C("purchases", "purchase days"),
                  C("typical_purchase_gap_days", "median gap between purchases"),
                  C("rule", "activity, purchase or both: which rule flagged the user"))),
        Export("value", "Revenue per active and per paying user, per month and per week.", (
            C("granularity", "month or week"),
            C("period", "first day of the period"),
            C("active_users", "users with an active day in it"),
            C("paying_users", "users with a purchase in it"),
            C("revenue", "net revenue (refunds negative)"),
            C("arpu", "revenue / active_users"),
            C("arppu", "revenue / paying_users"),
        ), extra=(C("period_end", "last day of the period"),
                  C("complete", "whether the period lies wholly in the data range (else values are empty)"),
                  C("purchases", "purchase user-days"), C("purchase_frequency", "purchases / paying_users"))),
        Export("value_cohorts", "Revenue of each start cohort by age, observed only.", (
            C("granularity", "month or week"),
            C("cohort", "first day of the cohort's period"),
            C("period", "age k: periods since the cohort's own"),
            C("cohort_size", "users who started in the cohort period"),
            C("revenue", "the cohort's net revenue in period c + k (empty when not complete)"),
            C("revenue_retention", "revenue(k) / revenue(0)"),
            C("cumulative_revenue_per_user", "revenue of ages 0..k / cohort_size"),
        ), extra=(C("complete", "whether period c + k lies wholly in the data range"),)),
        Export("repurchase", "Share of buyers who buy again within N days of their first purchase.", (
            C("window_days", "N"),
            C("eligible_buyers", "buyers whose first purchase is at least N days before the end of the data"),
            C("repurchasers", "of them, those with a purchase on a later day within N days"),
            C("rate", "repurchasers / eligible_buyers"),
        )),
    ),
)

#: by segment (docs/segments.md): value_by_segment leads with breakdown and segment, then value.csv's
#: columns. lifecycle.csv's own ``segment`` (the lifecycle stage) would clash with the breakdown's
#: leading ``segment``, so lifecycle_by_segment.csv names it ``lifecycle_segment`` (only there).
_WITH_VALUE = with_segment_exports(_BASE, ("value",))
SPEC = dataclasses.replace(_WITH_VALUE, exports=(*_WITH_VALUE.exports, Export(
    "lifecycle_by_segment", "lifecycle.csv computed on each segment's users alone, with the whole log's thresholds "
                            "(written when breakdown.by is set; docs/segments.md).", (
        *SEGMENT_COLUMNS,
        C("date", "month end"),
        C("lifecycle_segment", "new, active, silent or churned: lifecycle.csv's segment column, renamed here because "
                               "segment is the breakdown's"),
        C("users", "started users of the breakdown segment in the lifecycle segment"),
        C("share", "users / users of the breakdown segment started by that date"),
    ), breakdown_only=True)))
