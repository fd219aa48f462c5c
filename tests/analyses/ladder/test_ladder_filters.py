"""A rung with a property filter (where:) counts only the events that pass it: a hand-worked log."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from retention_kit.analyses import ladder as L
from retention_kit.data import fetch

from tests.factories import D0, load, make_params


def test_a_filtered_rung_excludes_the_events_that_fail_the_filter():
    # Weeks from Monday D0. In week 0: u1 buys 60 (a big buyer), u2 buys 10 twice (small: 2 buys,
    # but none passes amount >= 50), u3 only opens. Week 1 closes the data.
    def at(d):
        return pd.Timestamp(D0 + dt.timedelta(days=d)) + pd.Timedelta(hours=10)
    ev = pd.DataFrame([("u1", at(0), "buy", 60.0), ("u2", at(1), "buy", 10.0), ("u2", at(2), "buy", 10.0),
                       ("u3", at(0), "open", None), ("u3", at(13), "open", None)],
                      columns=["user_id", "timestamp", "event", "amount"])
    rungs = [{"name": "Visitor", "when": {"active_days": 1}},
             {"name": "Buyer", "when": {"event": "buy", "min": 1}},
             {"name": "Big buyer", "when": {"event": "buy", "min": 1, "where": {"amount": {"gte": 50}}}}]
    params = make_params(properties=["amount"], ladder={"period": "week", "rungs": rungs})
    log = load(ev, params=params)
    t = fetch(log.original_ids(L.rung_table(log, ladder=params.ladder)))
    w0 = t[t["period"] == t["period"].min()].set_index("user_id")["rung_order"].to_dict()
    order = {r.name: r.order for r in L.ladder_rungs(params.ladder)}
    assert w0 == {"u1": order["Big buyer"], "u2": order["Buyer"], "u3": order["Visitor"]}
