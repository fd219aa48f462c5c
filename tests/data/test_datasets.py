"""The demo generator: deterministic, shaped as promised, with its planted effects really there
(checked here by brute force in pandas, independently of the analysis code)."""

import numpy as np
import pandas as pd

from retention_kit.data.datasets import DEMO_EVENTS, make_demo_log, make_demo_users


def test_deterministic_by_seed_and_fresh_copies():
    a = make_demo_log(800, seed=3)
    b = make_demo_log(800, seed=3)
    pd.testing.assert_frame_equal(a, b)
    a.loc[0, "event"] = "changed"
    assert make_demo_log(800, seed=3).loc[0, "event"] != "changed"
    assert not make_demo_log(800, seed=4).equals(b)


def test_shape():
    log = make_demo_log()
    users = make_demo_users()
    assert 200_000 < len(log) < 500_000
    assert set(log["event"]) == set(DEMO_EVENTS)
    assert log["user_id"].nunique() == len(users) == 6000
    per_user_days = log.assign(d=log.timestamp.dt.date).groupby("user_id")["d"].nunique()
    assert (per_user_days == 1).mean() > 0.25 and per_user_days.max() > 100  # one-day users and a daily core
    sat = log[log.timestamp.dt.day_of_week == 5].shape[0]
    tue = log[log.timestamp.dt.day_of_week == 1].shape[0]
    assert sat < 0.8 * tue  # quieter weekends
    assert (log.loc[log.event == "refund", "revenue"] < 0).all() and (log.loc[log.event == "purchase", "revenue"] > 0).all()


def test_planted_invite_effect_by_brute_force():
    log = make_demo_log()
    log = log[log.event != "push_sent"]
    day = log.timestamp.dt.normalize()
    start = day.groupby(log.user_id).transform("min")
    log = log.assign(dn=(day - start).dt.days)
    last = day.max()
    first = day.groupby(log.user_id).min()
    eligible = first[first + pd.Timedelta(days=27) <= last].index
    inv = log[(log.event == "invite_friend") & (log.dn < 7)].groupby("user_id").size().reindex(eligible, fill_value=0)
    retained = log[(log.dn >= 14) & (log.dn < 28)].groupby("user_id").size().reindex(eligible, fill_value=0) > 0
    did = inv >= 3
    lift = retained[did].mean() / retained[~did].mean()
    assert lift > 2.5, lift
    # below the threshold the effect is absent: 2 invites retain like 0-1
    two = retained[inv == 2].mean()
    assert abs(two - retained[inv <= 1].mean()) < 0.1 and retained[did].mean() > two + 0.2
    assert np.isfinite(lift)


def test_loaders_read_the_real_logs(shared_data):
    from retention_kit.data.datasets import load_online_retail, load_stackexchange

    se = load_stackexchange()
    # the data README: 25,724 events, 9,713 users, 83 event types
    assert (len(se), se["user_id"].nunique(), se["event"].nunique()) == (25724, 9713, 83)
    assert str(se["timestamp"].dtype).startswith("datetime64")
    retail = load_online_retail()
    # 34,165 events of 262 customers, purchase and cancel lines
    assert (len(retail), retail["user_id"].nunique()) == (34165, 262)
    assert set(retail["event"]) == {"purchase_line", "cancel_line"}
