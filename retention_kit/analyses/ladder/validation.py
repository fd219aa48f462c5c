"""Is the ladder really a ladder? Power-user curves and next-period activity per rung, the checks
that name a rung out of order, and warnings about the definition.

Definitions: a rung's *user-periods* are the (user, complete period) pairs on it. Its power-user
curve is the distribution of distinct active days in the period over those user-periods. Its
*next-period activity* is the share of its user-periods whose user is active at least once in the
next period, among the user-periods that have a next complete period. Both should rise with the
rung; :func:`validation_flags` names every adjacent pair of rungs where they fall.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...data.engine import fetch
from ...data.log import EventLog
from ...data.params import LadderParams
from ...core import conditions
from ...core.i18n import num, pct, t
from .rungs import INACTIVE, OTHER, condition_events, ladder_rungs, rung_table
from ...core.portable import count_true

__all__ = ["rung_power_user_curve", "validation", "validation_flags", "ladder_warnings"]


def _by_days(log: EventLog, ladder: LadderParams) -> pd.DataFrame:
    t = rung_table(log, ladder=ladder)
    g = t.group_by(["rung_order", "active_days"]).aggregate(
        user_periods=t.count(),
        with_next=count_true(t.next_rung.notnull()),
        active_next=count_true(t.next_active_days > 0),
    )
    return fetch(g, sort=["rung_order", "active_days"])


def rung_power_user_curve(log: EventLog, *, ladder: LadderParams | None = None) -> pd.DataFrame:
    """Per rung (Inactive left out), the distribution of distinct active days in the period.

    Returns
    -------
    DataFrame: ``rung``, ``rung_order``, ``active_days``, ``user_periods``, ``share`` (of the
    rung's user-periods). Day counts nobody on the rung had are omitted.

    Examples
    --------
    >>> curve = rung_power_user_curve(log, ladder=lad)
    >>> curve.groupby("rung", sort=False).share.sum().round(9).to_dict()
    {'Visitor': 1.0, 'Saver': 1.0, 'Creator': 1.0, 'Sharer': 1.0}
    """
    ladder = ladder or LadderParams()
    names = {r.order: r.name for r in ladder_rungs(ladder)}
    df = _by_days(log, ladder)
    df = df[df["rung_order"] > 0].copy()
    df["share"] = df["user_periods"] / df.groupby("rung_order")["user_periods"].transform("sum")
    df["rung"] = df["rung_order"].map(names)
    return df[["rung", "rung_order", "active_days", "user_periods", "share"]].reset_index(drop=True)


def _median(days: np.ndarray, weights: np.ndarray) -> float:
    n = int(weights.sum())
    if n == 0:
        return float("nan")
    cum = np.cumsum(weights)
    lo = days[np.searchsorted(cum, (n + 1) // 2)]  # the ((n+1)//2)-th value, 1-based
    hi = days[np.searchsorted(cum, n // 2 + 1)]  # the (n//2 + 1)-th value
    return (float(lo) + float(hi)) / 2


def validation(log: EventLog, *, ladder: LadderParams | None = None) -> pd.DataFrame:
    """Per rung: user-periods, median and mean distinct active days in the period, and the share
    active in the next period (module docstring). Every rung is listed, empty ones with
    ``user_periods`` 0 and missing statistics.

    Returns
    -------
    DataFrame: ``rung``, ``rung_order``, ``user_periods``, ``median_active_days``,
    ``share_active_next_period``, ``mean_active_days``, ``user_periods_with_next``.

    Examples
    --------
    >>> v = validation(log, ladder=lad)
    >>> v.rung.tolist()
    ['Inactive', 'Visitor', 'Saver', 'Creator', 'Sharer']
    >>> bool((v.user_periods_with_next <= v.user_periods).all())
    True
    >>> bool(v.share_active_next_period.is_monotonic_increasing)  # the demo ladder is in order
    True
    """
    ladder = ladder or LadderParams()
    df = _by_days(log, ladder)
    rows = []
    for r in ladder_rungs(ladder):
        g = df[df["rung_order"] == r.order]
        n = int(g["user_periods"].sum())
        nxt = int(g["with_next"].sum())
        rows.append({
            "rung": r.name,
            "rung_order": r.order,
            "user_periods": n,
            "median_active_days": _median(g["active_days"].to_numpy(), g["user_periods"].to_numpy()),
            "mean_active_days": float((g["active_days"] * g["user_periods"]).sum() / n) if n else float("nan"),
            "user_periods_with_next": nxt,
            "share_active_next_period": float(g["active_next"].sum() / nxt) if nxt else float("nan"),
        })
    cols = ["rung", "rung_order", "user_periods", "median_active_days", "share_active_next_period",
            "mean_active_days", "user_periods_with_next"]
    return pd.DataFrame(rows)[cols]


def validation_flags(table: pd.DataFrame, *, period: str = "week", min_user_periods: int = 30,
                     tolerance: float = 0.01) -> list[str]:
    """Sentences naming each rung out of order in :func:`validation`'s table.

    Adjacent rungs (by order, skipping rungs with fewer than ``min_user_periods`` user-periods,
    which get their own sentence) are compared on next-period activity (flagged when the higher
    rung is lower by more than ``tolerance``, a fraction) and on mean active days (lower by more
    than ``tolerance`` days). An empty list means the ladder passes.

    Examples
    --------
    >>> validation_flags(validation(log, ladder=lad))
    []
    >>> import pandas as pd
    >>> t = pd.DataFrame({"rung": ["Visitor", "Saver"], "rung_order": [1, 2], "user_periods": [100, 50],
    ...                   "share_active_next_period": [0.5, 0.4], "mean_active_days": [1.5, 2.0]})
    >>> validation_flags(t)
    ["Saver is out of order: its users are active the next week less often than Visitor's: 40% vs 50%; check the ladder."]
    """
    out: list[str] = []
    unit = "week" if period == "week" else "month"
    rows = table.sort_values("rung_order")
    # the implicit rungs have no condition to fix: an empty "Active (other)" just means every
    # active user matched a rung
    thin = rows[(rows["user_periods"] < min_user_periods) & ~rows["rung"].isin([INACTIVE, OTHER])]
    for _, r in thin.iterrows():
        if r["user_periods"] == 0:
            out.append(t(f"ladder.flag.never.{unit}", rung=r["rung"]))
            continue
        out.append(t(f"ladder.flag.thin.{unit}", rung=r["rung"], n=num(int(r["user_periods"])), min=min_user_periods))
    ok = rows[rows["user_periods"] >= min_user_periods].to_dict("records")
    for low, high in zip(ok, ok[1:]):
        a, b = low["share_active_next_period"], high["share_active_next_period"]
        if pd.notna(a) and pd.notna(b) and b < a - tolerance:
            out.append(t(f"ladder.flag.next.{unit}", high=high["rung"], low=low["rung"], b=pct(b), a=pct(a)))
        a, b = low["mean_active_days"], high["mean_active_days"]
        if pd.notna(a) and pd.notna(b) and b < a - tolerance:
            out.append(t(f"ladder.flag.days.{unit}", high=high["rung"], low=low["rung"], b=num(b, 2), a=num(a, 2)))
    return out


def ladder_warnings(log: EventLog, *, ladder: LadderParams | None = None) -> list[str]:
    """Problems of the definition against this log: condition events absent from the log, and
    rungs that can never be reached because a catch-all rung sits above them."""
    ladder = ladder or LadderParams()
    out = []
    wanted = condition_events(ladder)
    if wanted:
        d = log.daily
        present = set(fetch(d.filter(d.event.isin(wanted)).select("event").distinct())["event"])
        missing = [e for e in wanted if e not in present]
        if missing:
            out.append(t("ladder.warning.missing_events", events=t("ladder.list_separator").join(missing)))
    rungs = [r for r in ladder_rungs(ladder) if r.when is not None]
    tops = [i for i, r in enumerate(rungs) if conditions.is_catch_all(r.when)]
    if tops and tops[-1] > 0:
        ca = rungs[tops[-1]]
        below = t("ladder.list_separator").join(r.name for r in rungs[: tops[-1]])
        out.append(t("ladder.warning.catch_all", rung=ca.name, below=below))
    return out
