"""Filtered key-behaviour candidates (``key_behaviors.candidates``): a hand-worked log where the
filter must exclude rows, the same figures by plain pandas over the raw rows, the activity strata
unchanged by a filtered candidate, the window scan, the page's words and the params errors."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from scipy import stats as st

from retention_kit import DataError, ParamsError
from retention_kit.analyses import key_behaviors as kb
from retention_kit.analyses.key_behaviors import candidates as kbc
from retention_kit.analyses.key_behaviors import narrative

from tests.factories import D0, events, load, make_params

WIN = {"window_days": 2, "outcome_start": 2, "outcome_end": 4}
BIG = {"event": "purchase", "where": {"amount": {"gte": 50}}}
BIG_NAME = "purchase (amount ≥ 50)"
COLUMNS = ("user_id", "timestamp", "event", "amount")

# (user, day offset, event, amount); window days [0, 2) since the start, outcome days [2, 4), data d0..d9
#   u1 start d0: purchase 80 d0, purchase 10 d1; open d3      -> big 1, purchase 2, retained
#   u2 start d0: purchase 10, 10 d0                           -> big 0, purchase 2, churned
#   u3 start d0: purchase 80 d0, purchase 60 d1; open d2      -> big 2, purchase 2, retained
#   u4 start d1: open d1; purchase 80 d3 (day 2: outcome)     -> big 0 in the window, retained
#   u5 start d0: open d0; open d9 (day 9: after the outcome)  -> nothing, churned
#   u6 start d0: purchase without an amount d0                -> big 0 (null passes no gte), churned
RAW = [("u1", 0, "purchase", 80.0), ("u1", 1, "purchase", 10.0), ("u1", 3, "open", None),
       ("u2", 0, "purchase", 10.0), ("u2", 0, "purchase", 10.0),
       ("u3", 0, "purchase", 80.0), ("u3", 1, "purchase", 60.0), ("u3", 2, "open", None),
       ("u4", 1, "open", None), ("u4", 3, "purchase", 80.0),
       ("u5", 0, "open", None), ("u5", 9, "open", None),
       ("u6", 0, "purchase", None)]


def _frame(rows=RAW) -> pd.DataFrame:
    return events([(u, pd.Timestamp(D0 + dt.timedelta(days=d)) + pd.Timedelta(hours=10), e, a)
                   for u, d, e, a in rows], columns=COLUMNS)


def _log(candidates=(BIG,), rows=RAW, **key_behaviors):
    return load(_frame(rows), params=make_params(properties=["amount"],
                                                 key_behaviors={**WIN, "candidates": list(candidates),
                                                                **key_behaviors}))


@pytest.fixture(scope="module")
def hand():
    log = _log()
    table, counts = kb.candidate_stats(log, **WIN, max_threshold=3, candidates=[BIG])
    return log, table.set_index(["split", "event", "threshold"]), counts


def test_the_filter_excludes_rows(hand):
    _, t, counts = hand
    assert counts["eligible"] == 6 and counts["retained"] == 3  # u1 u3 u4
    # big purchases (>= 50) in the window: u1 1, u3 2; every other user 0
    got = {k: (t.loc[("all", BIG_NAME, k), "n_did"], t.loc[("all", BIG_NAME, k), "retained_did"],
               t.loc[("all", BIG_NAME, k), "retained_not"]) for k in (1, 2, 3)}
    assert got[1] == (2, 1.0, 0.25)       # u1 u3 both retained; of u2 u4 u5 u6 only u4
    assert got[2] == (1, 1.0, 0.4)        # u3; of the other five u1 u4
    assert got[3][0] == 0 and pd.isna(got[3][1]) and got[3][2] == 0.5
    # the plain event type still counts every purchase: u1 u2 u3 u6 at k = 1, u1 u2 u3 at k = 2
    assert t.loc[("all", "purchase", 1), "n_did"] == 4 and t.loc[("all", "purchase", 1), "retained_did"] == 0.5
    assert t.loc[("all", "purchase", 2), "n_did"] == 3


def test_fisher_p_and_lift_of_the_filtered_candidate(hand):
    _, t, _ = hand
    r = t.loc[("all", BIG_NAME, 1)]
    # cells: did & retained 2, did & not 0, rest & retained 1, rest & not 3
    assert r["p_value"] == pytest.approx(st.fisher_exact([[2, 0], [1, 3]])[1])
    assert r["lift"] == pytest.approx(1.0 / 0.25)


def test_splits_of_the_filtered_candidate(hand):
    _, t, counts = hand
    # start days: d0 five users (5 of 6 >= 2/3) -> discovery u1 u2 u3 u5 u6, validation u4
    assert (counts["discovery"], counts["validation"]) == (5, 1)
    assert t.loc[("discovery", BIG_NAME, 1), "n_did"] == 2 and t.loc[("discovery", BIG_NAME, 1), "n_eligible"] == 5
    assert t.loc[("validation", BIG_NAME, 1), "n_did"] == 0
    # one Benjamini-Hochberg family per split, the filtered candidate in it
    assert set(t.loc["all"].index.get_level_values("event")) == {"purchase", "open", BIG_NAME, kb.ACTIVE_DAYS}


def test_figures_equal_plain_pandas_over_the_raw_rows(hand):
    _, t, _ = hand
    raw = _frame()
    raw["day"] = raw["timestamp"].dt.normalize()
    start = raw.groupby("user_id")["day"].min()
    raw["dn"] = (raw["day"] - raw["user_id"].map(start)).dt.days
    retained = raw[(raw["dn"] >= 2) & (raw["dn"] < 4)].groupby("user_id").size().reindex(start.index).fillna(0) > 0
    big = raw[(raw["event"] == "purchase") & (raw["amount"] >= 50) & (raw["dn"] < 2)]
    cnt = big.groupby("user_id").size().reindex(start.index).fillna(0)
    for k in (1, 2):
        did = cnt >= k
        assert t.loc[("all", BIG_NAME, k), "n_did"] == did.sum()
        assert t.loc[("all", BIG_NAME, k), "retained_did"] == pytest.approx(retained[did].mean())
        assert t.loc[("all", BIG_NAME, k), "retained_not"] == pytest.approx(retained[~did].mean())


def test_a_filtered_candidate_leaves_the_activity_strata_as_they_were():
    log = _log()
    args = dict(**WIN, max_threshold=3, exclude=())
    _, without = kbc.candidate_grid(log, **args)
    _, with_filter = kbc.candidate_grid(log, **args, filters=kbc.filtered_candidates(log, [BIG]))
    # the strata (s, v) of every user as before: u3's volume is its 2 purchases, not 4
    pd.testing.assert_frame_equal(without, with_filter)
    plain, _ = kb.candidate_stats(log, **args)
    both, _ = kb.candidate_stats(log, **args, candidates=[BIG])
    key = ["split", "event", "threshold"]
    cols = ["n_did", "retained_did", "adjusted_odds_ratio", "adjusted_p_value", "p_value"]
    merged = plain.merge(both, on=key, suffixes=("", "_with"))
    assert len(merged) == len(plain)
    for c in cols:
        pd.testing.assert_series_equal(merged[c], merged[f"{c}_with"], check_names=False)


def test_a_filtered_candidate_nobody_did_is_in_the_table_with_no_doers():
    log = _log(candidates=[{"event": "purchase", "where": {"amount": {"gt": 1000}}}])
    table, _ = kb.candidate_stats(log, **WIN, max_threshold=2, candidates=[{"event": "purchase",
                                                                           "where": {"amount": {"gt": 1000}}}])
    rows = table[(table["event"] == "purchase (amount > 1000)") & (table["split"] == "all")]
    assert rows["n_did"].tolist() == [0, 0]


def test_values_are_bound_not_pasted_into_sql():
    rows = [(u, d, e, a) for u, d, e, a in RAW]
    frame = _frame(rows)
    frame["amount"] = frame["amount"].map(lambda v: None if pd.isna(v) else ("it's big" if v >= 50 else "small"))
    log = load(frame, params=make_params(properties=["amount"], key_behaviors=WIN))
    quote = {"event": "purchase", "where": {"amount": "it's big"}}
    table, _ = kb.candidate_stats(log, **WIN, max_threshold=2, candidates=[quote])
    r = table.set_index(["split", "event", "threshold"]).loc[("all", "purchase (amount = it's big)", 1)]
    assert r["n_did"] == 2  # u1 u3, as with amount >= 50


def test_window_scan_reads_filtered_candidates():
    log = _log()
    scan = kb.window_scan(log, events=[BIG_NAME], windows=(1, 2), outcome_start=2, outcome_end=4, max_threshold=2,
                          candidates=[BIG])
    s = scan.set_index(["window_days", "threshold"])["n_did"]
    # day 0 only: u1 and u3 each one big purchase; days 0-1: u3 has two
    assert (s.loc[(1, 1)], s.loc[(1, 2)], s.loc[(2, 1)], s.loc[(2, 2)]) == (2, 0, 2, 1)


def test_the_page_names_the_filtered_candidates():
    p = make_params(properties=["amount"], key_behaviors={**WIN, "candidates": [
        BIG, {**BIG, "where": {"amount": {"gte": 200}}, "name": "big_purchase"}]}).key_behaviors
    assert [c.label for c in p.candidates] == [BIG_NAME, "big_purchase"]
    defs = narrative.definitions(p)
    assert "purchase (amount ≥ 50), big_purchase = purchase (amount ≥ 200)" in defs["Filtered candidates"]
    assert "Filtered candidates" not in narrative.definitions(make_params(key_behaviors=WIN).key_behaviors)


@pytest.mark.parametrize("candidates, key, says", [
    ([{"event": "purchase", "where": {"amont": {"gte": 50}}}], "key_behaviors.candidates[0]", "'amont'"),
    ([BIG, {**BIG, "where": {"amount": {"gte": 60}}, "name": BIG_NAME}], "key_behaviors.candidates[1].name",
     "also the name"),
    ([BIG, dict(BIG)], "key_behaviors.candidates[1]", "same event and filter"),
    ([{**BIG, "name": "__active_days__"}], "key_behaviors.candidates[0].name", "'__'"),
    ([{"event": "purchase", "where": {"amount": {"atleast": 50}}}], "key_behaviors.candidates", "unknown test"),
    ([{"event": "purchase"}], "key_behaviors.candidates.0.where", "missing"),
])
def test_params_errors_name_the_key(candidates, key, says):
    with pytest.raises(ParamsError) as e:
        make_params(properties=["amount"], key_behaviors={**WIN, "candidates": candidates})
    assert key in str(e.value) and says in str(e.value)


def test_a_candidate_of_an_excluded_event_is_an_error():
    with pytest.raises(ParamsError, match=r"key_behaviors.candidates\[0\].event: 'purchase' is listed in "
                                          r"key_behaviors.exclude"):
        make_params(properties=["amount"], key_behaviors={**WIN, "exclude": ["purchase"], "candidates": [BIG]})


def test_an_unknown_event_matches_no_event_with_the_nearest_names():
    with pytest.raises(DataError, match=r"key_behaviors.candidates\[0\]: 'purchse' matches no event "
                                        r"\(nearest: 'purchase'\)"):
        _log(candidates=[{**BIG, "event": "purchse"}])


def test_a_name_that_is_an_event_is_a_params_error():
    with pytest.raises(ParamsError, match=r"key_behaviors.candidates\[0\].name: 'open' is the name of an event"):
        _log(candidates=[{**BIG, "name": "open"}])
    log = _log(candidates=())
    with pytest.raises(ParamsError, match=r"key_behaviors.candidates\[0\].name: 'open'"):
        kb.candidate_stats(log, **WIN, candidates=[{**BIG, "name": "open"}])
    with pytest.raises(DataError, match="purchse"):
        kb.candidate_stats(log, **WIN, candidates=[{**BIG, "event": "purchse"}])


def test_the_python_api_checks_properties_too():
    log = load(_frame(), params=make_params(key_behaviors=WIN))  # no data.properties
    with pytest.raises(ParamsError, match=r"key_behaviors.candidates\[0\]: the filter reads property 'amount'"):
        kb.candidate_stats(log, **WIN, candidates=[BIG])
