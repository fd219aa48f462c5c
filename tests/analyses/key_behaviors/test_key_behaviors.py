"""Key-behaviour discovery: a hand-worked log for every number, an independent pandas brute force,
the demo's planted effects, a log with no effect, a log where only event volume goes with staying,
shuffled event names (the calibration null), the sentences, and the notebook under papermill."""

from __future__ import annotations

import html as html_mod
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from retention_kit import NotEnoughDataError, ParamsError, load_events
from retention_kit.analyses import key_behaviors as kb
from retention_kit.core import stats

from tests.factories import REPO, day_events, load, make_params  # noqa: E402

WIN = {"window_days": 2, "outcome_start": 2, "outcome_end": 4}
# the key_behaviors.csv contract, as the issue wrote it
KB_CONTRACT = ["event", "threshold", "window_days", "outcome_start", "outcome_end", "split", "n_eligible", "n_did",
               "share_did", "retained_did", "retained_not", "lift", "phi", "ci_did_low", "ci_did_high",
               "ci_not_low", "ci_not_high", "p_value", "q_value", "adjusted_odds_ratio"]


# The hand log (data range d0..d9), as day_events rows (user, day offset, event, times). Window
# [0,2), outcome [2,4); "leak" is in the analysis' exclude list (still activity), "push" in
# data.exclude_events (removed at load: the logs that have push events load with exclude_events=["push"]).
#   u1 start d0: x x on d0; leak d3 (dn 3)             -> x=2, retained,     active days in window 1
#   u2 start d0: x d0, y d1; leak d5 (dn 5)            -> x=1 y=1, churned,  active days 2
#   u3 start d1: y d1; leak d4 (dn 3)                  -> y=1, retained,     active days 1
#   u4 start d2: x d2, x x d3; push d4 (removed)       -> x=3, churned,      active days 2
#   u5 start d8: x*5 d8, x d9: d8 + 3 > d9             -> ineligible
#   u6 start d0: leak d0, push d0; leak d2 (dn 2)      -> nothing, retained, active days 1
HAND = [("u1", 0, "x", 2), ("u1", 3, "leak", 1),
        ("u2", 0, "x", 1), ("u2", 1, "y", 1), ("u2", 5, "leak", 1),
        ("u3", 1, "y", 1), ("u3", 4, "leak", 1),
        ("u4", 2, "x", 1), ("u4", 3, "x", 2), ("u4", 4, "push", 1),
        ("u5", 8, "x", 5), ("u5", 9, "x", 1),
        ("u6", 0, "leak", 1), ("u6", 0, "push", 1), ("u6", 2, "leak", 1)]


@pytest.fixture(scope="module")
def hand():
    log = load(day_events(HAND), exclude_events=["push"])
    table, counts = kb.candidate_stats(log, **WIN, max_threshold=3, exclude=["leak"])
    return log, table.set_index(["split", "event", "threshold"]), counts


def test_hand_counts_and_eligibility(hand):
    _, t, counts = hand
    # 6 users, u5 ineligible; retained u1 u3 u6. Start days d0: u1 u2 u6 (3), d1: u3 (4 of 5 >= 2/3)
    # -> discovery u1 u2 u3 u6, validation u4
    assert {k: counts[k] for k in ("users", "eligible", "ineligible", "retained", "discovery", "validation")} == \
        {"users": 6, "eligible": 5, "ineligible": 1, "retained": 3, "discovery": 4, "validation": 1}
    assert set(t.index.get_level_values("event")) == {"x", "y", kb.ACTIVE_DAYS}
    assert (t["n_eligible"].xs("all") == 5).all()


