"""The stickiness report: its place in a run and its export contract."""

from __future__ import annotations

from ..spec import Column as C
from ..spec import Export, ReportSpec, with_segment_exports

__all__ = ["SPEC"]

_BASE = ReportSpec(
    name="stickiness",
    title="Stickiness",
    order=20,
    question="Do people come back, how often, is it getting better?",
    section="stickiness",
    docs="docs/stickiness.md",
    exports=(
        Export("active_users", "DAU, WAU, MAU and their ratios for every day of the data range.", (
            C("date", "local day (ISO); every day of the data range"),
            C("dau", "distinct users active on the day"),
            C("wau", "distinct users active in the 7 days ending on it; empty before the 7th day of data"),
            C("mau", "distinct users active in the mau_window days ending on it; empty before the mau_window-th day"),
            C("dau_mau", "dau / mau (fraction; empty where mau is empty or 0)"),
            C("wau_mau", "wau / mau (fraction; empty where wau or mau is empty, or mau is 0)"),
        )),
        Export("power_user_curve", "Users by distinct active days, per complete calendar month.", (
            C("month", "first day of the month"),
            C("active_days", "number of distinct active days in the month, 1..days in the month"),
            C("users", "users active on exactly that many days"),
            C("share", "users / the month's active users (a month's shares sum to 1)"),
        ), extra=(C("days_in_month", "days in the month"),)),
        Export("growth_accounting", "Where each complete day's, week's and month's active users came from.", (
            C("granularity", "day, week or month (all three are exported)"),
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
        Export("retention", "Cohort retention cells whose period is complete: daily (within day_cohorts and max_day), "
                            "weekly and monthly, both modes, for the configured cohorts and events.", (
            C("granularity", "day, week or month"),
            C("mode", "on (a return in period k) or on_or_after (in k or later)"),
            C("cohort", "first day of the cohort's period (the users' start)"),
            C("period", "k: periods since the cohort's own (0 = the cohort period, always 100%; day k = D<k>)"),
            C("cohort_size", "users in the cohort (recurring cohorts: users who did a start event in the period)"),
            C("active", "cohort users with a return in period k (on) or in k or later (on_or_after)"),
            C("retention", "active / cohort_size"),
            C("ci_low", "95% Wilson interval, low end"),
            C("ci_high", "95% Wilson interval, high end"),
            C("new_cohort", "false for a left-censored cohort or one that started before the data"),
            C("cohort_type", "first (each user once, at their start) or recurring (every period with a start event)"),
            C("start_event", "stickiness.retention.start_event, comma-separated; empty: the user's start"),
            C("return_event", "stickiness.retention.return_event, comma-separated; empty: any active event"),
        )),
        Export("retention_brackets", "Bracket retention (share of a cohort with a return within days a..b of its "
                                     "start), complete brackets only; written when stickiness.retention.brackets is set.", (
            C("granularity", "the cohorts' granularity: day (within day_cohorts), week or month"),
            C("cohort", "first day of the cohort's period"),
            C("bracket", "the bracket as first_day-last_day, e.g. 2-7"),
            C("first_day", "first day of the bracket, in days since each user's start"),
            C("last_day", "last day of the bracket (inclusive)"),
            C("cohort_size", "users in the cohort"),
            C("active", "cohort users with a return on a day of the bracket"),
            C("retention", "active / cohort_size"),
            C("ci_low", "95% Wilson interval, low end"),
            C("ci_high", "95% Wilson interval, high end"),
        ), extra=(
            C("new_cohort", "false for a left-censored cohort"),
            C("cohort_type", "first or recurring, as in retention.csv"),
            C("start_event", "as in retention.csv"),
            C("return_event", "as in retention.csv"),
        )),
        Export("trailing_activity", "Users by distinct active days in each trailing window ending on the last day "
                                    "(stickiness.trailing_days; windows longer than the data are left out).", (
            C("days", "window length in days (7 = L7, 28 = L28)"),
            C("active_days", "distinct active days in the window, 1..days"),
            C("users", "users active on exactly that many days of the window"),
            C("share", "users / the window's active users (a window's shares sum to 1)"),
        ), extra=(C("as_of", "the window's last day: the last day of data"),)),
    ),
)


SPEC = with_segment_exports(_BASE, ("active_users", "power_user_curve", "growth_accounting", "retention"), Export(
    "segment_comparisons", "Each segment against the rest of the users, per period (written when breakdown.by is "
                           "set; docs/segments.md).", (
        C("analysis", "what is compared: retention_<granularity> (average retention of the new cohorts shown), "
                      "ladder_at_or_above_<rung>, lifecycle_active, key_behaviors_retained or overview_active_last_28_days "
                      "(docs/segments.md)"),
        C("period", "k: periods since the cohort's start (ladder: age; lifecycle: the month end; key behaviours: "
                    "the outcome window's days, e.g. 14-27; overview: the last 28 days, e.g. "
                    "2024-05-04/2024-05-31)"),
        C("segment", "the segment (as in the by-segment files)"),
        C("value", "the segment's share (retention, share on the rung or above, active share, share retained, "
                   "share active in the last 28 days)"),
        C("rest_value", "the same share over every other user of the breakdown"),
        C("difference", "value - rest_value"),
        C("ci_low", "Newcombe hybrid score 95% interval of the difference, low end"),
        C("ci_high", "Newcombe hybrid score 95% interval of the difference, high end"),
        C("p_value", "two-sided two-proportion z-test (pooled)"),
        C("q_value", "Benjamini-Hochberg over the rows of the same analysis (the cells one page shows)"),
    ), extra=(
        C("users", "the segment's users in the cell (cohort users; lifecycle: started users; key behaviours: eligible users; "
                     "overview: users started before the last 28 days)"),
        C("rest_users", "the other users in the cell"),
        C("small", "true when users < the minimum segment size: shown greyed, never named"),
        C("report", "the report whose page shows the row (overview, stickiness, key_behaviors, ladder or lifecycle): each "
                    "report writes its own rows"),
    )))
