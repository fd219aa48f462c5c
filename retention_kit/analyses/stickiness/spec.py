"""The stickiness report: its place in a run and its export contract."""

from __future__ import annotations

from ..spec import Column as C
from ..spec import Export, ReportSpec

__all__ = ["SPEC"]

SPEC = ReportSpec(
    name="stickiness",
    title="Stickiness",
    order=20,
    question="Do people come back, how often, is it getting better?",
    section="stickiness",
    docs="docs/stickiness.md",
    exports=(
        Export("active_users", "DAU, WAU, MAU and their ratios per day whose whole MAU window lies in the data.", (
            C("date", "local day (ISO)"),
            C("dau", "distinct users active on the day"),
            C("wau", "distinct users active in the 7 days ending on it"),
            C("mau", "distinct users active in the mau_window days ending on it"),
            C("dau_mau", "dau / mau (fraction; empty where mau is 0)"),
            C("wau_mau", "wau / mau (fraction; empty where mau is 0)"),
        )),
        Export("power_user_curve", "Users by distinct active days, per complete calendar month.", (
            C("month", "first day of the month"),
            C("active_days", "number of distinct active days in the month, 1..days in the month"),
            C("users", "users active on exactly that many days"),
            C("share", "users / the month's active users (a month's shares sum to 1)"),
        ), extra=(C("days_in_month", "days in the month"),)),
        Export("growth_accounting", "Where each complete week's and month's active users came from.", (
            C("granularity", "week or month (both are exported)"),
            C("period", "first day of the period"),
            C("active", "distinct users active in the period"),
            C("new", "active, first-ever activity in the period"),
            C("retained", "active in the period and the one before"),
            C("resurrected", "active, not in the period before, but earlier"),
            C("churned", "active in the period before and not in this one (a positive count)"),
            C("quick_ratio", "(new + resurrected) / churned; empty where churned is 0"),
        ), extra=(
            C("new_share", "new / active"), C("retained_share", "retained / active"),
            C("resurrected_share", "resurrected / active"),
            C("churned_new", "churned users who were new the period before"),
            C("churned_retained", "churned users who were retained the period before"),
            C("churned_resurrected", "churned users who were resurrected the period before"),
        )),
        Export("retention", "Cohort retention cells whose period is complete, weekly and monthly, both modes.", (
            C("granularity", "week or month"),
            C("mode", "on (active in period k) or on_or_after (in k or later)"),
            C("cohort", "first day of the cohort's period (the users' start)"),
            C("period", "k: periods since the cohort's own (0 = the cohort period, always 100%)"),
            C("cohort_size", "users who started in the cohort period"),
            C("active", "cohort users counted in period k"),
            C("retention", "active / cohort_size"),
            C("ci_low", "95% Wilson interval, low end"),
            C("ci_high", "95% Wilson interval, high end"),
        ), extra=(C("new_cohort", "false for a left-censored cohort or one that started before the data"),)),
    ),
)