@pytest.mark.parametrize("event, k, cells", [
    # cells a (did & retained), b (did & churned), c (not & retained), d (not & churned)
    ("x", 1, (1, 2, 2, 0)),   # did: u1 R, u2 N, u4 N; not: u3 R, u6 R
    ("x", 2, (1, 1, 2, 1)),   # did: u1 R, u4 N; not: u2 N, u3 R, u6 R
    ("x", 3, (0, 1, 3, 1)),   # did: u4 N
    ("y", 1, (1, 1, 2, 1)),   # did: u3 R, u2 N
    (kb.ACTIVE_DAYS, 2, (0, 2, 3, 0)),  # 2+ active days in the window: u2 N, u4 N
])
def test_hand_candidate_figures(hand, event, k, cells):
    _, t, _ = hand
    a, b, c, d = cells
    r = t.loc[("all", event, k)]
    assert (r["n_did"], r["n_not"]) == (a + b, c + d)
    assert r["share_did"] == pytest.approx((a + b) / 5)
    rd = a / (a + b)
    rn = c / (c + d)
    assert r["retained_did"] == pytest.approx(rd) and r["retained_not"] == pytest.approx(rn)
    assert r["precision"] == pytest.approx(rd) and r["recall"] == pytest.approx(a / (a + c))
    if rn > 0:
        assert r["lift"] == pytest.approx(rd / rn)
    did = np.r_[np.ones(a + b), np.zeros(c + d)]
    ret = np.r_[np.ones(a), np.zeros(b), np.ones(c), np.zeros(d)]
    assert r["phi"] == pytest.approx(np.corrcoef(did, ret)[0, 1])
    assert r["p_value"] == pytest.approx(st.fisher_exact([[a, b], [c, d]])[1])
    lo, hi = stats.wilson_interval(a, a + b)
    assert (r["ci_did_low"], r["ci_did_high"]) == pytest.approx((float(lo), float(hi)))
    # 5 eligible users: support needs 25 on each side, so nothing is supported
    assert not r["supported"]


def test_hand_x1_wilson_and_lift_by_hand(hand):
    _, t, _ = hand
    r = t.loc[("all", "x", 1)]
    # retained_did 1/3, retained_not 2/2 -> lift 1/3; Wilson 2 of 2: centre (1 + 1.92/2)/(1 + 1.92)
    assert r["lift"] == pytest.approx(1 / 3)
    z2 = 1.959963984540054**2
    assert r["ci_not_low"] == pytest.approx((1 + z2 / 4) / (1 + z2 / 2) - 1.959963984540054 * np.sqrt(z2 / 16) / (1 + z2 / 2))
    assert r["ci_not_high"] == pytest.approx(1.0)


def test_hand_splits(hand):
    _, t, _ = hand
    # discovery x>=1: did u1 R, u2 N; not u3 R, u6 R. validation: u4 did, churned
    dsc = t.loc[("discovery", "x", 1)]
    assert (dsc["n_eligible"], dsc["n_did"], dsc["retained_did"], dsc["retained_not"]) == (4, 2, 0.5, 1.0)
    val = t.loc[("validation", "x", 1)]
    assert (val["n_eligible"], val["n_did"], val["retained_did"]) == (1, 1, 0.0)


def test_hand_q_values_are_bh_within_each_split(hand):
    _, t, _ = hand
    allp = t.xs("all")["p_value"]
    assert t.xs("all")["q_value"].to_numpy() == pytest.approx(stats.bh_qvalues(allp.to_numpy()), nan_ok=True)


def test_baseline_and_y_have_no_adjusted_effect_here(hand):
    _, t, _ = hand
    # every active-day stratum has a constant outcome or behaviour: nothing to pool
    assert np.isnan(t.loc[("all", "y", 1), "adjusted_odds_ratio"])
    assert t.xs("all").loc[kb.ACTIVE_DAYS, "adjusted_odds_ratio"].isna().all()


def test_window_overlap_is_a_params_error():
    with pytest.raises(ParamsError, match="overlaps"):
        make_params(key_behaviors={"window_days": 7, "outcome_start": 5, "outcome_end": 28})
    log = load(day_events(HAND), exclude_events=["push"])
    with pytest.raises(ParamsError, match="overlaps"):
        kb.candidate_stats(log, window_days=3, outcome_start=2, outcome_end=4)


def test_no_eligible_user_is_not_enough_data():
    log = load(day_events(HAND), exclude_events=["push"])
    with pytest.raises(NotEnoughDataError, match="eligible"):
        kb.candidate_stats(log, window_days=7, outcome_start=14, outcome_end=28)


def test_excluded_events_never_appear(hand):
    log, t, _ = hand
    events = set(t.index.get_level_values("event"))
    assert "push" not in events and "leak" not in events
    seg = kb.behavior_segments(log, power_user_days=3, **WIN, exclude=["leak"])
    assert not {"push", "leak"} & set(seg["event"])
    f = kb.findings(t.reset_index())
    assert not {"push", "leak"} & set(f["event"])


