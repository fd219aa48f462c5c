"""Lifecycle and value: new, active, silent and churned users, who is at risk, revenue and
repurchase.

Thresholds, segments, snapshots and flows (:mod:`.segments`), users at risk (:mod:`.at_risk`),
revenue per user, repurchase and cohort revenue (:mod:`.value`), the report's sentences
(:mod:`.narrative`) and its spec (:mod:`.spec`).
"""

from .at_risk import at_risk_summary, at_risk_users
from .narrative import (NO_REVENUE, SECTIONS, at_risk_intro, caption, definitions, no_revenue, page_table, section,
                        segment_label, summary)
from .segments import (
    NOT_STARTED,
    SEGMENTS,
    Thresholds,
    flows,
    is_purchase_product,
    segments_at,
    snapshot_dates,
    snapshots,
    thresholds,
)
from .spec import SPEC
from .value import (
    cohort_revenue,
    complete_value_periods,
    has_revenue,
    observed_cohorts,
    observed_repurchase,
    purchase_days,
    repurchase,
    repurchase_trend,
    value_by_period,
)

__all__ = [
    "SECTIONS",
    "section",
    "caption",
    "page_table",
    "segment_label",
    "no_revenue",
    "NO_REVENUE",
    "SEGMENTS",
    "NOT_STARTED",
    "Thresholds",
    "thresholds",
    "is_purchase_product",
    "segments_at",
    "snapshot_dates",
    "snapshots",
    "flows",
    "at_risk_users",
    "at_risk_summary",
    "has_revenue",
    "purchase_days",
    "value_by_period",
    "repurchase",
    "repurchase_trend",
    "cohort_revenue",
    "complete_value_periods",
    "observed_repurchase",
    "observed_cohorts",
    "summary",
    "at_risk_intro",
    "definitions",
    "SPEC",
]
