"""Plots of the lifecycle and value report: segments, flows between them, users at risk, and
customer value (ARPU/ARPPU over time, revenue retention and cumulative revenue per user by
cohort age)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from ..core.i18n import catalog, num, pct, t
from .common import finish, new_ax, percent_axis

__all__ = ["segment_snapshots", "flow_matrix", "flows_over_time", "at_risk_by_segment", "SEGMENT_COLOURS",
           "arpu", "revenue_retention", "cumulative_revenue"]

SEGMENT_COLOURS = {"new": "#63b3ed", "active": "#2f855a", "silent": "#d69e2e", "churned": "#a0aec0"}
_ORDER = ["new", "active", "silent", "churned"]


def _seg(segment: str) -> str:
    """A segment (new, active, silent, churned, (not started)) in the report language."""
    key = f"lifecycle.segment.{segment}"
    return t(key) if key in catalog("en") else segment


def _gran(granularity: str) -> str:
    return granularity if granularity in ("week", "month") else "period"


def segment_snapshots(data: pd.DataFrame, *, share: bool = True, ax: Axes | None = None) -> Axes:
    """Stacked bars of users per lifecycle segment at each month end (``snapshots`` output)."""
    ax = new_ax(ax)
    col = "share" if share else "users"
    wide = data.pivot(index="date", columns="segment", values=col).reindex(columns=_ORDER).fillna(0)
    labels = [f"{d:%Y-%m}" for d in wide.index]
    bottom = np.zeros(len(wide))
    for seg in _ORDER:
        ax.bar(labels, wide[seg].to_numpy(), bottom=bottom, label=_seg(seg), color=SEGMENT_COLOURS[seg], width=0.8)
        bottom += wide[seg].to_numpy()
    if share:
        percent_axis(ax)
        ax.set_ylim(0, 1)
    if len(labels) > 14:
        step = int(np.ceil(len(labels) / 14))
        ax.set_xticks(range(0, len(labels), step), labels[::step])
    ax.tick_params(axis="x", rotation=45)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return finish(ax, title=t("lifecycle.plot.segments.title"), xlabel=t("lifecycle.plot.month_end"),
                  ylabel=t("lifecycle.plot.segments.share") if share else t("lifecycle.plot.users"))


def flow_matrix(data: pd.DataFrame, *, date: pd.Timestamp | None = None, ax: Axes | None = None) -> Axes:
    """Heatmap of moves between segments into one month end (default: the latest); cells show
    users, colour the share of the row's segment (``flows`` output)."""
    ax = new_ax(ax, figsize=(7, 4.2))
    date = data["date"].max() if date is None else pd.Timestamp(date)
    d = data[data["date"] == date]
    rows = [r for r in ["(not started)", *_ORDER] if r in set(d["from_segment"])]
    users = d.pivot(index="from_segment", columns="to_segment", values="users").reindex(index=rows, columns=_ORDER).fillna(0)
    share = d.pivot(index="from_segment", columns="to_segment", values="share_of_from").reindex(index=rows, columns=_ORDER).fillna(0)
    sns.heatmap(share.rename(index=_seg, columns=_seg), annot=users.astype(int), fmt=",d", cmap="Blues", vmin=0, vmax=1,
                ax=ax, cbar_kws={"label": t("lifecycle.plot.flows.colour")})
    cbar = ax.collections[0].colorbar
    cbar.set_ticks([0, 0.25, 0.5, 0.75, 1.0], labels=[pct(v) for v in (0, 0.25, 0.5, 0.75, 1.0)])
    ax.tick_params(axis="y", rotation=0)
    ax.grid(False)
    return finish(ax, title=t("lifecycle.plot.flows.title", day=f"{date:%Y-%m-%d}"),
                  xlabel=t("lifecycle.plot.flows.x"), ylabel=t("lifecycle.plot.flows.y"))


