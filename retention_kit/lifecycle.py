"""Lifecycle segments (new, active, silent, churned) and users at risk, from each user's rhythm.

Definitions (calendar days in the product's timezone; D is the "as of" day):

- **Thresholds.** ``cadence`` = the 80th percentile (linear interpolation) of users' median gaps
  between active days (users with at least 2 active days, :func:`retention_kit.cadence.user_cadence`),
  rounded half up to whole days, at least 1. Unless set in ``lifecycle``: ``new_days`` = cadence,
  ``silent_days`` = 2 x cadence, ``churned_days`` = 4 x cadence.
- **Reference day** of a user as of D: their last active day on or before D; for a user who has
  started (signup or first activity on or before D) but was never active by D, the start day.
  ``days_since`` = D - reference day (0 when active on D itself).
- **Segment** as of D, of users who started on or before D, first rule that matches:
  *new*: D - start day < ``new_days`` (started within the last new_days days, D included);
  *active*: active at least once by D and days_since < ``silent_days``;
  *silent*: days_since < ``churned_days`` (so ``silent_days`` <= days_since for users active
  by D; a user never active by D is silent from ``new_days`` on, counting from the start day);
  *churned*: days_since >= ``churned_days``.
  So with silent_days 10 a user last active 9 days ago is active, 10 days ago silent; a user who
  signed up 9 days ago and was never active is silent once no longer new (never active).
- **At risk** as of D: an active or silent user (not new) with either
  (a) at least 3 active days up to D and days_since > ``at_risk_factor`` x their median gap
  between active days up to D (strictly more), or
  (b) when the log has revenue: at least 3 purchases (purchase days, :func:`retention_kit.value.purchase_days`)
  up to D and days since the last purchase > 2 x their median gap between purchases: two of
  their own expected purchase intervals missed in a row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable

import ibis
import ibis.expr.types as ir
import pandas as pd

from .cadence import day_gaps, user_cadence
from .engine import fetch
from .errors import NotEnoughDataError
from .events import EventLog
from .periods import day_index, period_end, period_index_py
from .value import has_revenue, purchase_days

__all__ = [
    "SEGMENTS",
    "Thresholds",
    "thresholds",
    "segments_at",
    "snapshot_dates",
    "snapshots",
    "flows",
    "at_risk_users",
    "at_risk_summary",
    "EXPORT_COLUMNS",
    "export_frame",
    "complete_value_periods",
    "observed_repurchase",
    "observed_cohorts",
]

SEGMENTS = ("new", "active", "silent", "churned")
NOT_STARTED = "(not started)"
MIN_ACTIVE_DAYS = 3


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Lifecycle thresholds in days; ``cadence_p80`` is the unrounded cadence (None if all were
    given), ``derived`` names the thresholds taken from the cadence."""

    new_days: int
    silent_days: int
    churned_days: int
    cadence_p80: float | None = None
    cadence_days: int | None = None
    derived: tuple[str, ...] = ()

    def describe(self) -> str:
        """One sentence for the report."""
        base = (f"New: started less than {self.new_days} days ago; active: last active less than "
                f"{self.silent_days} days ago; silent: {self.silent_days} to {self.churned_days - 1} days; "
                f"churned: {self.churned_days} days or more (a user never active counts from the start "
                f"day and is silent, not active, until churned).")
        if self.derived and self.cadence_p80 is not None:
            base += (f" Derived from the usage cadence ({', '.join(self.derived)}): 80% of users with 2+ active "
                     f"days have a median gap of at most {self.cadence_p80:.1f} days, rounded to "
                     f"{self.cadence_days}; silent after 2x, churned after 4x that, new for 1x.")
        return base