def test_hand_segments(hand):
    log, _, _ = hand
    seg = kb.behavior_segments(log, power_user_days=3, **WIN, exclude=["leak"]).set_index(["segment", "event"])
    # last 28 days (ending on each user's last active day): active days u1 2, u2 3, u3 2, u4 2,
    # u5 2, u6 2 -> power {u2}, occasional {u1 u3 u4 u5 u6}
    assert seg.loc[("power", "x"), "segment_users"] == 1 and seg.loc[("occasional", "x"), "segment_users"] == 5
    # x in occasional: u1 (2 in 1 active week), u4 (3 in 1), u5 (6 in 1) -> breadth 3/5, median 3
    assert seg.loc[("occasional", "x"), "breadth"] == pytest.approx(0.6)
    assert seg.loc[("occasional", "x"), "depth_median"] == pytest.approx(3.0)
    assert seg.loc[("power", "x"), ["breadth", "depth_median"]].tolist() == [1.0, 1.0]
    # outcome segments over the behaviour window: retained {u1 u3 u6}: x only u1 (2 in 1 week)
    assert seg.loc[("retained", "x"), "breadth"] == pytest.approx(1 / 3)
    assert seg.loc[("retained", "x"), "depth_median"] == pytest.approx(2.0)
    # churned {u2 u4}: x 1 and 3 -> median 2
    assert seg.loc[("churned", "x"), ["breadth", "depth_median"]].tolist() == [1.0, 2.0]
    assert seg.loc[("churned", "y"), "breadth"] == pytest.approx(0.5)
    assert np.isnan(seg.loc[("retained", "y"), "depth_median"]) or seg.loc[("retained", "y"), "breadth"] > 0


def test_depth_counts_active_weeks():
    # one user: x on d0 and d10 (last active d10): blocks back from d10 are (10-0)//7 = 1 and 0,
    # so 2 active weeks and depth 2 events / 2 weeks = 1
    log = load(day_events([("w", 0, "x", 1), ("w", 10, "x", 1)]))
    seg = kb.behavior_segments(log, power_user_days=2).set_index(["segment", "event"])
    assert seg.loc[("power", "x"), "depth_median"] == pytest.approx(1.0)


def test_segment_attribute_errors_name_the_column(hand):
    log, _, _ = hand
    from retention_kit import DataError

    with pytest.raises(DataError, match="segment_attributes"):
        kb.behavior_segments(log, attributes=["plan"])


# ------------------------------------------------------------------ independent brute force

def _random_log(seed, n_users=300, days=45, effect=True):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_users):
        start = int(rng.integers(0, 20))
        p = rng.uniform(0.1, 0.7) if effect else 0.3
        lam = rng.uniform(0.2, 2.0) if effect else 0.8
        for d in range(start, days):
            if d == start or rng.random() < p:
                for e, m in (("a", lam), ("b", 1.0), ("c", 0.3)):
                    for _ in range(int(rng.poisson(m))):
                        rows.append((f"u{i}", d, e, 1))
                rows.append((f"u{i}", d, "open", 1))
    rows.append(("u_last", days - 1, "open", 1))
    return rows


def test_matches_a_pandas_brute_force():
    rows = _random_log(1)
    log = load(day_events(rows))
    w, os_, oe, K = 7, 10, 20, 6
    t, counts = kb.candidate_stats(log, window_days=w, outcome_start=os_, outcome_end=oe, max_threshold=K)
    t = t[t["split"] == "all"].set_index(["event", "threshold"])
    df = pd.DataFrame(rows, columns=["u", "d", "e", "n"])
    start = df.groupby("u")["d"].min()
    last = df["d"].max()
    el = start[start + oe - 1 <= last]
    assert counts["eligible"] == len(el)
    df = df[df["u"].isin(el.index)].assign(dn=lambda x: x["d"] - x["u"].map(start))
    ret = df[(df["dn"] >= os_) & (df["dn"] < oe)].groupby("u").size().reindex(el.index, fill_value=0) > 0
    inw = df[(df["dn"] >= 0) & (df["dn"] < w)]
    act = inw.groupby("u")["d"].nunique().reindex(el.index, fill_value=0)
    # activity strata: active days and event volume in the window (exact below 32, then bins of
    # 1/8 of a doubling), as docs/key_behaviors.md defines them
    vol = inw.groupby("u").size().reindex(el.index, fill_value=0)
    vbin = vol.where(vol < 32, 32 + np.floor(8 * np.log2(vol.clip(lower=32) / 32) + 1e-9)).astype(int)
    assert vol.max() >= 32  # the binned range is exercised
    for ev in ("a", "b", "c", "open"):
        cnt = inw[inw["e"] == ev].groupby("u").size().reindex(el.index, fill_value=0)
        for k in range(1, K + 1):
            did = cnt >= k
            r = t.loc[(ev, k)]
            assert r["n_did"] == did.sum()
            if 0 < did.sum() < len(did):
                assert r["phi"] == pytest.approx(np.corrcoef(did, ret)[0, 1])
                a, b = (did & ret).sum(), (did & ~ret).sum()
                c, d = (~did & ret).sum(), (~did & ~ret).sum()
                assert r["p_value"] == pytest.approx(st.fisher_exact([[a, b], [c, d]])[1])
                # Mantel-Haenszel and CMH over activity strata, tabulated here in pandas
                g = pd.DataFrame({"s": act, "v": vbin, "a": did & ret, "b": did & ~ret, "c": ~did & ret, "d": ~did & ~ret})
                cells = g.groupby(["s", "v"])[["a", "b", "c", "d"]].sum().to_numpy().T
                want = stats.mantel_haenszel(*cells)[0]
                assert r["adjusted_odds_ratio"] == pytest.approx(float(want), nan_ok=True)
                assert r["adjusted_p_value"] == pytest.approx(float(stats.cmh_test(*cells)), nan_ok=True)
    base = (act >= 3)
    assert t.loc[(kb.ACTIVE_DAYS, 3), "n_did"] == base.sum()
    assert t.loc[(kb.ACTIVE_DAYS, 3), "phi"] == pytest.approx(np.corrcoef(base, ret)[0, 1])


