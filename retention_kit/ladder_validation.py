"""Is the ladder really a ladder? Power-user curves and next-period activity per rung, the checks
that name a rung out of order, warnings about the definition, and the findings in words.

Definitions: a rung's *user-periods* are the (user, complete period) pairs on it. Its power-user
curve is the distribution of distinct active days in the period over those user-periods. Its
*next-period activity* is the share of its user-periods whose user is active at least once in the
next period, among the user-periods that have a next complete period. Both should rise with the
rung; :func:`validation_flags` names every adjacent pair of rungs where they fall.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import LadderParams
from .engine import fetch
from .events import EventLog
from .ladder_rungs import INACTIVE, OTHER, condition_events, is_catch_all, ladder_rungs, rung_table

__all__ = ["power_user_curve", "validation", "validation_flags", "ladder_warnings", "reference", "findings"]


def _by_days(log: EventLog, ladder: LadderParams) -> pd.DataFrame:
    t = rung_table(log, ladder=ladder)
    g = t.group_by(["rung_order", "active_days"]).aggregate(
        user_periods=t.count(),
        with_next=t.next_rung.notnull().cast("int64").sum(),
        active_next=(t.next_active_days > 0).fill_null(False).cast("int64").sum(),
    )
    return fetch(g, sort=["rung_order", "active_days"])


def power_user_curve(log: EventLog, *, ladder: LadderParams | None = None) -> pd.DataFrame:
    """Per rung (Inactive left out), the distribution of distinct active days in the period.

    Returns
    -------
    DataFrame: ``rung``, ``rung_order``, ``active_days``, ``user_periods``, ``share`` (of the
    rung's user-periods). Day counts nobody on the rung had are omitted.

    Examples
    --------
    >>> power_user_curve(log, ladder=params.ladder)  # doctest: +SKIP
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
    >>> validation(log, ladder=params.ladder)  # doctest: +SKIP
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
    >>> validation_flags(validation(log, ladder=params.ladder))  # doctest: +SKIP
    []
    """
    out: list[str] = []
    t = table.sort_values("rung_order")
    # the implicit rungs have no condition to fix: an empty "Active (other)" just means every
    # active user matched a rung
    thin = t[(t["user_periods"] < min_user_periods) & ~t["rung"].isin([INACTIVE, OTHER])]
    for _, r in thin.iterrows():
        if r["user_periods"] == 0:
            out.append(f"{r['rung']} is never reached (0 user-{period}s); check its condition.")
            continue
        out.append(f"{r['rung']} holds only {int(r['user_periods'])} user-{period}s, too few to validate "
                   f"(fewer than {min_user_periods}); check its condition.")
    ok = t[t["user_periods"] >= min_user_periods].to_dict("records")
    for low, high in zip(ok, ok[1:]):
        a, b = low["share_active_next_period"], high["share_active_next_period"]
        if pd.notna(a) and pd.notna(b) and b < a - tolerance:
            out.append(f"{high['rung']} is out of order: its users are active the next {period} less often "
                       f"than {low['rung']}'s: {100 * b:.0f}% vs {100 * a:.0f}%; check the ladder.")
        a, b = low["mean_active_days"], high["mean_active_days"]
        if pd.notna(a) and pd.notna(b) and b < a - tolerance:
            out.append(f"{high['rung']} is out of order: its users are active on fewer days per {period} "
                       f"than {low['rung']}'s: {b:.2f} vs {a:.2f} on average; check the ladder.")
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
            out.append("The ladder's conditions name events that never occur in the log: "
                       + ", ".join(missing) + " (check the spelling; case matters). Conditions on them never hold.")
    rungs = [r for r in ladder_rungs(ladder) if r.when is not None]
    tops = [i for i, r in enumerate(rungs) if is_catch_all(r.when)]
    if tops and tops[-1] > 0:
        ca = rungs[tops[-1]]
        below = ", ".join(r.name for r in rungs[: tops[-1]])
        out.append(f"{ca.name} holds for every active user, so the rungs below it ({below}) are never "
                   "reached; move the catch-all to the bottom.")
    return out


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _label(day: pd.Timestamp, period: str) -> str:
    return f"{day:%B %Y}" if period == "month" else f"the week of {day:%Y-%m-%d}"


def reference(ladder: LadderParams | None = None, cohort_ladder: pd.DataFrame | None = None, *,
              min_share: float = 0.02) -> tuple[str, int]:
    """The rung and age the headline compares cohorts at.

    The rung is the one below the top when there are three or more rungs above Inactive, else the
    top one; with ``cohort_ladder`` (:func:`retention_kit.ladder.cohorts`), it steps down while
    fewer than ``min_share`` of all cohort user-periods are at or above it (sparse logs). The age
    is 3 for weeks (the 4th week) or 2 for months (the 3rd month).
    """
    ladder = ladder or LadderParams()
    rungs = [r for r in ladder_rungs(ladder) if r.order > 0]
    i = len(rungs) - 2 if len(rungs) >= 3 else len(rungs) - 1
    if cohort_ladder is not None and len(cohort_ladder):
        total = cohort_ladder["users"].sum()
        while i > 0 and cohort_ladder.loc[cohort_ladder["rung_order"] >= rungs[i].order, "users"].sum() < min_share * total:
            i -= 1
    return rungs[i].name, 3 if ladder.period == "week" else 2


def findings(cohort_ladder: pd.DataFrame, comp: pd.DataFrame, *, ladder: LadderParams | None = None,
             age: int | None = None, min_cohort_users: int = 20) -> str:
    """The headline in words: the latest cohort that reached ``age`` against the earliest one at
    the same age (share at or above the reference rung and Inactive share), and the Inactive
    share among recent users, first against latest period.

    Only new cohorts are compared (``new_cohort`` of :func:`retention_kit.ladder.cohorts`): the
    left-censored first cohort (everyone already active when the log began, without a users
    table) and cohorts starting before the first complete period are never the comparison cohort,
    so the earliest one is the first cohort starting in a complete period after them. The
    reference rung and default age are :func:`reference`'s; the age is lowered when fewer than
    two cohorts of at least ``min_cohort_users`` users reached it.

    Examples
    --------
    >>> findings(cohorts(log, ladder=lad), composition(log, ladder=lad), ladder=lad)  # doctest: +SKIP
    'Of users who joined in the week of 2024-07-01, 12% were Creator or above in their 4th week, ...'
    """
    ladder = ladder or LadderParams()
    per = ladder.period
    rungs = [r for r in ladder_rungs(ladder) if r.order > 0]
    ref_name, default_age = reference(ladder, cohort_ladder)
    ref = next(r for r in rungs if r.name == ref_name)
    new = cohort_ladder
    if "new_cohort" in new.columns:
        new = new[new["new_cohort"].astype(bool)]
    size = new.groupby(["cohort", "age"])["users"].sum().rename("n").reset_index()
    size = size[size["n"] >= min_cohort_users]
    a = default_age if age is None else age
    while a > 0 and size[size["age"] == a]["cohort"].nunique() < 2:
        a -= 1
    at = size[size["age"] == a]
    if at["cohort"].nunique() < 2:
        text = f"Too few cohorts of {min_cohort_users}+ users to compare cohorts at the same age."
    else:
        early, late = at["cohort"].min(), at["cohort"].max()
        c = cohort_ladder[cohort_ladder["age"] == a]

        def share(cohort: pd.Timestamp, pred: pd.Series) -> float:
            g = c[c["cohort"] == cohort]
            return float(g.loc[pred.loc[g.index], "users"].sum() / g["users"].sum())

        up_l, up_e = share(late, c["rung_order"] >= ref.order), share(early, c["rung_order"] >= ref.order)
        in_l, in_e = share(late, c["rung_order"] == 0), share(early, c["rung_order"] == 0)
        above = "" if ref is rungs[-1] else " or above"
        # at or above the lowest rung above Inactive is simply "active"
        what = "active" if ref.order == 1 else f"{ref.name}{above}"
        text = (f"Of users who joined in {_label(late, per)}, {100 * up_l:.0f}% were {what} in their "
                f"{_ordinal(a + 1)} {per}, against {100 * up_e:.0f}% of the cohort of {_label(early, per)}")
        text += "." if ref.order == 1 else (f"; the Inactive share of users in their {_ordinal(a + 1)} {per} went "
                                            f"from {100 * in_e:.0f}% to {100 * in_l:.0f}%.")
    rec = comp[comp["scope"] == "recent"]
    tot = rec.groupby("period")["users"].sum()
    # before recent_periods periods have passed, "recent" is nearly everyone and not comparable
    periods = sorted(comp["period"].unique())
    full = periods[ladder.recent_periods - 1:]
    tot = tot[(tot >= min_cohort_users) & tot.index.isin(full)]
    if len(tot) >= 2:
        p0, p1 = tot.index.min(), tot.index.max()
        ina = rec[rec["rung_order"] == 0].set_index("period")["share"]
        text += (f" Among users acquired in the last {ladder.recent_periods} {per}s, the Inactive share went from "
                 f"{100 * ina[p0]:.0f}% ({p0:%Y-%m-%d}) to {100 * ina[p1]:.0f}% ({p1:%Y-%m-%d}).")
    return text
