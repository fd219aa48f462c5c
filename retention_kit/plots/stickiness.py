"""Plots of the stickiness family: active users and ratios, power-user curves and trailing
activity, growth accounting, the retention triangle and average curve (days, weeks, months),
bracket retention, usage cadence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from ..core import i18n
from ..core.i18n import t
from .common import finish, new_ax, percent_axis

__all__ = [
    "active_users",
    "stickiness_ratios",
    "power_user_curve",
    "power_user_curve_by_cohort",
    "trailing_power_user_curve",
    "trailing_activity",
    "growth_accounting",
    "retention_heatmap",
    "average_retention",
    "retention_brackets",
    "cadence",
]

_GRANS = ("day", "week", "month")


def _period(ts: object, gran: str) -> str:
    """A period's start as a tick label: days and weeks as dates, months short ('Jan 2024', '2024年1月')."""
    return _month(ts) if gran == "month" else f"{pd.Timestamp(ts):%Y-%m-%d}"


def _month(ts: object) -> str:
    day = pd.Timestamp(ts)
    return f"{day:%b %Y}" if i18n.current() == "en" else i18n.month_year(day.date())


def _gran(gran: str) -> str:
    """The message suffix of a granularity (other values read as periods)."""
    return gran if gran in _GRANS else "period"


_COLORS = {"dau": "#2b6cb0", "wau": "#dd6b20", "mau": "#38a169", "new": "#3182ce", "retained": "#38a169",
           "resurrected": "#d69e2e", "churned": "#e53e3e"}


def active_users(data: pd.DataFrame, *, mau_window: int = 28, ax: Axes | None = None) -> Axes:
    """DAU, WAU and MAU per day (three lines; WAU and MAU start where their window is complete)."""
    ax = new_ax(ax)
    shown = []
    for c, label, word in (("mau", t("stickiness.plot.active.mau", window=mau_window), "monthly"),
                           ("wau", t("stickiness.plot.active.wau"), "weekly"), ("dau", "DAU", "daily")):
        y = pd.to_numeric(data[c], errors="coerce").astype("float64")
        if y.notna().any():
            ax.plot(data["date"], y, label=label, color=_COLORS[c], lw=1.2, marker="." if len(data) < 40 else None)
            shown.insert(0, word)
    ax.set_ylim(bottom=0)
    return finish(ax, title=t("stickiness.plot.active.title." + "_".join(shown)), xlabel=t("stickiness.plot.day"),
                  ylabel=t("stickiness.plot.active.y"), legend=True)


