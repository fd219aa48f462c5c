"""A breakdown is a group-by key: every by-segment table is one query over the whole log with the
segment joined in. The independent route is each segment's log built on its own (the daily
table, users and event rows physically restricted to its users, :meth:`Segments.log_for`) and the
plain analysis run on it: both must give the same frame, for each kind of segment, on the demo
(planted effects, signups) and on the Stack Exchange log (a real users table)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from retention_kit import load_events, load_params, params_from_dict
from retention_kit.analyses import key_behaviors as kb, ladder as lad, lifecycle as lc, stickiness as stk
from retention_kit.analyses.segments import segments
from retention_kit.data.params import BreakdownParams

from tests.factories import PARAMS


@pytest.fixture(scope="module")
def demo():
    raw = yaml.safe_load((PARAMS / "demo_segments.yaml").read_text())
    for part in (raw["data"]["source"], raw["data"]["users"]["source"]):
        part["demo"] = {"n_users": 500, "seed": 3}
    params = params_from_dict(raw)
    return params, load_events(params)


def _tables(log, params, seg):
    """(name, per segment log -> frame, keyed frame) for every analysis that takes ``by``."""
    s, k, thr = params.stickiness, params.key_behaviors, lc.thresholds(log)
    win = dict(window_days=k.window_days, outcome_start=k.outcome_start, outcome_end=k.outcome_end)
    out = [
        ("active_users", lambda sub: stk.active_users(sub, mau_window=s.mau_window), lambda: stk.active_users(log, mau_window=s.mau_window, by=seg)),
        ("power_user_curve", stk.power_user_curve, lambda: stk.power_user_curve(log, by=seg)),
        ("cadence", stk.cadence_distribution, lambda: stk.cadence_distribution(log, by=seg)),
        ("composition", lambda sub: lad.composition(sub, ladder=params.ladder), lambda: lad.composition(log, ladder=params.ladder, by=seg)),
        ("ladder cohorts", lambda sub: lad.cohorts(sub, ladder=params.ladder), lambda: lad.cohorts(log, ladder=params.ladder, by=seg)),
        ("transitions", lambda sub: lad.transitions(sub, ladder=params.ladder), lambda: lad.transitions(log, ladder=params.ladder, by=seg)),
        ("lifecycle", lambda sub: lc.snapshots(sub, thresholds=thr).rename(columns={"segment": "lifecycle_segment"}),
         lambda: lc.snapshots(log, thresholds=thr, by=seg)),
        ("behaviour segments", lambda sub: kb.behavior_segments(sub, **win).rename(columns={"segment": "behavior_segment"}),
         lambda: kb.behavior_segments(log, **win, by=seg)),
    ]
    for g in ("day", "week", "month"):
        out.append((f"growth {g}", lambda sub, g=g: stk.growth_accounting(sub, granularity=g),
                    lambda g=g: stk.growth_accounting(log, granularity=g, by=seg)))
        for opts in ({}, {"cohort_type": "recurring", "max_period": 5},
                     {"start_event": ["save_note"], "return_event": ["app_open"], "latest_cohorts": 30, "max_period": 7}):
            out.append((f"retention {g} {opts}", lambda sub, g=g, o=opts: stk.cohort_retention(sub, granularity=g, **o),
                        lambda g=g, o=opts: stk.cohort_retention(log, granularity=g, by=seg, **o)))
    if lc.has_revenue(log):
        out.append(("value", lambda sub: lc.value_by_period(sub, granularity="week"),
                    lambda: lc.value_by_period(log, granularity="week", by=seg)))
    return out


@pytest.mark.parametrize("by", ["plan", "first.platform", "invited_3"])
def test_keyed_tables_equal_each_segment_computed_alone(demo, by):
    params, log = demo
    seg = segments(log, params.breakdown.model_copy(update={"by": by}))
    assert len(seg.names) >= 2
    for name, alone, keyed in _tables(log, params, seg):
        pd.testing.assert_frame_equal(keyed().reset_index(drop=True), seg.apply(alone).reset_index(drop=True),
                                      obj=f"{by}: {name}")


def test_keyed_retention_equals_segments_alone_on_stack_exchange(shared_data):
    params = load_params(PARAMS / "stackexchange_martialarts.yaml")
    log = load_events(params)
    # a behaviour cohort: earned the Student badge (a first question scored up) in the first 30 days
    b = BreakdownParams(by="student", cohorts=[{"name": "student", "when": {"event": "badge:Student"}, "window_days": 30}])
    seg = segments(log, b)
    assert {"student", "not student"} <= set(seg.names)
    for g in ("week", "month"):
        keyed = stk.cohort_retention(log, granularity=g, by=seg)
        alone = seg.apply(lambda sub: stk.cohort_retention(sub, granularity=g))
        pd.testing.assert_frame_equal(keyed, alone, obj=g)
    pd.testing.assert_frame_equal(stk.growth_accounting(log, granularity="month", by=seg),
                                  seg.apply(lambda sub: stk.growth_accounting(sub, granularity="month")))
