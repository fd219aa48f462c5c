"""The computations behind each report notebook, called as the notebooks call them, so the
benchmark times what a report run computes (without kernels and rendering)."""

from __future__ import annotations

from collections.abc import Callable

from retention_kit.analyses import key_behaviors, ladder, lifecycle, overview, stickiness
from retention_kit.data import EventLog, Params


def overview_tables(log: EventLog, params: Params) -> None:
    overview.event_types(log, top=50)
    overview.events_per_day(log)
    overview.duplicate_rows(log)


def stickiness_core(log: EventLog, params: Params) -> None:
    """The four stickiness tables of the pandas baseline (same definitions)."""
    stickiness.active_users(log, mau_window=28)
    stickiness.power_user_curve(log)
    stickiness.growth_accounting(log, granularity="month")
    stickiness.cohort_retention(log, granularity="week", modes=("on",))


def stickiness_daily(log: EventLog, params: Params) -> None:
    """The daily views the stickiness notebook adds (issue 12): daily growth accounting, day-N
    retention of the last ``day_cohorts`` daily cohorts (D0..D``max_day``, both modes) and its
    D1/D7/D30 headline, and day-bracket retention (Amplitude's standard brackets)."""
    s = params.stickiness
    stickiness.growth_accounting(log, granularity="day")
    cells = stickiness.cohort_retention(log, granularity="day", modes=("on", "on_or_after"),
                                        **stickiness.retention_options(s, "day"))
    stickiness.retention_headline(cells[cells["mode"] == "on"], min_size=stickiness.minimum_cohort(log, s.min_cohort_size))
    stickiness.retention_brackets(log, brackets=s.retention.brackets or [(1, 1), (2, 7), (8, 14), (15, 30)],
                                  granularity="day", **stickiness.retention_options(s, "day", brackets=True))


def stickiness_tables(log: EventLog, params: Params) -> None:
    s = params.stickiness
    stickiness.active_users(log, mau_window=s.mau_window)
    stickiness.power_user_curve(log)
    stickiness.power_user_curve_by_cohort(log)
    stickiness.trailing_activity(log, days=s.trailing_days)
    for g in ("week", "month"):
        stickiness.growth_accounting(log, granularity=g)
        stickiness.cohort_retention(log, granularity=g, modes=("on", "on_or_after"), **stickiness.retention_options(s, g))
    stickiness_daily(log, params)
    stickiness.cadence_profile(log)


def key_behavior_tables(log: EventLog, params: Params) -> None:
    k = params.key_behaviors
    table, _ = key_behaviors.candidate_stats(log, window_days=k.window_days, outcome_start=k.outcome_start,
                                      outcome_end=k.outcome_end, max_threshold=k.max_threshold, exclude=k.exclude)
    top = key_behaviors.findings(table)
    events = [e for e in top["event"].head(3)] if len(top) else []
    if events:
        key_behaviors.window_scan(log, events=events, windows=k.window_scan, max_threshold=k.max_threshold,
                              outcome_start=max(k.window_scan) + (k.outcome_start - k.window_days),
                              outcome_end=max(k.window_scan) + (k.outcome_end - k.window_days))
    key_behaviors.behavior_segments(log, power_user_days=k.power_user_days, attributes=k.segment_attributes,
                               window_days=k.window_days, outcome_start=k.outcome_start, outcome_end=k.outcome_end)


def ladder_tables(log: EventLog, params: Params) -> None:
    lp = params.ladder
    ladder.composition(log, ladder=lp)
    ladder.cohorts(log, ladder=lp)
    ladder.transitions(log, ladder=lp)
    ladder.transition_rates(log, ladder=lp)
    ladder.validation(log, ladder=lp)
    ladder.rung_power_user_curve(log, ladder=lp)


def lifecycle_tables(log: EventLog, params: Params) -> None:
    lc = params.lifecycle
    thr = lifecycle.thresholds(log, new_days=lc.new_days, silent_days=lc.silent_days, churned_days=lc.churned_days)
    lifecycle.snapshots(log, thresholds=thr)
    lifecycle.flows(log, thresholds=thr)
    lifecycle.at_risk_summary(log, thresholds=thr, factor=lc.at_risk_factor)
    if lifecycle.has_revenue(log):
        for g in ("week", "month"):
            lifecycle.value_by_period(log, granularity=g)
            lifecycle.cohort_revenue(log, granularity=g)
        lifecycle.repurchase(log)


NOTEBOOKS: dict[str, Callable[[EventLog, Params], None]] = {
    "overview": overview_tables,
    "stickiness": stickiness_tables,
    "key_behaviors": key_behavior_tables,
    "ladder": ladder_tables,
    "lifecycle": lifecycle_tables,
}
