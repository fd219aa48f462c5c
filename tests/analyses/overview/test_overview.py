"""The data overview on hand-made logs: what counts as a duplicate row."""

from __future__ import annotations

import numpy as np
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


def _logged_rows(seed: int) -> pd.DataFrame:
    """Rows with planted copies (some with a null property, equal to each other) and planted
    same-key variants, in a log of otherwise distinct rows."""
    rng = np.random.default_rng(seed)
    n = 3000
    df = pd.DataFrame({
        "user_id": rng.choice([f"u{i}" for i in range(300)], n),
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30 * 86400, n), unit="s"),
        "event": rng.choice(["open", "buy", "share"], n),
        "revenue": rng.choice([np.nan, 0.0, 9.5, 12.25], n),
        "plan": rng.choice(["free", "pro", None], n),
    })
    copies = df.sample(120, random_state=seed)
    variants = df.sample(80, random_state=seed + 1).assign(plan="team")
    return pd.concat([df, copies, copies.head(30), variants], ignore_index=True).sample(frac=1, random_state=seed)


def test_duplicates_match_pandas_on_a_log_with_planted_copies():
    df = _logged_rows(7)
    d = duplicate_rows(load(df))
    exact = int(df.duplicated().sum())
    same_key = int(df.duplicated(["user_id", "timestamp", "event"]).sum()) - exact
    assert exact >= 150  # the 120 + 30 planted copies at least
    assert (d.exact, d.same_key) == (exact, same_key)


def test_duplicates_are_exact_when_every_key_hashes_alike(monkeypatch):
    # the first grouping is by a hash of the key: a collision must cost time, never a count
    from retention_kit.analyses.overview import metrics
    monkeypatch.setattr(metrics, "_key_hash", lambda user, ts, event: user.isnull().cast("uint64"))
    for seed in (3, 11):
        df = _logged_rows(seed)
        d = duplicate_rows(load(df))
        exact = int(df.duplicated().sum())
        assert (d.exact, d.same_key) == (exact, int(df.duplicated(["user_id", "timestamp", "event"]).sum()) - exact)


def test_duplicates_are_the_same_when_the_hashes_are_grouped_by_the_engine(monkeypatch):
    # past SORTED_MAX rows the repeated hashes come from the engine's grouping, not a sort
    from retention_kit.analyses.overview import metrics
    monkeypatch.setattr(metrics, "SORTED_MAX", 100)
    df = _logged_rows(13)
    d = duplicate_rows(load(df))
    exact = int(df.duplicated().sum())
    assert exact >= 150
    assert (d.exact, d.same_key) == (exact, int(df.duplicated(["user_id", "timestamp", "event"]).sum()) - exact)


def test_a_log_without_repeats_has_no_duplicates():
    df = _logged_rows(5).drop_duplicates(["user_id", "timestamp", "event"])
    d = duplicate_rows(load(df))
    assert (d.exact, d.same_key) == (0, 0)
