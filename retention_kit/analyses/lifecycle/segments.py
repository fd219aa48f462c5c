"""Lifecycle segments (new, active, silent, churned) from each user's rhythm.

Definitions (calendar days in the product's timezone; D is the "as of" day):

- **Thresholds** (:func:`thresholds`), always ``new_days < silent_days < churned_days``: given in
  ``lifecycle``, or derived: for a purchase product from the gaps between repeat purchases of the
  customers who came back (half the median, the median, the 90th percentile); otherwise from
  ``cadence`` = the 80th percentile of users' median gaps between active days
  (:meth:`retention_kit.data.EventLog.user_cadence`): cadence, 2 x cadence, 4 x cadence.
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

Users at risk are in :mod:`.at_risk`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pandas as pd

from ...core.i18n import num, t
from ...core.periods import day_index, period_end, period_index_py
from ...core.portable import indexed
from ...data.engine import fetch
from ...data.log import EventLog
from ...errors import NotEnoughDataError, ParamsError
from .value import has_revenue, purchase_days

if TYPE_CHECKING:  # the breakdown calls back into this module: no import at run time
    from ..segments.assign import Segments

__all__ = ["SEGMENTS", "NOT_STARTED", "Thresholds", "thresholds", "is_purchase_product", "segments_at", "snapshot_dates",
           "snapshots", "flows"]

SEGMENTS = ("new", "active", "silent", "churned")
NOT_STARTED = "(not started)"


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Lifecycle thresholds in days, with where they came from.

    ``derived`` names the thresholds taken from the data (the others were given). ``basis`` says
    from what: ``"activity"`` (users' median gaps between active days: ``cadence_p80`` unrounded,
    ``cadence_days`` rounded) or ``"purchases"`` (the gaps between repeat purchases of the
    ``basis_users`` customers who bought again: ``gap_median`` and ``gap_p90``).
    """

    new_days: int
    silent_days: int
    churned_days: int
    cadence_p80: float | None = None
    cadence_days: int | None = None
    derived: tuple[str, ...] = ()
    basis: str = "activity"
    basis_users: int | None = None
    gap_median: float | None = None
    gap_p90: float | None = None

    def describe(self) -> str:
        """The thresholds in force, in sentences for the report (the report language)."""
        basis = "purchases" if self.basis == "purchases" else "activity"
        base = t(f"lifecycle.thresholds.{basis}", new=self.new_days, silent=self.silent_days,
                 silent_end=self.churned_days - 1, churned=self.churned_days)
        if not self.derived:
            return base
        names = t("lifecycle.list_separator").join(self.derived)
        if self.basis == "purchases" and self.gap_median is not None and self.gap_p90 is not None:
            return base + t("lifecycle.thresholds.derived.purchases", names=names, n=num(self.basis_users),
                            median=num(self.gap_median), p90=num(self.gap_p90))
        if self.cadence_p80 is not None:
            return base + t("lifecycle.thresholds.derived.activity", names=names, p80=num(self.cadence_p80, 1),
                            days=self.cadence_days)
        return base


def _half_up(x: float) -> int:
    return math.floor(x + 0.5)


def is_purchase_product(log: EventLog) -> bool:
    """Whether activity *is* buying: the log has revenue and every event that counts as activity
    is a purchase event (``data.purchase_events``, or by default every event carrying money).

    Examples
    --------
    >>> is_purchase_product(log)  # a notes app: opening the app is activity, not a purchase
    False
    """
    if not has_revenue(log):
        return False
    p = log.params
    d = log.daily
    active = set(p.active_events) if p.active_events is not None else set(d.select("event").distinct().execute()["event"])
    if p.purchase_events is not None:
        buys = set(p.purchase_events)
    else:
        m = log.revenue_rows()
        buys = set(m.select("event").distinct().execute()["event"])
    return active <= buys


def _from_activity(log: EventLog, quantile: float) -> dict[str, object]:
    c = log.user_cadence()
    c = c.filter(c.median_gap.notnull())
    row = fetch(c.aggregate(q=c.median_gap.quantile(quantile), n=c.count())).iloc[0]
    if not row["n"] or pd.isna(row["q"]):
        raise NotEnoughDataError("no user has two active days, so the usage cadence is unknown; "
                                 "set lifecycle.silent_days, churned_days and new_days")
    p80 = float(row["q"])
    cad = max(1, _half_up(p80))
    return {"new_days": cad, "silent_days": 2 * cad, "churned_days": 4 * cad, "cadence_p80": p80,
            "cadence_days": cad, "basis": "activity", "basis_users": int(row["n"])}


