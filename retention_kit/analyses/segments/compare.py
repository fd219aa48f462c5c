"""Honest comparisons: each segment against the rest of the users, per period.

Definitions:

- For a proportion k/n (retained users / cohort users, say) of segment s in a period, the
  **rest** is every other user of the breakdown in that period: (K - k) / (N - n), where K and N
  sum over all segments.
- **difference** = value - rest_value, with **Newcombe's hybrid score 95% interval** (method 10
  of Newcombe 1998, built from the two Wilson intervals; :func:`retention_kit.core.stats.difference_interval`):
  it stays inside [-1, 1] and keeps its coverage for small groups and shares near 0 or 1, where
  the Wald interval does not.
- **p_value**: the two-sided two-proportion z-test with the pooled proportion,
  z = (p1 - p2) / sqrt(p(1 - p)(1/n1 + 1/n2)), p = (k1 + k2) / (n1 + n2); 1 when p is 0 or 1
  (both groups equal).
- **q_value**: Benjamini-Hochberg over every cell of the table that has a p-value (the cells
  shown), so a page that shows 8 segments x 12 periods does not find chance differences.
- **small**: the segment has fewer than ``min_size`` users in the cell; it is shown greyed and
  never named in a sentence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.stats import bh_qvalues, difference_interval

__all__ = ["compare_segments", "COLUMNS"]

#: The contract columns of ``segment_comparisons.csv``, in order.
COLUMNS = ("analysis", "period", "segment", "value", "rest_value", "difference", "ci_low", "ci_high",
           "p_value", "q_value")


def _z_p(k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (k1 + k2) / (n1 + n2)
        se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
        z = (k1 / n1 - k2 / n2) / se
        from scipy import stats  # imported on first use (about a second)

        out = 2 * stats.norm.sf(np.abs(z))
    out = np.where((p <= 0) | (p >= 1), 1.0, out)
    return np.where((n1 > 0) & (n2 > 0), out, np.nan)


def compare_segments(frame: pd.DataFrame, *, analysis: str, period: str = "period", k: str = "active",
                     n: str = "cohort_size", min_size: int = 100) -> pd.DataFrame:
    """Each segment against the rest in each period (definitions in the module docstring).

    ``frame`` has ``segment``, ``period`` (any name, given as ``period``) and the counts ``k`` of
    ``n`` per segment and period.

    Returns
    -------
    pandas.DataFrame
        The :data:`COLUMNS`, then ``users`` (n), ``rest_users`` (N - n), ``small``; one row per
        segment and period, periods ascending. A cell without a rest (a single segment) is left out.

    Examples
    --------
    >>> f = pd.DataFrame({"segment": ["a", "b"], "period": [1, 1], "active": [5, 2], "cohort_size": [10, 10]})
    >>> c = compare_segments(f, analysis="retention", min_size=5)
    >>> c[["segment", "value", "rest_value", "difference"]].round(2).values.tolist()
    [['a', 0.5, 0.2, 0.3], ['b', 0.2, 0.5, -0.3]]
    """
    d = frame[["segment", period, k, n]].rename(columns={period: "period", k: "k", n: "n"})
    tot = d.groupby("period")[["k", "n"]].transform("sum")
    kk, nn = d["k"].to_numpy(float), d["n"].to_numpy(float)
    rk, rn = tot["k"].to_numpy(float) - kk, tot["n"].to_numpy(float) - nn
    diff, lo, hi = difference_interval(kk, nn, rk, rn)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({"analysis": analysis, "period": d["period"].to_numpy(), "segment": d["segment"].to_numpy(),
                            "value": kk / nn, "rest_value": rk / rn, "difference": diff, "ci_low": lo, "ci_high": hi,
                            "p_value": _z_p(kk, nn, rk, rn)})
    out["users"], out["rest_users"] = nn.astype("int64"), rn.astype("int64")
    out = out[(out["users"] > 0) & (out["rest_users"] > 0)].reset_index(drop=True)
    out["q_value"] = bh_qvalues(out["p_value"].to_numpy()) if len(out) else np.array([])
    out["small"] = out["users"] < int(min_size)
    out = out.sort_values(["period", "segment"], kind="stable").reset_index(drop=True)
    return out[[*COLUMNS, "users", "rest_users", "small"]]
