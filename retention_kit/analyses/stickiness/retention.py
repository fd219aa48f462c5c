"""Cohort retention: of the users who started in a period, how many are active k periods later.

Definitions (calendar weeks or months in the product's timezone, weeks starting on
``data.week_start``):

- **Cohort**: the period of a user's start day: the signup day from the users table when one is
  given, else the first active day (``EventLog.starts``). The start itself counts as presence in
  period 0, so period 0 is always 100%; activity before the start is ignored.
- **Period k**: the k-th calendar period after the cohort's own (k = 0 is the cohort period).
- **Retention(c, k)**, mode ``"on"``: share of the cohort active in period c+k. Mode
  ``"on_or_after"``: share active in c+k or in any later period up to the last day of data
  (always >= "on").
- **Incomplete cells**: a cell whose period c+k is not complete, i.e. does not lie entirely within
  the data range (:func:`retention_kit.periods.complete_range`: it ends after the last day of data,
  or starts before the first day, e.g. a partial first week or, with a users table, periods before
  the data of a cohort that signed up earlier), is empty (not in the table), never zero.
- **New cohorts** (``new_cohort``): a cohort is really new and fully observed when it starts at or
  after :func:`retention_kit.periods.first_new_cohort`. Without a users table, the cohort whose
  period holds the first day of data is left-censored: it holds every user already active when the
  log began, not only new ones. With a users table, cohorts that started before the first day of
  data have unobserved early periods. Their complete cells stay in the table (flagged
  ``new_cohort`` false) but the average curve leaves them out.
- **Intervals**: 95% Wilson score intervals (:func:`retention_kit.stats.wilson_interval`).
- **Average curve**: for each k, pooled over the new cohorts whose period k is complete, i.e. the
  cohort-size weighted mean sum(active) / sum(cohort_size), with a Wilson interval on the pooled
  counts (it treats users as independent and ignores between-cohort variation).
"""

from __future__ import annotations

from typing import Literal

import ibis
import numpy as np
import pandas as pd

from ...data.engine import fetch
from ...errors import NotEnoughDataError
from ...data.log import EventLog
from ...core.periods import first_new_cohort, period_index, period_start
from ...core.stats import wilson_interval

__all__ = ["cohort_retention", "average_retention"]

Mode = Literal["on", "on_or_after"]