def _from_purchases(log: EventLog) -> dict[str, object]:
    p = purchase_days(log)
    p = p.mutate(di=day_index(p.day))
    g = p.mutate(gap=(p.di - p.di.lag().over(ibis.window(group_by="user_id", order_by="di"))).cast("float64"))
    g = g.filter(g.gap.notnull())
    row = fetch(g.aggregate(median=g.gap.median(), p90=g.gap.quantile(0.9), customers=g.user_id.nunique())).iloc[0]
    if pd.isna(row["median"]):
        raise NotEnoughDataError("no customer bought on two different days, so the purchase cadence is unknown; "
                                 "set lifecycle.silent_days, churned_days and new_days")
    median, p90 = float(row["median"]), float(row["p90"])
    silent = max(2, _half_up(median))
    return {"new_days": max(1, _half_up(median / 2)), "silent_days": silent,
            "churned_days": max(silent + 1, _half_up(p90)), "gap_median": median, "gap_p90": p90,
            "basis": "purchases", "basis_users": int(row["customers"])}


def _check_order(values: dict[str, int], given: set[str]) -> None:
    order = ["new_days", "silent_days", "churned_days"]
    for lo, hi in zip(order, order[1:]):
        if values[lo] >= values[hi]:
            which = " and ".join(f"lifecycle.{k} ({values[k]})" for k in (lo, hi))
            how = "given" if {lo, hi} <= given else "given and derived"
            raise ParamsError(f"{which}, {how}, break new_days < silent_days < churned_days; "
                              f"set lifecycle.{hi} above lifecycle.{lo}")


