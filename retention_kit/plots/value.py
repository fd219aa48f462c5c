"""Plots of customer value: ARPU/ARPPU over time, revenue retention and cumulative revenue per
user by cohort age."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from .common import finish, new_ax

__all__ = ["arpu", "revenue_retention", "cumulative_revenue"]


def _unit(currency: str) -> str:
    return f" ({currency or 'currency units'})"


def arpu(data: pd.DataFrame, *, currency: str = "", ax: Axes | None = None) -> Axes:
    """ARPU and ARPPU per period (``value_by_period`` output; incomplete periods left out)."""
    ax = new_ax(ax)
    d = data[data["complete"]]
    gran = data["granularity"].iloc[0] if len(data) else "period"
    ax.plot(d["period"], d["arpu"], marker="o", ms=3, label="ARPU (per active user)", color="#2b6cb0")
    ax.plot(d["period"], d["arppu"], marker="o", ms=3, label="ARPPU (per paying user)", color="#c05621")
    ax.tick_params(axis="x", rotation=30)
    return finish(ax, title=f"Revenue per user by {gran}", xlabel=f"{gran.capitalize()} (first day)",
                  ylabel=f"Revenue per user{_unit(currency)}", legend=True)


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
                cbar_kws={"label": "Revenue as % of period 0"}, annot_kws={"size": 7})
    ax.tick_params(axis="y", rotation=0)
    ax.grid(False)
    return finish(ax, title="Revenue retention by cohort (% of the cohort's first-period revenue)",
                  xlabel=f"Cohort age ({gran}s since start)", ylabel=f"Cohort ({gran} of start)")


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
                label=f"{pd.Timestamp(c):{fmt}} (n={int(s['cohort_size'].iloc[0]):,})")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), title="Cohort")
    return finish(ax, title="Cumulative revenue per user by cohort age (observed only)",
                  xlabel=f"Cohort age ({gran}s since start)", ylabel=f"Cumulative revenue per user{_unit(currency)}")