def test_no_effect_means_no_discovery_in_most_seeds():
    # behaviour and retention independent (every user active with p = 0.3 each day); BH at 5%
    # may still let a false discovery through in about 1 seed in 20
    hits = 0
    for seed in range(6):
        log = load(day_events(_random_log(100 + seed, n_users=400, effect=False)))
        t, _ = kb.candidate_stats(log, window_days=7, outcome_start=10, outcome_end=20, max_threshold=5)
        t = t[t["split"] == "all"]
        hits += bool(((t["q_value"] < 0.05) & t["supported"]).any())
    assert hits <= 1


# ------------------------------------------------------------------ volume is activity too

def _volume_log():
    """600 users, all active on days 0-2 of a 3-day window (so active days say nothing). Heavy
    users (300) do 4 events a day, light ones (300) 1; heavy users stay far more often (70% vs
    16/75). Which of the two event types a user's events are follows a pattern that cycles
    independently of staying: heavy user j does 2·(j mod 6) a's, light user j does j mod 4, the
    rest b's; heavy j stays when (j // 6) mod 10 < 7, light j when (j // 4) mod 10 < 2, so every
    pattern has exactly the same share of stayers within its type."""
    rows = []
    for kind, per_day, n_a, stays in (
        ("h", 4, lambda j: 2 * (j % 6), lambda j: (j // 6) % 10 < 7),
        ("l", 1, lambda j: j % 4, lambda j: (j // 4) % 10 < 2),
    ):
        for j in range(300):
            seq = ["a"] * n_a(j) + ["b"] * (3 * per_day - n_a(j))
            for day in range(3):
                for e in seq[day * per_day:(day + 1) * per_day]:
                    rows.append((f"{kind}{j}", day, e, 1))
            if stays(j):
                rows.append((f"{kind}{j}", 4, "b", 1))  # active in the outcome window [3, 6)
    rows.append(("late", 8, "b", 1))  # the data runs to day 8; this user is not eligible
    return rows


def test_event_volume_alone_is_no_finding():
    log = load(day_events(_volume_log()))
    t, counts = kb.candidate_stats(log, window_days=3, outcome_start=3, outcome_end=6, max_threshold=10)
    assert counts["eligible"] == 600 and counts["retained"] == 210 + 64
    a6 = t.set_index(["split", "event", "threshold"]).loc[("all", "a", 6)]
    # "a at least 6 times" = heavy users with patterns 3-5: 150 users, 105 stayed; the rest: 150
    # heavy (105 stayed) and 300 light (64 stayed). Everybody has 3 active days, so an adjustment
    # for active days alone leaves the crude odds ratio 105·281 / (45·169) = 3.88: "beyond activity"
    assert (a6["n_did"], a6["retained_did"], a6["retained_not"]) == (150, pytest.approx(0.7), pytest.approx(169 / 450))
    assert a6["odds_ratio"] == pytest.approx(105 * 281 / (45 * 169)) and a6["q_value"] < 1e-6
    # among users with the same volume (12 or 3 events) staying does not depend on the pattern:
    # in every stratum ad = bc, so the adjusted odds ratio is exactly 1 and the CMH deviation 0
    rows = t[(t["split"] == "all") & (t["event"] != kb.ACTIVE_DAYS)].dropna(subset=["adjusted_odds_ratio"])
    assert len(rows) and np.allclose(rows["adjusted_odds_ratio"], 1.0)
    assert (rows["adjusted_p_value"] == 1.0).all()
    chosen = t[t["verdict"].notna()].set_index("event")["verdict"]
    assert chosen.to_dict() == {"a": "activity_proxy", "b": "activity_proxy"}


def test_a_log_of_one_event_type_has_no_finding():
    # the same users, every event a purchase: counting purchases is counting activity. Within a
    # volume stratum everybody did the same number of purchases, so no stratum informs the
    # adjusted odds ratio, and the strong crude link is an activity proxy
    rows = [(u, d, "purchase", n) for u, d, _, n in _volume_log()]
    log = load(day_events(rows))
    t, _ = kb.candidate_stats(log, window_days=3, outcome_start=3, outcome_end=6, max_threshold=10)
    buy = t[(t["split"] == "all") & (t["event"] == "purchase")].set_index("threshold")
    # 4+ purchases = the 300 heavy users: 210 stayed, against 64 of the 300 light ones
    assert (buy.loc[4, "n_did"], buy.loc[4, "odds_ratio"]) == (300, pytest.approx(210 * 236 / (90 * 64)))
    assert buy["adjusted_odds_ratio"].isna().all() and buy["adjusted_p_value"].isna().all()
    assert t.loc[t["verdict"].notna(), "verdict"].tolist() == ["activity_proxy"]


def test_volume_strata_in_the_engine_match_the_definition():
    import ibis

    # exact below 32; from 32 on, 32 + floor(8·log2(v / 32)): 32..34 -> 32, 35 (> 32·2^(1/8) =
    # 34.9) -> 33, 64 -> 40, 1000 (log2(31.25) = 4.966, ·8 = 39.7) -> 71
    got = ibis.memtable({"v": [0, 5, 31, 32, 34, 35, 63, 64, 1000]}).mutate(s=lambda t: kb.volume_stratum(t.v))
    assert got.execute()["s"].tolist() == [0, 5, 31, 32, 32, 33, 39, 40, 71]
    assert [kb.volume_stratum_py(v) for v in (0, 5, 31, 32, 34, 35, 63, 64, 1000)] == [0, 5, 31, 32, 32, 33, 39, 40, 71]


# ------------------------------------------------------------------ the null: shuffled event names

def _shuffled_verdicts(params, frame, seeds):
    """Beyond-activity findings per shuffle of the event column across all rows (users, times
    and each user's activity unchanged: no event name can carry an effect of its own)."""
    k = params.key_behaviors
    hits = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        shuffled = frame.assign(event=frame["event"].to_numpy()[rng.permutation(len(frame))])
        t, _ = kb.candidate_stats(load_events(params, source=shuffled), window_days=k.window_days,
                                  outcome_start=k.outcome_start, outcome_end=k.outcome_end,
                                  max_threshold=k.max_threshold, exclude=k.exclude)
        hits.append(int((t["verdict"] == "beyond_activity").sum()))
    return hits


@pytest.mark.slow
def test_shuffled_event_names_give_no_finding(demo_params, shared_data):
    # before the volume adjustment every shuffle of these logs had 2-9 findings "beyond activity"
    # (docs/key_behaviors.md, The null); 20 shuffles of each now give none. A handful, seeded:
    from retention_kit import load_params
    from retention_kit.data.datasets import load_stackexchange, make_demo_log

    demo = _shuffled_verdicts(demo_params, make_demo_log(6000, seed=7), seeds=(1, 2, 3))
    se = _shuffled_verdicts(load_params(REPO / "params" / "stackexchange_martialarts.yaml"), load_stackexchange(),
                            seeds=(1, 2, 3, 4))
    assert demo == [0, 0, 0] and se == [0, 0, 0, 0]


# ------------------------------------------------------------------ the demo's planted effects

@pytest.fixture(scope="module")
def demo(demo_params):
    log = load_events(demo_params)
    kbp = demo_params.key_behaviors
    table, counts = kb.candidate_stats(log, window_days=kbp.window_days, outcome_start=kbp.outcome_start,
                                       outcome_end=kbp.outcome_end, max_threshold=kbp.max_threshold, exclude=kbp.exclude)
    return log, table, kb.findings(table), counts


def test_demo_planted_behaviour_on_top(demo):
    from retention_kit.data.datasets import PLANTED

    _, _, f, _ = demo
    event, k, window = PLANTED["key_behavior"]
    beyond = f[f["verdict"] == "beyond_activity"]
    top = beyond.iloc[0]
    assert (top["event"], top["threshold"], top["window_days"]) == (event, k, window)
    # its effect size: the odds of staying several times as high among users with the same active
    # days and event volume (5.0 [3.8, 6.6] at this writing; 6.7 [5.2, 8.6] adjusting for days only)
    assert top["stable"] and top["adjusted_odds_ratio"] > 3 and top["adjusted_or_low"] > 2
    assert top["adjusted_q_value"] < 0.05 and top["direction"] == "with staying"
    # and 3 is the best threshold on every split
    _, t, _, _ = demo
    for split in kb.SPLITS:
        s = t[(t["split"] == split) & (t["event"] == event) & t["supported"]]
        assert s.loc[s["phi"].idxmax(), "threshold"] == k


def test_verdicts_are_in_the_table_on_each_events_chosen_row(demo):
    _, t, f, _ = demo
    chosen = t[t["verdict"].notna()]
    # one row per event, on split all, and exactly the ranked table's rows and verdicts
    assert (chosen["split"] == "all").all() and chosen["event"].is_unique and set(chosen["event"]) == set(t["event"])
    assert dict(zip(chosen["event"], zip(chosen["threshold"], chosen["verdict"]))) == \
        dict(zip(f["event"], zip(f["threshold"], f["verdict"])))
    assert set(chosen["verdict"]) <= set(kb.VERDICTS)
    assert chosen.set_index("event").loc[kb.ACTIVE_DAYS, "verdict"] == "baseline"
    # the verdict's definition, checked on the rows themselves
    b = chosen[chosen["verdict"] == "beyond_activity"]
    assert ((b["q_value"] < 0.05) & (b["adjusted_q_value"] < 0.05) & b["supported"]).all()
    assert ((b["adjusted_or_low"] > 1.0) | (b["adjusted_or_high"] < 1.0)).all()
    px = chosen[chosen["verdict"] == "activity_proxy"]
    assert ((px["q_value"] < 0.05) & ~((px["adjusted_q_value"] < 0.05) & ((px["adjusted_odds_ratio"] > 1.25)
                                                                          & (px["lift"] > 1)))).all()


def test_demo_activity_proxies_are_flagged(demo):
    from retention_kit.data.datasets import PLANTED

    _, _, f, _ = demo
    fi = f.set_index("event")
    for proxy in PLANTED["activity_proxies"]:
        assert fi.loc[proxy, "verdict"] == "activity_proxy"
        # a large raw link that activity explains: among users with the same active days and
        # event volume, doing more of it goes with staying no more (if anything, less)
        assert fi.loc[proxy, "lift"] > 2 and fi.loc[proxy, "adjusted_or_low"] <= 1
    assert fi.loc["invite_friend", "activity_proxy"] == False  # noqa: E712
    assert "push_sent" not in set(f["event"])


def test_demo_window_scan_peaks_at_three(demo):
    log, _, _, _ = demo
    scan = kb.window_scan(log, events=["invite_friend"], windows=[1, 3, 7, 10, 14])
    assert set(scan["window_days"]) == {1, 3, 7, 10, 14}
    w7 = scan[(scan["window_days"] == 7) & scan["supported"]]
    assert w7.loc[w7["phi"].idxmax(), "threshold"] == 3
    # the outcome window stays [14, 28): the longest window (14) ends where it starts
    assert (scan["outcome_start"] == 14).all() and (scan["outcome_end"] == 28).all()


def test_window_scan_shifts_the_outcome_after_the_longest_window(hand):
    log, _, _ = hand
    scan = kb.window_scan(log, events=["x"], windows=[1, 3], outcome_start=2, outcome_end=4, max_threshold=3)
    # the 3-day window would overlap [2, 4): the outcome keeps its length and starts at 3
    assert (scan["outcome_start"] == 3).all() and (scan["outcome_end"] == 5).all()


def test_demo_segments(demo, demo_params):
    log = demo[0]
    seg = kb.behavior_segments(log, power_user_days=demo_params.key_behaviors.power_user_days,
                               attributes=demo_params.key_behaviors.segment_attributes).set_index(["segment", "event"])
    assert {"power", "occasional", "retained", "churned", "plan=free", "plan=pro"} <= set(seg.index.get_level_values(0))
    # power users do more of the engagement events (the demo's engagement types)
    assert seg.loc[("power", "create_note"), "breadth"] > seg.loc[("occasional", "create_note"), "breadth"]
    assert seg.loc[("retained", "invite_friend"), "breadth"] > seg.loc[("churned", "invite_friend"), "breadth"]
    assert seg["breadth"].between(0, 1).all()


# ------------------------------------------------------------------ the sentences

# what pandas and Python print for a missing or infinite number ("none" in a sentence is fine)
BAD_WORDS = re.compile(r"\b(?:nan|NaN|None|inf|Inf|NA|NaT)\b")


def _plain(markdown):
    """The words of the kit's escaped Markdown: backslash escapes and HTML entities undone."""
    return html_mod.unescape(re.sub(r"\\(.)", r"\1", markdown))


def _sentences(table, found, counts, p):
    from retention_kit.analyses.key_behaviors import narrative

    out = [narrative.summary(table, counts, p), narrative.proxies(found, p), narrative.baseline(found, p)]
    out += [narrative.finding(r, p) for _, r in found[found["verdict"] != "baseline"].iterrows()]
    return [x.text for x in out if x is not None]


def test_demo_sentences_come_from_the_verdicts_and_say_what_was_adjusted_for(demo, demo_params):
    from retention_kit.analyses.key_behaviors import narrative
    from retention_kit.reporting.render import render_html

    _, t, f, counts = demo
    p = demo_params.key_behaviors
    texts = _sentences(t, f, counts, p)
    assert not [x for x in texts if BAD_WORDS.search(x)]
    n_beyond = int((t["verdict"] == "beyond_activity").sum())
    n_proxy = int((t["verdict"] == "activity_proxy").sum())
    assert f"; {n_beyond} go with staying or leaving beyond overall activity (compared among users with the same " \
           f"number of active days and of events in their first 7 days), {n_proxy} only mark" in texts[0]
    top = narrative.finding(f[f["verdict"] == "beyond_activity"].iloc[0], p).text
    assert top.startswith("- Users who did `invite_friend` at least 3 times in their first 7 days")
    assert "among users with the same number of active days and of events in their first 7 days, activity-adjusted" in top
    proxies = narrative.proxies(f, p).text
    assert "`view_note` (lift " in proxies and "`app_open` (lift " in proxies and "`invite_friend`" not in proxies
    # on the page, the event name sits inside its code box
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": x, "text/plain": ""}) for x in texts]
    nb.cells = [cell]
    html = render_html(nb, title="t")
    assert "<li>Users who did <code>invite_friend</code> at least 3 times in their first 7 days" in html
    assert "<code>view_note</code> (lift " in html and "<code></code>" not in html


def _row(**changes):
    """A finding row as :func:`kb.findings` returns it (figures made up, each used once)."""
    r = {"event": "x", "threshold": 2, "verdict": "beyond_activity", "retained_did": 0.5, "ci_did_low": 0.4,
         "ci_did_high": 0.6, "retained_not": 0.1, "ci_not_low": 0.08, "ci_not_high": 0.12, "n_did": 100,
         "n_eligible": 1000, "lift": 5.0, "phi": 0.3, "q_value": 0.0004, "adjusted_odds_ratio": 2.5,
         "adjusted_or_low": 1.5, "adjusted_or_high": 4.0, "lift_discovery": 4.5, "lift_validation": 6.0,
         "supported_validation": True, "stable": True}
    return pd.Series({**r, **changes})


P7 = make_params(key_behaviors={}).key_behaviors


@pytest.mark.parametrize("changes, says", [
    ({}, "the effect holds on later users (lift 4.5 on earlier vs 6.0 on later users)"),
    ({"stable": False}, "it does not clearly hold on later users (lift 4.5 on earlier vs 6.0 on later users)"),
    ({"lift_validation": np.nan, "supported_validation": False, "stable": False},
     "there are too few later users to check whether it holds on them (lift 4.5 on earlier users)"),
    ({"lift_validation": np.nan, "stable": False},
     "there are too few later users to check whether it holds on them (lift 4.5 on earlier users)"),
    ({"lift_validation": 3.0, "supported_validation": False, "stable": False},
     "there are too few later users to check whether it holds on them (lift 4.5 on earlier users)"),
    ({"lift_discovery": np.nan, "lift_validation": np.nan, "stable": False},
     "it cannot be compared between earlier and later users (no lift on earlier users)"),
    ({"lift": np.inf}, "(n = 100 of 1,000; no lift: nobody among the rest was retained, phi 0.30, q < 0.001)"),
    ({"q_value": 0.0123}, "q 0.012)"),
    ({"verdict": "activity_proxy", "adjusted_odds_ratio": np.nan, "adjusted_or_low": np.nan, "adjusted_or_high": np.nan},
     "overall activity explains it: no group of users with the same number of active days and of events in "
     "their first 7 days has both users who did it and users who did not"),
    ({"verdict": "activity_proxy", "adjusted_odds_ratio": 0.62, "adjusted_or_low": 0.47, "adjusted_or_high": 0.82},
     "it is largely explained by overall activity: among users with the same number of active days and of events "
     "in their first 7 days, activity-adjusted odds ratio 0.62 [0.47, 0.82]"),
])
def test_a_finding_says_why_a_figure_is_missing(changes, says):
    from retention_kit.analyses.key_behaviors import narrative

    text = _plain(narrative.finding(_row(**changes), P7).text)
    assert says in text, text
    assert not BAD_WORDS.search(text), text


def test_proxies_and_baseline_without_a_lift():
    from retention_kit.analyses.key_behaviors import narrative

    f = pd.DataFrame([_row(event="a", verdict="activity_proxy", lift=np.nan, adjusted_odds_ratio=np.nan),
                      _row(event=kb.ACTIVE_DAYS, verdict="baseline", threshold=3, lift=np.nan)])
    px = narrative.proxies(f, P7).text
    assert "`a` (no lift: nobody among the rest was retained; no users of equal activity differ in it)" in px
    assert " goes with staying only because" in px
    base = narrative.baseline(f, P7).text
    assert "(no lift: nobody among the rest was retained, phi 0.30)" in base
    assert not BAD_WORDS.search(px + base)


# ------------------------------------------------------------------ the notebook

def _run_notebook(tmp_path, params_path):
    """The notebook run under papermill: its two CSV exports and the page's HTML."""
    import papermill

    from retention_kit.reporting.render import render_html

    out = tmp_path / "out"
    nb = papermill.execute_notebook(str(REPO / "notebooks" / "key_behaviors.ipynb"), str(tmp_path / "nb.ipynb"),
                                    parameters={"params_path": str(params_path), "export_dir": str(out)},
                                    kernel_name="python3", progress_bar=False)
    html = render_html(nb, title="t")
    return pd.read_csv(out / "key_behaviors.csv"), pd.read_csv(out / "behavior_segments.csv"), html


def _page_text(html):
    """The page's visible text (tags, styles and embedded images dropped)."""
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.slow
def test_notebook_demo(tmp_path):
    table, segs, html = _run_notebook(tmp_path, REPO / "params" / "demo.yaml")
    assert list(table.columns[:20]) == KB_CONTRACT and "supported" in table.columns
    chosen = table[table["verdict"].notna()]
    assert (chosen["split"] == "all").all() and chosen["event"].is_unique
    assert chosen.set_index("event").loc["invite_friend", ["threshold", "verdict"]].tolist() == [3, "beyond_activity"]
    # the page: counts from the verdicts, event names in code boxes, no nan/None/inf
    n_beyond = int((table["verdict"] == "beyond_activity").sum())
    assert f"; {n_beyond} go with staying or leaving beyond overall activity" in html
    assert "<li>Users who did <code>invite_friend</code> at least 3 times in their first 7 days" in html
    assert "<code></code>" not in html and not BAD_WORDS.search(_page_text(html))
    assert set(table["split"]) == set(kb.SPLITS)
    assert kb.ACTIVE_DAYS in set(table["event"]) and "push_sent" not in set(table["event"])
    r = table[(table["split"] == "all") & (table["event"] == "invite_friend") & (table["threshold"] == 3)].iloc[0]
    assert r["window_days"] == 7 and r["lift"] > 2 and r["adjusted_odds_ratio"] > 3
    assert list(segs.columns[:5]) == ["segment", "event", "segment_users", "breadth", "depth_median"]
    assert {"power", "occasional", "retained", "churned", "plan=pro"} <= set(segs["segment"])


@pytest.mark.slow
def test_notebook_stackexchange(tmp_path, shared_data):
    table, segs, html = _run_notebook(tmp_path, REPO / "params" / "stackexchange_martialarts.yaml")
    assert "badge:Yearling" not in set(table["event"]) and "badge:Yearling" not in set(segs["event"])
    assert set(table["verdict"].dropna()) <= set(kb.VERDICTS) and not BAD_WORDS.search(_page_text(html))
    assert len(table) and table["q_value"].dropna().between(0, 1).all()
