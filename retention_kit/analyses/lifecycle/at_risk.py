"""Users at risk: active or silent users who have gone quiet for longer than their own rhythm.

Definition (calendar days in the product's timezone; D is the "as of" day; segments as in
:mod:`.segments`): an active or silent user (not new) is **at risk** as of D with either

(a) at least 3 active days up to D and days_since > ``at_risk_factor`` x their median gap
    between active days up to D (strictly more), or
(b) when the log has revenue: at least 3 purchases (purchase days, :func:`.value.purchase_days`)
    up to D and days since the last purchase > 2 x their median gap between purchases: two of
    their own expected purchase intervals missed in a row.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from ...core.cadence import day_gaps
from ...core.periods import day_index
from ...data.engine import fetch
from ...data.log import EventLog
from .segments import Thresholds, build_segments
from .value import has_revenue, purchase_days
from ...core.portable import count_true

__all__ = ["MIN_ACTIVE_DAYS", "at_risk_users", "at_risk_summary"]

MIN_ACTIVE_DAYS = 3


def _gaps(days: ir.Table, prefix: str) -> ir.Table:
    """Per user from (user_id, day) rows: ``<prefix>_days``, ``<prefix>_gap`` (median days
    between consecutive days), ``<prefix>_last``."""
    g = day_gaps(days)
    return g.select("user_id", **{f"{prefix}_days": g.days, f"{prefix}_gap": g.median_gap, f"{prefix}_last": g.last_day})


def _at_risk_table(log: EventLog, thr: Thresholds, factor: float, as_of: dt.date) -> ir.Table:
    """Engine table (cached per log, thresholds, factor, day) of every active or silent user as of
    ``as_of`` with the at-risk flags."""
    return log.memoized(("lifecycle.at_risk", thr, factor, as_of), lambda: _build_at_risk(log, thr, factor, as_of))


def _build_at_risk(log: EventLog, thr: Thresholds, factor: float, as_of: dt.date) -> ir.Table:
    seg = build_segments(log, [as_of], thr).drop("k")  # the at-risk table is cached; no need to cache this too
    seg = seg.filter(seg.segment.isin(["active", "silent"]))
    asof = day_index(ibis.literal(as_of))
    if as_of >= log.last_day:
        # nothing after as_of to leave out: the shared per-user cadence is the same table
        c = log.user_cadence()
        act = c.select("user_id", act_days=c.active_days, act_gap=c.median_gap, act_last=c.last_active)
    else:
        act = _gaps(log.active_days().filter(ibis._.day <= as_of), "act")
    t = seg.left_join(act, "user_id").drop("user_id_right")
    by_activity = (t.act_days >= MIN_ACTIVE_DAYS) & (t.days_since > factor * t.act_gap)
    cols = {"by_activity": by_activity.fill_null(False)}
    if has_revenue(log):
        buy = _gaps(purchase_days(log, until=as_of).select("user_id", "day"), "buy")
        t = t.left_join(buy, "user_id").drop("user_id_right")
        by_purchase = (t.buy_days >= MIN_ACTIVE_DAYS) & ((asof - day_index(t.buy_last)) > 2 * t.buy_gap)
        d = log.revenue_rows().filter(ibis._.day <= as_of)
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
    >>> from retention_kit.analyses.lifecycle.segments import thresholds
    >>> risky = at_risk_users(log, thresholds=thresholds(log), factor=2.0)
    >>> sorted(risky.segment.unique()), sorted(risky.rule.unique())
    (['active', 'silent'], ['activity', 'purchase'])
    >>> bool(risky.user_id.is_unique), bool(risky.days_since_last.is_monotonic_decreasing)
    (True, True)
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
    >>> from retention_kit.analyses.lifecycle.segments import thresholds
    >>> th = thresholds(log)
    >>> summary = at_risk_summary(log, thresholds=th)
    >>> summary.segment.tolist()
    ['active', 'silent', 'active or silent']
    >>> int(summary.at_risk.iloc[-1]) == len(at_risk_users(log, thresholds=th))
    True
    """
    day = _as_of(log, as_of)
    t = _at_risk_table(log, thresholds, factor, day)
    df = fetch(t.group_by("segment").aggregate(
        users=t.count(), at_risk=count_true(t.at_risk),
        at_risk_revenue_to_date=t.revenue_to_date.sum(where=t.at_risk),
        at_risk_revenue_last_90d=t.revenue_last_90d.sum(where=t.at_risk)))
    out = pd.DataFrame({"segment": ["active", "silent"]}).merge(df, on="segment", how="left")
    out = out.fillna({"users": 0, "at_risk": 0}).astype({"users": "int64", "at_risk": "int64"})
    total = out.drop(columns="segment").sum(min_count=1)
    out = pd.concat([out, pd.DataFrame([{"segment": "active or silent", **total.to_dict()}])], ignore_index=True)
    out = out.astype({"users": "int64", "at_risk": "int64"})
    out["share_at_risk"] = out["at_risk"] / out["users"].where(out["users"] > 0)
    if has_revenue(log):
        d = log.revenue_rows()
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
