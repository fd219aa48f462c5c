"""A plain pandas implementation of the stickiness tables, as an analyst would write it: read the
log into memory, then DAU/WAU/MAU (28 days), the monthly power-user curve, monthly growth
accounting and weekly cohort retention. It uses the same trailing-window trick as the kit (no
window-by-window join) so the comparison is about the engine, not the algorithm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _trailing(ud: pd.DataFrame, days: pd.DatetimeIndex, window: int) -> pd.Series:
    # each active day keeps the user counted until day + window or their next active day
    nxt = ud.groupby("user_id")["day"].shift(-1)
    end = (ud["day"] + pd.Timedelta(days=window)).where(nxt.isna() | (nxt > ud["day"] + pd.Timedelta(days=window)), nxt)
    delta = pd.concat([pd.Series(1, index=ud["day"].values), pd.Series(-1, index=end.values)]).groupby(level=0).sum()
    return delta.reindex(days.union(delta.index), fill_value=0).cumsum().reindex(days)


def stickiness_tables(source: Path | str, *, exclude: tuple[str, ...] = ("push_sent",)) -> dict[str, pd.DataFrame]:
    df = pd.read_parquet(source, columns=["user_id", "timestamp", "event"])
    df = df[~df["event"].isin(exclude)]
    ud = pd.DataFrame({"user_id": df["user_id"], "day": df["timestamp"].dt.normalize()}).drop_duplicates()
    ud = ud.sort_values(["user_id", "day"], kind="stable").reset_index(drop=True)
    days = pd.date_range(ud["day"].min(), ud["day"].max(), freq="D")

    dau = ud.groupby("day").size().reindex(days, fill_value=0)
    wau, mau = _trailing(ud, days, 7), _trailing(ud, days, 28)
    active = pd.DataFrame({"date": days, "dau": dau.values, "wau": wau.values, "mau": mau.values}).iloc[27:]
    active = active.assign(dau_mau=active.dau / active.mau, wau_mau=active.wau / active.mau)

    month = ud["day"].dt.to_period("M")
    last = ud["day"].max()
    complete = [m for m in month.unique() if m.end_time.normalize() <= last and m.start_time >= ud["day"].min()]
    per = ud.assign(month=month).groupby(["month", "user_id"]).size().rename("active_days").reset_index()
    per = per[per["month"].isin(complete)]
    curve = per.groupby(["month", "active_days"]).size().rename("users").reset_index()
    curve["share"] = curve["users"] / curve.groupby("month")["users"].transform("sum")

    um = ud.assign(month=month)[["user_id", "month"]].drop_duplicates()
    m = um["month"].astype("int64")
    first = m.groupby(um["user_id"]).transform("min")
    prev = pd.MultiIndex.from_arrays([um["user_id"], m + 1])
    had_prev = pd.MultiIndex.from_arrays([um["user_id"], m]).isin(prev)
    g = pd.DataFrame({"active": m.groupby(m).size(), "new": (m == first).groupby(m).sum(),
                      "retained": pd.Series(had_prev, index=um.index).groupby(m).sum()})
    g["resurrected"] = g["active"] - g["new"] - g["retained"]
    g["churned"] = (g["active"].shift(1) - g["retained"]).fillna(0)
    g["quick_ratio"] = (g["new"] + g["resurrected"]) / g["churned"].replace(0, np.nan)
    # a month not wholly inside the data range is not reported (the kit's definition)
    months = pd.PeriodIndex.from_ordinals(g.index.to_numpy(), freq="M")
    g = g[(months.end_time.normalize() <= last) & (months.start_time >= ud["day"].min())]

    week = ud["day"] - pd.to_timedelta(ud["day"].dt.day_of_week, unit="D")
    uw = pd.DataFrame({"user_id": ud["user_id"], "week": week}).drop_duplicates()
    uw["cohort"] = uw.groupby("user_id")["week"].transform("min")
    uw["period"] = (uw["week"] - uw["cohort"]).dt.days // 7
    size = uw[uw["period"] == 0].groupby("cohort").size()
    ret = uw.groupby(["cohort", "period"]).size().rename("active").reset_index()
    ret["cohort_size"] = ret["cohort"].map(size)
    # only cells whose week lies wholly inside the data range
    cell_week = ret["cohort"] + pd.to_timedelta(ret["period"] * 7, unit="D")
    ret = ret[(cell_week + pd.Timedelta(days=6) <= last) & (cell_week >= ud["day"].min())]
    ret["retention"] = ret["active"] / ret["cohort_size"]
    return {"active_users": active, "power_user_curve": curve, "growth_accounting": g.reset_index(), "retention": ret}