def thresholds(log: EventLog, *, new_days: int | None = None, silent_days: int | None = None,
               churned_days: int | None = None, quantile: float = 0.8) -> Thresholds:
    """Lifecycle thresholds: the given ones, the rest derived from the usage cadence.

    ``cadence`` = ``quantile`` (default 0.8) of users' median gaps between active days, rounded half
    up, at least 1 day; silent = 2 x cadence, churned = 4 x cadence, new = cadence. When only one
    of silent/churned is given and the derived other would not keep silent < churned, the derived
    one is 2x (or half) the given one.

    Raises
    ------
    NotEnoughDataError
        No user has 2 active days, so there is no cadence (and a threshold was not given).

    Examples
    --------
    >>> thresholds(log).silent_days  # doctest: +SKIP
    10
    """
    if new_days and silent_days and churned_days:
        if churned_days <= silent_days:
            raise ValueError(f"churned_days ({churned_days}) must exceed silent_days ({silent_days})")
        return Thresholds(new_days, silent_days, churned_days)
    c = user_cadence(log)
    c = c.filter(c.median_gap.notnull())
    row = fetch(c.aggregate(q=c.median_gap.quantile(quantile), n=c.count())).iloc[0]
    if not row["n"] or pd.isna(row["q"]):
        raise NotEnoughDataError("no user has two active days, so the usage cadence is unknown; "
                                 "set lifecycle.silent_days, churned_days and new_days")
    p80 = float(row["q"])
    cad = max(1, math.floor(p80 + 0.5))
    derived = []
    if silent_days is None:
        silent_days = 2 * cad if churned_days is None or 2 * cad < churned_days else max(1, churned_days // 2)
        derived.append("silent_days")
    if churned_days is None:
        churned_days = 4 * cad if 4 * cad > silent_days else 2 * silent_days
        derived.append("churned_days")
    if churned_days <= silent_days:
        raise ValueError(f"churned_days ({churned_days}) must exceed silent_days ({silent_days})")
    if new_days is None:
        new_days = cad
        derived.append("new_days")
    return Thresholds(int(new_days), int(silent_days), int(churned_days), p80, cad, tuple(derived))


def _segment_expr(age: ir.IntegerValue, since: ir.IntegerValue, was_active: ir.BooleanValue,
                  thr: Thresholds) -> ir.StringValue:
    # "active" means active within the silent threshold (issue 8): a signup who never used the
    # product is not active however recent the signup, only new, then silent, then churned
    return (ibis.cases((age < thr.new_days, "new"), (was_active & (since < thr.silent_days), "active"),
                       (since < thr.churned_days, "silent"), else_="churned"))


def _cached(log: EventLog, key: str, build: Callable[[], ir.Table]) -> ir.Table:
    """``build()`` cached in the engine once per log and key: snapshots and flows share one
    segment table, at_risk_users and at_risk_summary one at-risk table. Kept in the log's own
    memo so it lives and dies with the log (no id reuse across logs)."""
    key = f"lifecycle.{key}"
    return log.memoized(key, lambda: build().cache())


def _segments(log: EventLog, dates: list[dt.date], thr: Thresholds) -> ir.Table:
    """Engine table (cached per log, dates and thresholds): one row per (user, snapshot) of users
    started by then: ``user_id``, ``k`` (snapshot ordinal), ``date``, ``start_day``, ``ref_day``,
    ``was_active`` (an active day on or before the date), ``days_since``, ``segment``."""
    return _cached(log, f"segments:{thr!r}:{','.join(map(str, dates))}", lambda: _build_segments(log, dates, thr))


def _build_segments(log: EventLog, dates: list[dt.date], thr: Thresholds) -> ir.Table:
    snaps = ibis.memtable({"k": list(range(len(dates))), "date": list(dates)})
    a = log.active_days()
    a = a.mutate(next_day=a.day.lead().over(ibis.window(group_by="user_id", order_by="day")))
    # the active day a is a user's last one as of every D with a <= D < next active day
    last = a.join(snaps, [a.day <= snaps.date, a.next_day.isnull() | (snaps.date < a.next_day)])
    last = last.select("user_id", "k", last_active=last.day)
    s = log.starts()
    grid = s.join(snaps, s.start_day <= snaps.date)
    g = grid.left_join(last, ["user_id", "k"]).select(grid.user_id, grid.k, grid.date, grid.start_day, "last_active")
    ref = g.last_active.coalesce(g.start_day)
    g = g.mutate(ref_day=ref, was_active=g.last_active.notnull(), days_since=day_index(g.date) - day_index(ref),
                 age=day_index(g.date) - day_index(g.start_day))
    return g.mutate(segment=_segment_expr(g.age, g.days_since, g.was_active, thr)).drop("age", "last_active")


def segments_at(log: EventLog, day: dt.date, *, thresholds: Thresholds) -> ir.Table:
    """Each started user's segment as of ``day`` (engine table): ``user_id``, ``date``,
    ``start_day``, ``ref_day`` (last active day, else start), ``was_active`` (active by ``day``),
    ``days_since``, ``segment``. See the module docstring for the rules.

    Examples
    --------
    >>> segments_at(log, log.last_day, thresholds=thresholds(log))  # doctest: +SKIP
    """
    return _segments(log, [day], thresholds).drop("k")


def snapshot_dates(log: EventLog) -> list[dt.date]:
    """Month ends within the data range (the last day of each complete calendar month)."""
    lo = period_index_py(log.first_day, "month")
    hi = period_index_py(log.last_day, "month")
    return [e for e in (period_end(i, "month") for i in range(lo, hi + 1)) if log.first_day <= e <= log.last_day]


def _dates(log: EventLog) -> list[dt.date]:
    dates = snapshot_dates(log)
    if not dates:
        raise NotEnoughDataError("the data covers no month end, so there is no monthly snapshot")
    return dates


def snapshots(log: EventLog, *, thresholds: Thresholds) -> pd.DataFrame:
    """Users per lifecycle segment at each month end.

    ``share`` = users in the segment / users started by that date (all four segments). Every
    segment is listed at every date (0 when empty).

    Returns
    -------
    DataFrame: date, segment, users, share.

    Examples
    --------
    >>> snapshots(log, thresholds=thresholds(log))  # doctest: +SKIP
    """
    dates = _dates(log)
    g = _segments(log, dates, thresholds)
    df = fetch(g.group_by(["k", "segment"]).aggregate(users=g.count()))
    grid = pd.MultiIndex.from_product([range(len(dates)), SEGMENTS], names=["k", "segment"]).to_frame(index=False)
    out = grid.merge(df, on=["k", "segment"], how="left").fillna({"users": 0}).astype({"users": "int64"})
    total = out.groupby("k")["users"].transform("sum")
    out["share"] = out["users"] / total.where(total > 0)
    out.insert(0, "date", pd.to_datetime([dates[k] for k in out["k"]]).astype("datetime64[ns]"))
    return out.drop(columns="k")[["date", "segment", "users", "share"]]


def flows(log: EventLog, *, thresholds: Thresholds) -> pd.DataFrame:
    """Moves between segments from one month end to the next.

    For each month end after the first: ``from_segment`` (the user's segment at the previous
    month end, ``(not started)`` for users who started in between), ``to_segment``, ``users``,
    and ``share_of_from`` = users / all users in ``from_segment`` at the previous month end.

    Returns
    -------
    DataFrame: date (month end of arrival), from_segment, to_segment, users, share_of_from.

    Examples
    --------
    >>> flows(log, thresholds=thresholds(log))  # doctest: +SKIP
    """
    dates = _dates(log)
    if len(dates) < 2:
        raise NotEnoughDataError("flows need two month ends; the data covers one")
    g = _segments(log, dates, thresholds)
    prev = g.select("user_id", kp=g.k + 1, from_segment=g.segment)
    cur = g.filter(g.k > 0)
    j = cur.left_join(prev, [cur.user_id == prev.user_id, cur.k == prev.kp])
    j = j.mutate(from_segment=j.from_segment.fill_null(NOT_STARTED))
    df = fetch(j.group_by(["k", "from_segment", "segment"]).aggregate(users=j.count()))
    df = df.rename(columns={"segment": "to_segment"})
    size = df.groupby(["k", "from_segment"])["users"].transform("sum")
    df["share_of_from"] = df["users"] / size
    df.insert(0, "date", pd.to_datetime([dates[k] for k in df["k"]]).astype("datetime64[ns]"))
    order = {s: i for i, s in enumerate((NOT_STARTED, *SEGMENTS))}
    df = df.assign(_f=df["from_segment"].map(order), _t=df["to_segment"].map(order))
    df = df.sort_values(["date", "_f", "_t"], kind="stable").reset_index(drop=True)
    return df[["date", "from_segment", "to_segment", "users", "share_of_from"]]


def _gaps(days: ir.Table, prefix: str) -> ir.Table:
    """Per user from (user_id, day) rows: ``<prefix>_days``, ``<prefix>_gap`` (median days
    between consecutive days), ``<prefix>_last``."""
    g = day_gaps(days)
    return g.select("user_id", **{f"{prefix}_days": g.days, f"{prefix}_gap": g.median_gap, f"{prefix}_last": g.last_day})


def _at_risk_table(log: EventLog, thr: Thresholds, factor: float, as_of: dt.date) -> ir.Table:
    """Engine table (cached per log, thresholds, factor, day) of every active or silent user as of
    ``as_of`` with the at-risk flags."""
    return _cached(log, f"at_risk:{thr!r}:{factor!r}:{as_of}", lambda: _build_at_risk(log, thr, factor, as_of))


def _build_at_risk(log: EventLog, thr: Thresholds, factor: float, as_of: dt.date) -> ir.Table:
    seg = _build_segments(log, [as_of], thr).drop("k")  # the at-risk table is cached; no need to cache this too
    seg = seg.filter(seg.segment.isin(["active", "silent"]))
    asof = day_index(ibis.literal(as_of))
    act = _gaps(log.active_days().filter(ibis._.day <= as_of), "act")
    t = seg.left_join(act, "user_id").drop("user_id_right")
    by_activity = (t.act_days >= MIN_ACTIVE_DAYS) & (t.days_since > factor * t.act_gap)
    cols = {"by_activity": by_activity.fill_null(False)}
    if has_revenue(log):
        buy = _gaps(purchase_days(log, until=as_of).select("user_id", "day"), "buy")
        t = t.left_join(buy, "user_id").drop("user_id_right")
        by_purchase = (t.buy_days >= MIN_ACTIVE_DAYS) & ((asof - day_index(t.buy_last)) > 2 * t.buy_gap)
        d = log.daily.filter(ibis._.day <= as_of)
        lo90 = as_of - dt.timedelta(days=89)
        money = d.group_by("user_id").aggregate(revenue_to_date=d.revenue.sum(),
                                                revenue_last_90d=d.revenue.sum(where=d.day >= lo90))
        t = t.left_join(money, "user_id").drop("user_id_right")
        cols["by_purchase"] = by_purchase.fill_null(False)
        cols["revenue_to_date"] = t.revenue_to_date.fill_null(0.0)
        cols["revenue_last_90d"] = t.revenue_last_90d.fill_null(0.0)
    else:
        cols["by_purchase"] = ibis.literal(False)
        cols["revenue_to_date"] = ibis.null("float64")
        cols["revenue_last_90d"] = ibis.null("float64")
    t = t.mutate(**cols)
    return t.mutate(at_risk=t.by_activity | t.by_purchase)


def _as_of(log: EventLog, as_of: dt.date | None) -> dt.date:
    return log.last_day if as_of is None else as_of


def at_risk_users(log: EventLog, *, thresholds: Thresholds, factor: float = 2.0,
                  as_of: dt.date | None = None) -> pd.DataFrame:
    """The users at risk as of ``as_of`` (default: the last day of the data), longest silence first.

    See the module docstring for the rule. ``typical_gap_days`` is the user's median gap between
    active days; ``revenue_to_date`` their net revenue up to ``as_of`` (empty without revenue);
    ``rule`` says which rule flagged them (activity, purchase or both).

    Returns
    -------
    DataFrame: user_id, segment, last_active, days_since_last, typical_gap_days, revenue_to_date,
    active_days, purchases, typical_purchase_gap_days, rule. One row per user: user ids leave
    the engine here only (for the CSV; reports show them only with ``show_user_ids``).

    Examples
    --------
    >>> at_risk_users(log, thresholds=thresholds(log), factor=2.0)  # doctest: +SKIP
    """
    day = _as_of(log, as_of)
    t = _at_risk_table(log, thresholds, factor, day)
    t = t.filter(t.at_risk)
    sel = dict(user_id=t.user_id, segment=t.segment, last_active=t.ref_day, days_since_last=t.days_since,
               typical_gap_days=t.act_gap, revenue_to_date=t.revenue_to_date, active_days=t.act_days,
               by_activity=t.by_activity, by_purchase=t.by_purchase)
    if has_revenue(log):
        sel.update(purchases=t.buy_days.fill_null(0), typical_purchase_gap_days=t.buy_gap)
    df = fetch(log.original_ids(t.select(**sel)))
    if "purchases" not in df:
        df["purchases"] = pd.array([pd.NA] * len(df), dtype="Int64")
        df["typical_purchase_gap_days"] = float("nan")
    df["rule"] = [("both" if a and b else "activity" if a else "purchase") for a, b in zip(df.by_activity, df.by_purchase)]
    df = df.drop(columns=["by_activity", "by_purchase"])
    return df.sort_values(["days_since_last", "user_id"], ascending=[False, True], kind="stable").reset_index(drop=True)


def at_risk_summary(log: EventLog, *, thresholds: Thresholds, factor: float = 2.0,
                    as_of: dt.date | None = None) -> pd.DataFrame:
    """At-risk counts and value per segment (active, silent, and both together).

    Per segment as of ``as_of``: ``users``, ``at_risk`` (users at risk), ``share_at_risk``,
    ``at_risk_revenue_to_date`` (their net revenue up to as_of), ``at_risk_revenue_last_90d``
    (their revenue in the 90 days ending on as_of), ``share_of_revenue_last_90d`` (of the
    revenue of all users in those 90 days) and ``share_of_revenue_to_date`` (of all revenue up to
    as_of). Revenue columns are empty without revenue.

    Returns
    -------
    DataFrame: segment, users, at_risk, share_at_risk, at_risk_revenue_to_date,
    at_risk_revenue_last_90d, share_of_revenue_last_90d, share_of_revenue_to_date.

    Examples
    --------
    >>> at_risk_summary(log, thresholds=thresholds(log))  # doctest: +SKIP
    """
    day = _as_of(log, as_of)
    t = _at_risk_table(log, thresholds, factor, day)
    df = fetch(t.group_by("segment").aggregate(
        users=t.count(), at_risk=t.at_risk.cast("int64").sum(),
        at_risk_revenue_to_date=t.revenue_to_date.sum(where=t.at_risk),
        at_risk_revenue_last_90d=t.revenue_last_90d.sum(where=t.at_risk)))
    out = pd.DataFrame({"segment": ["active", "silent"]}).merge(df, on="segment", how="left")
    out = out.fillna({"users": 0, "at_risk": 0}).astype({"users": "int64", "at_risk": "int64"})
    total = out.drop(columns="segment").sum(min_count=1)
    out = pd.concat([out, pd.DataFrame([{"segment": "active or silent", **total.to_dict()}])], ignore_index=True)
    out = out.astype({"users": "int64", "at_risk": "int64"})
    out["share_at_risk"] = out["at_risk"] / out["users"].where(out["users"] > 0)
    if has_revenue(log):
        d = log.daily
        tot = fetch(d.aggregate(r90=d.revenue.sum(where=(d.day <= day) & (d.day >= day - dt.timedelta(days=89))),
                                rall=d.revenue.sum(where=d.day <= day))).iloc[0]
        out = out.fillna({"at_risk_revenue_to_date": 0.0, "at_risk_revenue_last_90d": 0.0})
        for col, base in (("share_of_revenue_last_90d", tot["r90"]), ("share_of_revenue_to_date", tot["rall"])):
            src = "at_risk_revenue_last_90d" if col.endswith("90d") else "at_risk_revenue_to_date"
            out[col] = out[src] / base if pd.notna(base) and base > 0 else float("nan")
    else:
        out["at_risk_revenue_to_date"] = float("nan")
        out["at_risk_revenue_last_90d"] = float("nan")
        out["share_of_revenue_last_90d"] = float("nan")
        out["share_of_revenue_to_date"] = float("nan")
    return out[["segment", "users", "at_risk", "share_at_risk", "at_risk_revenue_to_date",
                "at_risk_revenue_last_90d", "share_of_revenue_last_90d", "share_of_revenue_to_date"]]


# ---------------------------------------------------------------- the notebook's exports and value sections

#: The export contract of issue 8: file name -> leading columns (more may follow, never renamed).
EXPORT_COLUMNS: dict[str, list[str]] = {
    "lifecycle": ["date", "segment", "users", "share"],
    "at_risk_users": ["user_id", "segment", "last_active", "days_since_last", "typical_gap_days", "revenue_to_date"],
    "value": ["granularity", "period", "active_users", "paying_users", "revenue", "arpu", "arppu"],
    "value_cohorts": ["granularity", "cohort", "period", "cohort_size", "revenue", "revenue_retention",
                      "cumulative_revenue_per_user"],
    "repurchase": ["window_days", "eligible_buyers", "repurchasers", "rate"],
}


def export_frame(name: str, *frames: pd.DataFrame | None) -> pd.DataFrame:
    """The frames stacked (e.g. months then weeks), export ``name``'s contract columns first and
    extra columns after; a header-only frame when there is none, so the CSV still exists."""
    cols = EXPORT_COLUMNS[name]
    parts = [f for f in frames if f is not None]
    if not parts:
        return pd.DataFrame(columns=cols)
    df = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return df[cols + [c for c in df.columns if c not in cols]]


def complete_value_periods(by_period: pd.DataFrame) -> pd.DataFrame:
    """The complete periods of :func:`retention_kit.value.value_by_period` output (what the ARPU
    chart draws). Raises NotEnoughDataError when no period is complete or none has a purchase."""
    gran = by_period["granularity"].iloc[0] if len(by_period) else "period"
    done = by_period[by_period["complete"]]
    if done.empty:
        raise NotEnoughDataError(f"no {gran} of the data is complete yet, so there is no ARPU to draw")
    if not (done["paying_users"].fillna(0) > 0).any():
        raise NotEnoughDataError(f"no purchase in any complete {gran}, so there is no revenue per user to draw")
    return done


def observed_repurchase(rates: pd.DataFrame) -> pd.DataFrame:
    """:func:`retention_kit.value.repurchase` output, or NotEnoughDataError when no buyer is
    eligible for any window (no purchase, or every first purchase too close to the end)."""
    if not (rates["eligible_buyers"] > 0).any():
        raise NotEnoughDataError(f"no buyer made a first purchase at least {rates['window_days'].min()} days before "
                                 "the end of the data, so no repurchase rate can be measured")
    return rates


def observed_cohorts(cohorts: pd.DataFrame) -> pd.DataFrame:
    """:func:`retention_kit.value.cohort_revenue` output, or NotEnoughDataError when no cohort has
    a complete period with revenue (the charts would be empty)."""
    gran = cohorts["granularity"].iloc[0] if len(cohorts) else "period"
    done = cohorts[cohorts["complete"]]
    if done.empty:
        raise NotEnoughDataError(f"no cohort has a complete {gran} yet")
    if not done["revenue_retention"].notna().any():
        raise NotEnoughDataError(f"no cohort has revenue in its first complete {gran}, so revenue retention is undefined")
    return cohorts