def flows_over_time(data: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Monthly counts of the moves that matter: active to silent or churned, silent to churned,
    and back to active from silent or churned (``flows`` output)."""
    ax = new_ax(ax)
    moves = [("active", "silent", "#d69e2e"), ("active", "churned", "#c53030"), ("silent", "churned", "#718096"),
             ("silent", "active", "#38a169"), ("churned", "active", "#3182ce")]
    for src, dst, colour in moves:
        s = data[(data["from_segment"] == src) & (data["to_segment"] == dst)].set_index("date")["users"]
        s = s.reindex(sorted(data["date"].unique()), fill_value=0)
        ax.plot(s.index, s.to_numpy(), marker="o", ms=3, label=t("lifecycle.plot.move", src=_seg(src), dst=_seg(dst)),
                color=colour)
    ax.tick_params(axis="x", rotation=30)
    # beside the chart: inside it, the legend sat on the lines
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return finish(ax, title=t("lifecycle.plot.moves.title"), xlabel=t("lifecycle.plot.month_end"),
                  ylabel=t("lifecycle.plot.moves.y"))


def at_risk_by_segment(data: pd.DataFrame, *, value: bool = False, currency: str = "", ax: Axes | None = None) -> Axes:
    """Bars per segment: users at risk and not at risk, or (``value``) the at-risk users' revenue
    in the last 90 days (``at_risk_summary`` output)."""
    ax = new_ax(ax, figsize=(7, 3.6))
    d = data[data["segment"].isin(["active", "silent"])]
    names = [_seg(x) for x in d["segment"]]
    if value:
        ax.bar(names, d["at_risk_revenue_last_90d"], color="#c05621")
        return finish(ax, title=t("lifecycle.plot.at_risk.value.title"), xlabel=t("lifecycle.plot.segment"),
                      ylabel=t("lifecycle.plot.at_risk.value.y", unit=_unit(currency)))
    ax.bar(names, d["at_risk"], color="#c05621", label=t("lifecycle.plot.at_risk.yes"))
    ax.bar(names, d["users"] - d["at_risk"], bottom=d["at_risk"], color="#cbd5e0", label=t("lifecycle.plot.at_risk.no"))
    return finish(ax, title=t("lifecycle.plot.at_risk.title"), xlabel=t("lifecycle.plot.segment"),
                  ylabel=t("lifecycle.plot.users"), legend=True)


def _unit(currency: str) -> str:
    return t("lifecycle.plot.unit", currency=currency or t("lifecycle.plot.currency_units"))


def arpu(data: pd.DataFrame, *, currency: str = "", ax: Axes | None = None) -> Axes:
    """ARPU and ARPPU per period (``value_by_period`` output; incomplete periods left out)."""
    ax = new_ax(ax)
    d = data[data["complete"]]
    gran = data["granularity"].iloc[0] if len(data) else "period"
    ax.plot(d["period"], d["arpu"], marker="o", ms=3, label=t("lifecycle.plot.arpu"), color="#2b6cb0")
    ax.plot(d["period"], d["arppu"], marker="o", ms=3, label=t("lifecycle.plot.arppu"), color="#c05621")
    ax.tick_params(axis="x", rotation=30)
    return finish(ax, title=t(f"lifecycle.plot.arpu.title.{_gran(gran)}"), xlabel=t(f"lifecycle.plot.first_day.{_gran(gran)}"),
                  ylabel=t("lifecycle.plot.arpu.y", unit=_unit(currency)), legend=True)


def revenue_retention(data: pd.DataFrame, *, max_age: int = 12, ax: Axes | None = None) -> Axes:
    """Heatmap: cohort revenue in period k as a percent of its period 0 (``cohort_revenue``
    output); empty cells are not yet observed."""
    d = data[data["period"] <= max_age]
    gran = data["granularity"].iloc[0] if len(data) else "period"
    fmt = "%Y-%m-%d" if gran == "week" else "%Y-%m"
    wide = d.pivot(index="cohort", columns="period", values="revenue_retention")
    wide.index = [f"{c:{fmt}}" for c in wide.index]
    ax = new_ax(ax, figsize=(10, max(3.5, 0.32 * len(wide) + 1.5)))
    sns.heatmap(wide * 100, annot=len(wide.columns) <= 13, fmt=".0f", cmap="YlGnBu", vmin=0, vmax=150, ax=ax,
                cbar_kws={"label": t("lifecycle.plot.revenue_retention.colour")}, annot_kws={"size": 7})
    ax.tick_params(axis="y", rotation=0)
    ax.grid(False)
    return finish(ax, title=t("lifecycle.plot.revenue_retention.title"), xlabel=t(f"lifecycle.plot.age.{_gran(gran)}"),
                  ylabel=t(f"lifecycle.plot.cohort_of.{_gran(gran)}"))


def cumulative_revenue(data: pd.DataFrame, *, currency: str = "", max_cohorts: int = 12, ax: Axes | None = None) -> Axes:
    """Observed cumulative revenue per user by cohort age, one line per cohort (up to
    ``max_cohorts``, evenly spaced over time when there are more); lines stop where the data ends."""
    ax = new_ax(ax)
    d = data.dropna(subset=["cumulative_revenue_per_user"])
    gran = data["granularity"].iloc[0] if len(data) else "period"
    fmt = "%Y-%m-%d" if gran == "week" else "%Y-%m"
    cohorts = sorted(d["cohort"].unique())
    if len(cohorts) > max_cohorts:
        step = len(cohorts) / max_cohorts
        cohorts = [cohorts[int(i * step)] for i in range(max_cohorts)]
    palette = sns.color_palette("crest", len(cohorts))
    for colour, c in zip(palette, cohorts):
        s = d[d["cohort"] == c]
        ax.plot(s["period"], s["cumulative_revenue_per_user"], color=colour, lw=1.4, marker="o", ms=2,
                label=t("lifecycle.plot.cohort_line", start=f"{pd.Timestamp(c):{fmt}}", n=num(int(s["cohort_size"].iloc[0]))))
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), title=t("lifecycle.plot.cohort"))
    return finish(ax, title=t("lifecycle.plot.cumulative.title"), xlabel=t(f"lifecycle.plot.age.{_gran(gran)}"),
                  ylabel=t("lifecycle.plot.cumulative.y", unit=_unit(currency)))
