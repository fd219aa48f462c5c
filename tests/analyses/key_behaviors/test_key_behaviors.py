"""Key-behaviour discovery: a hand-worked log for every number, an independent pandas brute force,
the demo's planted effects, a log with no effect, and the notebook under papermill."""

from __future__ import annotations

from pathlib import Path

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
                # Mantel-Haenszel over strata of active days, tabulated here in pandas
                g = pd.DataFrame({"s": act, "a": did & ret, "b": did & ~ret, "c": ~did & ret, "d": ~did & ~ret})
                cells = g.groupby("s")[["a", "b", "c", "d"]].sum().to_numpy().T
                want = stats.mantel_haenszel(*cells)[0]
                assert r["adjusted_odds_ratio"] == pytest.approx(float(want), nan_ok=True)
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
    beyond = f[f["verdict"] == "beyond activity"]
    top = beyond.iloc[0]
    assert (top["event"], top["threshold"], top["window_days"]) == (event, k, window)
    assert top["stable"] and top["adjusted_or_low"] > 1
    # and 3 is the best threshold on every split
    _, t, _, _ = demo
    for split in kb.SPLITS:
        s = t[(t["split"] == split) & (t["event"] == event) & t["supported"]]
        assert s.loc[s["phi"].idxmax(), "threshold"] == k


def test_demo_activity_proxies_are_flagged(demo):
    from retention_kit.data.datasets import PLANTED

    _, _, f, _ = demo
    fi = f.set_index("event")
    for proxy in PLANTED["activity_proxies"]:
        assert fi.loc[proxy, "verdict"] == "activity proxy"
        # a large raw link that activity explains
        assert fi.loc[proxy, "lift"] > 2 and fi.loc[proxy, "adjusted_or_low"] <= 1 <= fi.loc[proxy, "adjusted_or_high"]
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


# ------------------------------------------------------------------ the notebook

def _run_notebook(tmp_path, params_path):
    import papermill

    out = tmp_path / "out"
    papermill.execute_notebook(str(REPO / "notebooks" / "key_behaviors.ipynb"), str(tmp_path / "nb.ipynb"),
                               parameters={"params_path": str(params_path), "export_dir": str(out)},
                               kernel_name="python3", progress_bar=False)
    return pd.read_csv(out / "key_behaviors.csv"), pd.read_csv(out / "behavior_segments.csv")


@pytest.mark.slow
def test_notebook_demo(tmp_path):
    table, segs = _run_notebook(tmp_path, REPO / "params" / "demo.yaml")
    assert list(table.columns[:20]) == KB_CONTRACT and "supported" in table.columns
    assert set(table["split"]) == set(kb.SPLITS)
    assert kb.ACTIVE_DAYS in set(table["event"]) and "push_sent" not in set(table["event"])
    r = table[(table["split"] == "all") & (table["event"] == "invite_friend") & (table["threshold"] == 3)].iloc[0]
    assert r["window_days"] == 7 and r["lift"] > 2 and r["adjusted_odds_ratio"] > 3
    assert list(segs.columns[:5]) == ["segment", "event", "segment_users", "breadth", "depth_median"]
    assert {"power", "occasional", "retained", "churned", "plan=pro"} <= set(segs["segment"])


@pytest.mark.slow
def test_notebook_stackexchange(tmp_path, shared_data):
    table, segs = _run_notebook(tmp_path, REPO / "params" / "stackexchange_martialarts.yaml")
    assert "badge:Yearling" not in set(table["event"]) and "badge:Yearling" not in set(segs["event"])
    assert len(table) and table["q_value"].dropna().between(0, 1).all()