def _interval(active: pd.Series, size: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Wilson interval with its exact ends where the share is exactly 0 or 1 (the formula leaves
    rounding noise such as 5e-17 there)."""
    lo, hi = wilson_interval(active, size)
    return np.where(active == 0, 0.0, lo), np.where(active == size, 1.0, hi)


def cohort_retention(log: EventLog, *, granularity: Literal["week", "month"] = "week",
                     modes: tuple[Mode, ...] = ("on", "on_or_after")) -> pd.DataFrame:
    """Retention triangle: one row per cohort, mode and complete period k.

    Definition: see the module docstring. Only cells whose period c+k is complete are listed: a
    cohort whose own period is incomplete (a partial first period, or a signup before the data)
    has no period-0 cell, and no cells for periods before the data; cohorts with no users (no one
    started in that period) have no rows. A complete cell with nobody active is a real 0.

    Returns
    -------
    pandas.DataFrame
        ``granularity``, ``mode``, ``cohort`` (first day), ``period`` (k), ``cohort_size``,
        ``active``, ``retention`` (fraction), ``ci_low``, ``ci_high``, ``new_cohort`` (False for
        a left-censored cohort or one that started before the data: see the module docstring).

    Raises
    ------
    NotEnoughDataError
        When no cohort has a complete period.

    Examples
    --------
    >>> r = cohort_retention(log, granularity="week")
    >>> sorted(r["mode"].unique()), bool(r.loc[r.period == 0, "retention"].eq(1).all())
    (['on', 'on_or_after'], True)
    >>> on = r[r["mode"] == "on"].set_index(["cohort", "period"]).active
    >>> on_or_after = r[r["mode"] == "on_or_after"].set_index(["cohort", "period"]).active
    >>> bool((on <= on_or_after).all())
    True
    """
    if granularity not in ("week", "month"):
        raise ValueError(f"granularity must be 'week' or 'month', got {granularity!r}")
    bad = set(modes) - {"on", "on_or_after"}
    if bad:
        raise ValueError(f"unknown retention mode(s) {sorted(bad)}; use 'on' or 'on_or_after'")
    ws = log.params.week_start
    lo, hi = log.complete_periods(granularity)
    new0 = first_new_cohort(log.first_day, granularity, ws, signups_known=log.users is not None)
    st = log.starts()
    st = st.select("user_id", c=period_index(st.start_day, granularity, ws))
    a = log.active_days()
    up = a.select("user_id", p=period_index(a.day, granularity, ws)).distinct()
    j = up.join(st, "user_id").select("user_id", "c", k=ibis._.p - ibis._.c)
    j = j.filter(j.k > 0)
    # the start is presence in period 0, even for a signup without activity
    # cached: both the cells and each user's furthest period are read from it
    present = j.union(st.select("user_id", "c", k=ibis.literal(0, "int64")), distinct=False).cache()
    on = fetch(present.group_by(["c", "k"]).aggregate(active=present.count()))
    last = present.group_by(["user_id", "c"]).aggregate(kmax=present.k.max())
    reach = fetch(last.group_by(["c", "kmax"]).aggregate(users=last.count()))
    sizes = on[on["k"] == 0].set_index("c")["active"]
    sizes = sizes[sizes.index <= hi]
    if sizes.empty:
        raise NotEnoughDataError(
            f"No cohort has a complete {granularity}: the data ({log.first_day} to {log.last_day}) "
            "does not reach the end of any cohort's first period"
        )
    frames = []
    for mode in modes:
        for c, size in sizes.items():
            # only periods c+k inside [lo, hi]: a cohort older than the data has no cells before it
            ks = np.arange(max(0, lo - int(c)), hi - int(c) + 1)
            if mode == "on":
                act = on[on["c"] == c].set_index("k")["active"].reindex(ks, fill_value=0)
            else:
                r = reach[reach["c"] == c].set_index("kmax")["users"]
                # users whose last presence is at k or later: reverse cumulative sum over kmax
                full = r.reindex(range(0, max(int(r.index.max()), int(ks[-1])) + 1), fill_value=0)
                act = full[::-1].cumsum()[::-1].reindex(ks)
            frames.append(pd.DataFrame({"mode": mode, "c": int(c), "period": ks, "cohort_size": int(size),
                                        "active": act.to_numpy().astype("int64"), "new_cohort": int(c) >= new0}))
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "granularity", granularity)
    starts = {c: period_start(c, granularity, ws) for c in out["c"].unique()}
    out.insert(2, "cohort", pd.to_datetime(out["c"].map(starts)).astype("datetime64[ns]"))
    out = out.drop(columns="c")
    out["retention"] = out["active"] / out["cohort_size"]
    out["ci_low"], out["ci_high"] = _interval(out["active"], out["cohort_size"])
    out = out[[c for c in out.columns if c != "new_cohort"] + ["new_cohort"]]
    return out.sort_values(["mode", "cohort", "period"], kind="stable").reset_index(drop=True)


def average_retention(cells: pd.DataFrame, *, cohorts: int | None = None) -> pd.DataFrame:
    """Cohort-size weighted average retention curve of a retention table (one mode).

    Definition: for each period k, over the new cohorts whose cell k is complete (present in
    ``cells``), retention = sum(active) / sum(cohort_size), with a 95% Wilson interval on those
    pooled counts. Cohorts flagged ``new_cohort`` false (left-censored, or started before the
    data: see the module docstring) are left out. ``cohorts`` keeps only the latest N new
    cohorts (those shown).

    Returns
    -------
    pandas.DataFrame
        ``period``, ``cohorts`` (number that reached k), ``cohort_size`` (their users),
        ``active``, ``retention``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> r = cohort_retention(log, granularity="week")
    >>> avg = average_retention(r[r["mode"] == "on"], cohorts=8)
    >>> avg.columns.tolist()
    ['period', 'cohorts', 'cohort_size', 'active', 'retention', 'ci_low', 'ci_high']
    >>> avg.cohorts.head(3).tolist(), float(avg.retention.iloc[0])  # fewer cohorts reach later periods
    ([8, 7, 6], 1.0)
    """
    if cells["mode"].nunique() > 1 or cells["granularity"].nunique() > 1:
        raise ValueError("average_retention takes the cells of one granularity and one mode")
    d = cells
    if "new_cohort" in d.columns:
        d = d[d["new_cohort"].astype(bool)]
    if cohorts is not None:
        keep = sorted(d["cohort"].unique())[-cohorts:]
        d = d[d["cohort"].isin(keep)]
    g = d.groupby("period", as_index=False).agg(cohorts=("cohort", "nunique"), cohort_size=("cohort_size", "sum"),
                                                active=("active", "sum"))
    g["retention"] = g["active"] / g["cohort_size"]
    g["ci_low"], g["ci_high"] = _interval(g["active"], g["cohort_size"])
    return g.astype({"cohorts": "int64", "cohort_size": "int64", "active": "int64"})