def stickiness_ratios(data: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """DAU/MAU and WAU/MAU per day, in percent."""
    ax = new_ax(ax)
    data = data[data["dau_mau"].notna() | data["wau_mau"].notna()]
    ax.plot(data["date"], data["wau_mau"], label="WAU/MAU", color=_COLORS["wau"], lw=1.2)
    ax.plot(data["date"], data["dau_mau"], label="DAU/MAU", color=_COLORS["dau"], lw=1.2)
    ax.set_ylim(0, max(0.05, float(np.nanmax(data[["wau_mau", "dau_mau"]].to_numpy(dtype=float), initial=0)) * 1.1))
    percent_axis(ax)
    return finish(ax, title=t("stickiness.plot.ratios.title"), xlabel=t("stickiness.plot.day"),
                  ylabel=t("stickiness.plot.ratios.y"), legend=True)


def power_user_curve(data: pd.DataFrame, *, months: int = 6, ax: Axes | None = None) -> Axes:
    """The latest complete month's L-curve (bars) against earlier months (faded lines)."""
    ax = new_ax(ax)
    shown = sorted(data["month"].unique())[-months:]
    latest = shown[-1]
    cur = data[data["month"] == latest]
    ax.bar(cur["active_days"], cur["share"], color="#2b6cb0", alpha=0.85, label=_month(latest))
    for i, m in enumerate(shown[:-1]):
        d = data[data["month"] == m]
        ax.plot(d["active_days"], d["share"], color="0.3", alpha=0.25 + 0.5 * (i + 1) / len(shown), lw=1,
                label=_month(m))
    percent_axis(ax)
    ax.set_xlim(0.4, float(data["active_days"].max()) + 0.6)
    return finish(ax, title=t("stickiness.plot.curve.title"), xlabel=t("stickiness.plot.curve.x"),
                  ylabel=t("stickiness.plot.curve.y"), legend=True)


def power_user_curve_by_cohort(data: pd.DataFrame, *, cohorts: int = 6, ax: Axes | None = None) -> Axes:
    """One month's L-curve, one line per signup cohort (the latest ``cohorts`` cohorts)."""
    ax = new_ax(ax)
    shown = sorted(data["cohort"].unique())[-cohorts:]
    palette = sns.color_palette("crest", len(shown))
    for color, c in zip(palette, shown):
        d = data[data["cohort"] == c]
        ax.plot(d["active_days"], d["share"], color=color, lw=1.4, marker=".",
                label=t("stickiness.plot.cohort_curve.label", cohort=_month(c), users=i18n.num(int(d["users"].sum()))))
    percent_axis(ax)
    month = pd.Timestamp(data["month"].iloc[0]) if len(data) else None
    title = (t("stickiness.plot.cohort_curve.title.month", month=i18n.month_year(month.date())) if month is not None
             else t("stickiness.plot.cohort_curve.title"))
    return finish(ax, title=title, xlabel=t("stickiness.plot.curve.x"), ylabel=t("stickiness.plot.cohort_curve.y"),
                  legend=True)


def trailing_power_user_curve(data: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Trailing L7 or L28 curve as of the last day (bars)."""
    ax = new_ax(ax)
    n = int(data["window_days"].iloc[0])
    ax.bar(data["active_days"], data["share"], color="#2b6cb0")
    percent_axis(ax)
    as_of = pd.Timestamp(data["as_of"].iloc[0])
    return finish(ax, title=t("stickiness.plot.trailing.title", n=n, as_of=f"{as_of:%Y-%m-%d}"),
                  xlabel=t("stickiness.plot.trailing.x", n=n), ylabel=t("stickiness.plot.trailing.y"))


def trailing_activity(data: pd.DataFrame, *, days: int, ax: Axes | None = None) -> Axes:
    """One window of the trailing activity table (``days`` = 7 for L7): users by active days (bars)."""
    d = data[data["days"] == days].rename(columns={"days": "window_days"})
    return trailing_power_user_curve(d, ax=ax)


def growth_accounting(data: pd.DataFrame, *, periods: int = 12, ax: Axes | None = None) -> Axes:
    """Stacked bars of new, retained and resurrected users above zero, churned below zero, and the
    quick ratio on a second axis."""
    ax = new_ax(ax)
    d = data.tail(periods).reset_index(drop=True)
    x = np.arange(len(d))
    bottom = np.zeros(len(d))
    for c in ("retained", "resurrected", "new"):
        ax.bar(x, d[c], bottom=bottom, color=_COLORS[c], label=t(f"stickiness.plot.growth.{c}"))
        bottom += d[c].to_numpy()
    ax.bar(x, -d["churned"], color=_COLORS["churned"], label=t("stickiness.plot.growth.churned"))
    ax.axhline(0, color="0.2", lw=0.8)
    gran = str(d["granularity"].iloc[0]) if len(d) else "period"
    ax.set_xticks(x, [_period(p, gran) for p in d["period"]], rotation=45, ha="right")
    ax2 = ax.twinx()
    ax2.plot(x, d["quick_ratio"], color="0.15", marker="o", lw=1.5, label=t("stickiness.plot.growth.quick_ratio"))
    ax2.axhline(1, color="0.4", lw=0.8, ls="--")
    ax2.set_ylabel(t("stickiness.plot.growth.quick_ratio.y"))
    ax2.grid(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.3 * (hi - lo))  # headroom so the legend does not cover the bars
    ax2.set_ylim(0, (ax2.get_ylim()[1] or 1) * 1.3)
    ax.legend(h1 + h2, l1 + l2, frameon=False, fontsize="small", loc="upper left", ncol=5)
    return finish(ax, title=t(f"stickiness.plot.growth.title.{_gran(gran)}"),
                  xlabel=t(f"stickiness.plot.growth.x.{_gran(gran)}"), ylabel=t("stickiness.plot.growth.y"))


def retention_heatmap(cells: pd.DataFrame, *, cohorts: int = 12, periods: int = 12, ax: Axes | None = None) -> Axes:
    """Retention triangle (latest ``cohorts`` cohorts x periods 0..``periods``); incomplete cells
    are left empty."""
    d = cells[cells["period"] <= periods]
    keep = sorted(d["cohort"].unique())[-cohorts:]
    d = d[d["cohort"].isin(keep)]
    gran = str(cells["granularity"].iloc[0]) if len(cells) else "period"
    mode = str(cells["mode"].iloc[0]) if len(cells) else "on"
    table = d.pivot(index="cohort", columns="period", values="retention").reindex(columns=range(0, periods + 1))
    sizes = d.groupby("cohort")["cohort_size"].first()
    table.index = [f"{_period(c, gran)} (n={i18n.num(int(sizes[c]))})" for c in table.index]
    ax = new_ax(ax, figsize=(min(14, 2.5 + 0.75 * (periods + 1)), max(3.0, 0.38 * len(table) + 1.5)))
    annot = table.map(lambda v: "" if pd.isna(v) else i18n.pct(v))
    sns.heatmap(table, ax=ax, cmap="crest", vmin=0, vmax=max(0.05, float(np.nanmax(table.iloc[:, 1:].to_numpy(dtype=float), initial=0))),
                annot=annot, fmt="", cbar_kws={"label": t("stickiness.plot.retention.y"),
                          "format": FuncFormatter(lambda v, _: i18n.pct(v))},
                linewidths=0.5, linecolor="white", annot_kws={"size": 8})
    g = _gran(gran)
    return finish(ax, title=t(f"stickiness.plot.heatmap.title.{g}.{'on' if mode == 'on' else 'on_or_after'}"),
                  xlabel=t(f"stickiness.plot.heatmap.x.{g}"), ylabel=t(f"stickiness.plot.heatmap.y.{g}"))


def average_retention(avg: pd.DataFrame, *, granularity: str = "week", label: str | None = None,
                      ax: Axes | None = None) -> Axes:
    """The weighted average retention curve with its 95% Wilson band (``label``: the curve's legend,
    default "weighted average" in the report language)."""
    ax = new_ax(ax)
    label = t("stickiness.plot.average.label") if label is None else label
    ax.fill_between(avg["period"], avg["ci_low"], avg["ci_high"], color="#2b6cb0", alpha=0.2,
                    label=t("stickiness.plot.interval"))
    ax.plot(avg["period"], avg["retention"], color="#2b6cb0", marker="o" if len(avg) <= 40 else ".", lw=1.6, label=label)
    ax.set_ylim(0, 1.02)
    percent_axis(ax)
    g = _gran(granularity)
    return finish(ax, title=t(f"stickiness.plot.average.title.{g}"), xlabel=t(f"stickiness.plot.average.x.{g}"),
                  ylabel=t("stickiness.plot.retention.y"), legend=True)


def retention_brackets(avg: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Pooled bracket retention (one granularity of :func:`retention_kit.analyses.stickiness.average_brackets`):
    a bar per bracket with its 95% Wilson interval."""
    ax = new_ax(ax)
    x = np.arange(len(avg))
    r = avg["retention"].to_numpy(dtype=float)
    err = np.vstack([r - avg["ci_low"].to_numpy(dtype=float), avg["ci_high"].to_numpy(dtype=float) - r])
    ax.bar(x, r, color="#2b6cb0", yerr=err, capsize=4, ecolor="0.3")
    ax.set_xticks(x, [t("stickiness.plot.brackets.days", bracket=b) if a != z else t("stickiness.plot.brackets.day", day=a)
                      for b, a, z in zip(avg["bracket"], avg["first_day"], avg["last_day"])])
    ax.set_ylim(0, max(0.05, float(np.nanmax(avg["ci_high"].to_numpy(dtype=float), initial=0)) * 1.15))
    percent_axis(ax)
    gran = str(avg["granularity"].iloc[0]) if len(avg) else "day"
    return finish(ax, title=t(f"stickiness.plot.brackets.title.{_gran(gran)}"), xlabel=t("stickiness.plot.brackets.x"),
                  ylabel=t("stickiness.plot.brackets.y"))


def cadence(dist: pd.DataFrame, *, typical_gap: float | None = None, ax: Axes | None = None) -> Axes:
    """Histogram of users' median gap between active days (share of users per whole day)."""
    ax = new_ax(ax)
    cap = int(dist["gap_days"].max())
    ax.bar(dist["gap_days"], dist["share"], color="#2b6cb0", width=0.9)
    for x, lab in ((1, t("stickiness.cadence.kind.daily")), (7, t("stickiness.cadence.kind.weekly")),
                   (30, t("stickiness.cadence.kind.monthly"))):
        if x <= cap:
            ax.axvline(x, color="0.5", lw=0.8, ls=":")
            ax.annotate(lab, (x, 1), xycoords=("data", "axes fraction"), ha="left", va="top", fontsize=8, color="0.35")
    if typical_gap is not None and np.isfinite(typical_gap):
        ax.axvline(min(typical_gap, cap), color="#e53e3e", lw=1.2, label=t("stickiness.plot.cadence.typical", gap=f"{typical_gap:g}"))
        ax.legend(frameon=False)
    percent_axis(ax)
    return finish(ax, title=t("stickiness.plot.cadence.title"), xlabel=t("stickiness.plot.cadence.x", cap=cap),
                  ylabel=t("stickiness.plot.cadence.y"))

