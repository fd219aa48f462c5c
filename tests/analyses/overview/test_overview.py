"""The data overview on hand-made logs: what counts as a duplicate row."""

from __future__ import annotations

import pandas as pd

from retention_kit.analyses.overview import duplicate_rows, quality_table

from tests.factories import load


def test_only_rows_equal_in_every_column_are_duplicates():
    # u1 bought two products at one second (same user, time and event, other columns differ):
    # valid rows. One of them was exported twice (an exact copy), and u2's open three times.
    df = pd.DataFrame({
        "user_id": ["u1", "u1", "u1", "u2", "u2", "u2", "u3"],
        "timestamp": pd.to_datetime(["2024-01-01 10:00"] * 3 + ["2024-01-02 09:00"] * 3 + ["2024-01-02 09:00"]),
        "event": ["buy", "buy", "buy", "open", "open", "open", "open"],
        "product": ["p1", "p2", "p2", "x", "x", "x", "x"],
    })
    d = duplicate_rows(load(df))
    # independent count: copies beyond the first of each distinct full row (pandas), and rows that
    # repeat another's user, time and event without being such a copy
    exact = int(df.duplicated().sum())
    same_key = int(df.duplicated(["user_id", "timestamp", "event"]).sum()) - exact
    assert (exact, same_key) == (3, 1)  # by hand: u1's second p2, u2's two copies; u1's p2 beside p1
    assert (d.exact, d.same_key) == (exact, same_key)
    q = quality_table(load(df), duplicates=d).set_index("check")["rows"]
    assert q["exact duplicate rows, equal in every column (kept)"] == 3
    assert q["same user, time and event, other columns differ (kept, not duplicates)"] == 1