def thresholds(log: EventLog, *, new_days: int | None = None, silent_days: int | None = None,
               churned_days: int | None = None, quantile: float = 0.8) -> Thresholds:
    """Lifecycle thresholds: the given ones, the rest derived from the data; always
    ``new_days < silent_days < churned_days``.

    Derivation:

    - **Purchase products** (:func:`is_purchase_product`: activity is buying): from the gaps, in
      days, between consecutive purchase days of the customers who bought on two or more days
      (those who did come back; one-time buyers have no gap): ``silent_days`` = the median gap
      (rounded half up, at least 2), ``churned_days`` = its 90th percentile (at least silent + 1;
      90% of repeat purchases come within it, so a customer without a purchase for that long is
      unlikely to return), ``new_days`` = half the median.
    - **Other products**: ``cadence`` = ``quantile`` (default 0.8) of users' median gaps between
      active days, rounded half up, at least 1 day; new = cadence, silent = 2 x cadence,
      churned = 4 x cadence.

    A derived threshold yields to the given ones so that the order holds: a derived new_days
    at or above silent_days becomes half of it, a derived silent_days at or above churned_days
    half of that, a derived churned_days at or below silent_days twice it (and silent_days twice
    a given new_days). Given thresholds that break the order are a :class:`ParamsError`.

    Raises
    ------
    ParamsError
        The given thresholds (or a given one against what can be derived) break the order.
    NotEnoughDataError
        Nobody has two active (or purchase) days to derive from, and a threshold was not given.

    Examples
    --------
    >>> th = thresholds(log)
    >>> th.basis, th.silent_days == 2 * th.cadence_days, th.churned_days == 4 * th.cadence_days
    ('activity', True, True)
    >>> thresholds(log, silent_days=30).churned_days  # a derived 20 would not exceed 30: twice 30
    60
    >>> thresholds(log, silent_days=3, churned_days=20).new_days  # a derived 5 would not stay below 3
    1
    """
    given = {k: v for k, v in (("new_days", new_days), ("silent_days", silent_days), ("churned_days", churned_days))
             if v is not None}
    if len(given) == 3:
        _check_order(given, set(given))
        return Thresholds(int(new_days), int(silent_days), int(churned_days))  # type: ignore[arg-type]
    base = _from_purchases(log) if is_purchase_product(log) else _from_activity(log, quantile)
    v = {k: int(given.get(k, base[k])) for k in ("new_days", "silent_days", "churned_days")}  # type: ignore[call-overload]
    derived = tuple(k for k in ("silent_days", "churned_days", "new_days") if k not in given)
    if "silent_days" not in given:
        if "new_days" in given and v["silent_days"] <= v["new_days"]:
            v["silent_days"] = 2 * v["new_days"]
        if "churned_days" in given and v["silent_days"] >= v["churned_days"]:
            v["silent_days"] = max(1, v["churned_days"] // 2)
    if "churned_days" not in given and v["churned_days"] <= v["silent_days"]:
        v["churned_days"] = 2 * v["silent_days"]
    if "new_days" not in given and v["new_days"] >= v["silent_days"]:
        v["new_days"] = max(1, v["silent_days"] // 2)
    _check_order(v, set(given))
    extra = {k: base[k] for k in ("cadence_p80", "cadence_days", "gap_median", "gap_p90", "basis", "basis_users")
             if k in base}
    return Thresholds(v["new_days"], v["silent_days"], v["churned_days"], derived=derived, **extra)  # type: ignore[arg-type]


def _segment_expr(age: ir.IntegerValue, since: ir.IntegerValue, was_active: ir.BooleanValue,
                  thr: Thresholds) -> ir.StringValue:
    # "active" means active within the silent threshold: a signup who never used the product is
    # not active however recent the signup, only new, then silent, then churned
    return (ibis.cases((age < thr.new_days, "new"), (was_active & (since < thr.silent_days), "active"),
                       (since < thr.churned_days, "silent"), else_="churned"))


def _segments(log: EventLog, dates: list[dt.date], thr: Thresholds) -> ir.Table:
    """Engine table (cached per log, dates and thresholds): one row per (user, snapshot) of users
    started by then: ``user_id``, ``k`` (snapshot ordinal), ``date``, ``start_day``, ``ref_day``,
    ``was_active`` (an active day on or before the date), ``days_since``, ``segment``."""
    return log.memoized(("lifecycle.segments", thr, tuple(dates)), lambda: build_segments(log, dates, thr))


def build_segments(log: EventLog, dates: list[dt.date], thr: Thresholds) -> ir.Table:
    snaps = indexed(log.daily, list(dates), name="date", type="date")
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
    >>> seg = segments_at(log, log.last_day, thresholds=thresholds(log)).execute()
    >>> sorted(seg.segment.unique())
    ['active', 'churned', 'new', 'silent']
    >>> len(seg) == seg.user_id.nunique() == log.quality.users  # everyone has started by the last day
    True
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


def snapshots(log: EventLog, *, thresholds: Thresholds, by: Segments | None = None) -> pd.DataFrame:
    """Users per lifecycle segment at each month end.

    ``share`` = users in the segment / users started by that date (all four segments). Every
    segment is listed at every date (0 when empty).

    With ``by`` (a breakdown, :func:`retention_kit.analyses.segments.segments`): the same table
    computed on each breakdown segment's users alone, with the thresholds given (the whole log's,
    so segments are judged by one rule), led by ``breakdown`` and ``segment`` (the breakdown's);
    the lifecycle stage is then ``lifecycle_segment`` (``lifecycle_by_segment.csv``).

    Returns
    -------
    DataFrame: date, segment, users, share (with ``by``: breakdown, segment, date,
    lifecycle_segment, users, share).

    Examples
    --------
    >>> snap = snapshots(log, thresholds=thresholds(log))
    >>> snap.segment.unique().tolist(), bool(snap.date.dt.is_month_end.all())
    (['new', 'active', 'silent', 'churned'], True)
    >>> bool(snap.groupby("date").share.sum().round(9).eq(1).all())
    True
    >>> from retention_kit.analyses.segments import segments
    >>> from retention_kit.data.params import BreakdownParams
    >>> snapshots(log, thresholds=thresholds(log), by=segments(log, BreakdownParams(by="plan"))).columns.tolist()
    ['breakdown', 'segment', 'date', 'lifecycle_segment', 'users', 'share']
    """
    dates = _dates(log)
    g = _segments(log, dates, thresholds)
    if by is not None:  # each breakdown segment's users alone; the stage keeps its own name
        g = by.keyed(g.rename(stage="segment"))
        df = fetch(g.group_by(["segment", "k", "stage"]).aggregate(users=g.count()))
        return by.split(lambda part: _snapshot_table(part.rename(columns={"stage": "segment"}), dates)
                        .rename(columns={"segment": "lifecycle_segment"}), df)
    return _snapshot_table(fetch(g.group_by(["k", "segment"]).aggregate(users=g.count())), dates)


def _snapshot_table(df: pd.DataFrame, dates: list) -> pd.DataFrame:
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
    >>> fl = flows(log, thresholds=thresholds(log))
    >>> "(not started)" in set(fl.from_segment)
    True
    >>> bool(fl.groupby(["date", "from_segment"]).share_of_from.sum().round(9).eq(1).all())
    True
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
