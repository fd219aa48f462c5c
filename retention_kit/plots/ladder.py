"""Plots of the Ladder of Engagement: composition over time, the cohort ladder, share at or above a
rung by age, transitions and the validation (power-user curve and next-period activity per rung).

Each takes a frame from :mod:`retention_kit.analyses.ladder` first. Rungs keep one colour everywhere:
Inactive grey, the rungs above it a light-to-dark sequence.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from ..core.i18n import current, pct, t
from .common import PALETTE, finish, new_ax, percent_axis

__all__ = [
    "rung_colors",
    "composition",
    "cohort_ladder",
    "at_or_above",
    "transition_matrix",
    "transition_rates",
    "power_user_curve",
    "next_period_activity",
]


def _rungs(data: pd.DataFrame, name: str = "rung", order: str = "rung_order") -> list[str]:
    return list(data[[name, order]].drop_duplicates().sort_values(order)[name])


def rung_colors(rungs: list[str]) -> dict[str, tuple]:
    """Inactive grey, the other rungs (lowest first) light to dark."""
    others = [r for r in rungs if r != "Inactive"]
    pal = sns.color_palette(PALETTE, max(len(others), 1))
    out = {r: c for r, c in zip(others, pal)}
    out["Inactive"] = (0.78, 0.78, 0.78)
    return out


def _whole_percents(ax: Axes) -> Axes:
    # steps of 1, 2 or 5 (x 10^k) so a 0-18% axis never shows rounded labels like 12% for 12.5%
    ax.yaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 5, 10]))
    lo, hi = ax.get_ylim()
    return percent_axis(ax, digits=1 if hi - lo < 0.04 else 0)


def _per(period: str) -> str:
    return "week" if period == "week" else "month"


def _rung(rung: str) -> str:
    """A rung's name on a chart: the implicit rungs in the report language, the params' as they are."""
    return {"Inactive": t("ladder.rung.inactive"), "Active (other)": t("ladder.rung.other")}.get(rung, rung)


def composition(data: pd.DataFrame, *, scope: str = "all", period: str = "week", recent_periods: int | None = None,
                ax: Axes | None = None) -> Axes:
    """Share of users on each rung per period (stacked areas), for one scope of
    :func:`retention_kit.analyses.ladder.composition`; ``recent_periods`` (the ladder's) says in
    the recent scope's title how many periods are recent."""
    ax = new_ax(ax)
    d = data[data["scope"] == scope]
    rungs = _rungs(d)
    wide = d.pivot_table(index="period", columns="rung", values="share", aggfunc="sum").reindex(columns=rungs).fillna(0)
    colors = rung_colors(rungs)
    ax.stackplot(wide.index, *[wide[r] for r in rungs], labels=[_rung(r) for r in rungs],
                 colors=[colors[r] for r in rungs], alpha=0.95)
    ax.set_ylim(0, 1)
    ax.margins(x=0)
    ax.tick_params(axis="x", rotation=30)  # dates a week apart would run into each other
    percent_axis(ax)
    who = t("ladder.plot.composition.all") if scope == "all" else t("ladder.plot.composition.recent")
    title = (t(f"ladder.plot.composition.recent_title.{_per(period)}", n=recent_periods)
             if scope != "all" and recent_periods is not None else t(f"ladder.plot.composition.title.{_per(period)}", who=who))
    finish(ax, title=title,
           xlabel=t(f"ladder.plot.first_day.{_per(period)}"), ylabel=t("ladder.plot.share_of_users"))
    ax.legend(*[x[::-1] for x in ax.get_legend_handles_labels()], frameon=False, loc="center left", bbox_to_anchor=(1, 0.5))
    ax.figure.tight_layout()
    return ax


def cohort_ladder(data: pd.DataFrame, *, age: int, period: str = "week", min_users: int = 20,
                  max_cohorts: int = 30, ax: Axes | None = None) -> Axes:
    """Share on each rung at one age, per cohort (stacked bars, oldest cohort left): do later
    cohorts reach higher rungs at the same age? Cohorts under ``min_users`` are left out."""
    ax = new_ax(ax)
    d = data[(data["age"] == age) & (data["cohort_users"] >= min_users)]
    rungs = _rungs(data)
    wide = d.pivot_table(index="cohort", columns="rung", values="share", aggfunc="sum").reindex(columns=rungs).fillna(0)
    wide = wide.tail(max_cohorts)
    colors = rung_colors(rungs)
    x = np.arange(len(wide))
    bottom = np.zeros(len(wide))
    for r in rungs:
        ax.bar(x, wide[r].to_numpy(), bottom=bottom, color=colors[r], label=_rung(r), width=0.85)
        bottom += wide[r].to_numpy()
    fmt = "%Y-%m" if period == "month" else "%Y-%m-%d"
    step = max(1, len(wide) // 12)
    ax.set_xticks(x[::step], [c.strftime(fmt) for c in wide.index[::step]], rotation=45, ha="right")
    ax.set_ylim(0, 1)
    percent_axis(ax)
    finish(ax, title=t("ladder.plot.cohorts.title", their=t(f"ladder.nth.{_per(period)}", nth=_ord(age + 1))),
           xlabel=t(f"ladder.plot.cohorts.x.{_per(period)}"), ylabel=t("ladder.plot.share_of_cohort"))
    ax.legend(*[h[::-1] for h in ax.get_legend_handles_labels()], frameon=False, loc="center left", bbox_to_anchor=(1, 0.5))
    ax.figure.tight_layout()
    return ax


def _ord(n: int) -> str:
    if current() != "en":  # the language's template says the ordinal (第{nth}週)
        return str(n)
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def at_or_above(data: pd.DataFrame, *, rung: str, period: str = "week", min_users: int = 20, max_cohorts: int = 8,
                max_age: int = 12, ax: Axes | None = None) -> Axes:
    """Share of each cohort at or above ``rung`` by age (one line per cohort, later cohorts
    darker), from :func:`retention_kit.analyses.ladder.at_or_above`. At most ``max_cohorts`` cohorts of
    ``min_users``+ users, evenly spread from the first to the last."""
    ax = new_ax(ax)
    d = data[(data["rung"] == rung) & (data["age"] <= max_age) & (data["cohort_users"] >= min_users)]
    cohorts = sorted(d["cohort"].unique())
    if len(cohorts) > max_cohorts:
        idx = np.unique(np.linspace(0, len(cohorts) - 1, max_cohorts).round().astype(int))
        cohorts = [cohorts[i] for i in idx]
    pal = sns.color_palette(PALETTE, max(len(cohorts), 1))
    fmt = "%Y-%m" if period == "month" else "%Y-%m-%d"
    for c, col in zip(cohorts, pal):
        g = d[d["cohort"] == c].sort_values("age")
        ax.plot(g["age"], g["share"], marker="o", ms=3, color=col, label=pd.Timestamp(c).strftime(fmt))
    ax.set_ylim(bottom=0)
    _whole_percents(ax)
    finish(ax, title=t("ladder.plot.at_or_above.title", rung=_rung(rung)),
           xlabel=t(f"ladder.plot.age.{_per(period)}"), ylabel=t("ladder.plot.share_of_cohort"))
    ax.legend(frameon=False, title=t("ladder.plot.cohort"), loc="center left", bbox_to_anchor=(1, 0.5))
    ax.figure.tight_layout()
    return ax


def transition_matrix(data: pd.DataFrame, *, period: str = "week", ax: Axes | None = None) -> Axes:
    """Row shares of :func:`retention_kit.analyses.ladder.transitions` as a heatmap (rows: rung this
    period, columns: rung next period), annotated in percent."""
    n = data["to_rung"].nunique()
    ax = new_ax(ax, figsize=(1.2 * n + 3, 0.8 * n + 2))
    order = _rungs(data, "to_rung", "to_order")
    rows = [r for r in order if r in set(data["from_rung"])]
    m = data.pivot_table(index="from_rung", columns="to_rung", values="share", aggfunc="sum").reindex(index=rows, columns=order)
    m = m.rename(index=_rung, columns=_rung)
    sns.heatmap(m, ax=ax, cmap=PALETTE, vmin=0, vmax=1, annot=m.map(pct), fmt="",
                cbar_kws={"label": t("ladder.plot.share_of_row")}, linewidths=0.5)
    cbar = ax.collections[0].colorbar
    cbar.set_ticks([0, 0.25, 0.5, 0.75, 1])
    cbar.set_ticklabels([pct(v) for v in (0, 0.25, 0.5, 0.75, 1)])
    ax.tick_params(axis="y", rotation=0)  # rung names read across, in any script
    return finish(ax, title=t(f"ladder.plot.matrix.title.{_per(period)}"),
                  xlabel=t(f"ladder.plot.rung_next.{_per(period)}"), ylabel=t(f"ladder.plot.rung_this.{_per(period)}"))


def transition_rates(data: pd.DataFrame, *, period: str = "week", ax: Axes | None = None) -> Axes:
    """Climb and slide rates per period (lines) from :func:`retention_kit.analyses.ladder.transition_rates`;
    the rest of each period's users stayed on their rung."""
    ax = new_ax(ax)
    ax.plot(data["period"], data["climb_rate"], label=t("ladder.plot.rates.climb"), color="#2f855a")
    ax.plot(data["period"], data["slide_rate"], label=t("ladder.plot.rates.slide"), color="#c53030")
    ax.set_ylim(bottom=0)
    ax.tick_params(axis="x", rotation=30)
    _whole_percents(ax)
    return finish(ax, title=t(f"ladder.plot.rates.title.{_per(period)}"), xlabel=t(f"ladder.plot.rates.x.{_per(period)}"),
                  ylabel=t("ladder.plot.share_of_users"), legend=True)


def power_user_curve(data: pd.DataFrame, *, period: str = "week", ax: Axes | None = None) -> Axes:
    """Distribution of distinct active days in the period per rung (one line per rung), from
    :func:`retention_kit.analyses.ladder.rung_power_user_curve`: higher rungs should sit further right."""
    ax = new_ax(ax)
    rungs = _rungs(data)
    colors = rung_colors(rungs)
    for r in rungs:
        g = data[data["rung"] == r].sort_values("active_days")
        ax.plot(g["active_days"], g["share"], marker="o", ms=3, label=_rung(r), color=colors[r])
    ax.set_ylim(bottom=0)
    _whole_percents(ax)
    return finish(ax, title=t("ladder.plot.power.title"), xlabel=t(f"ladder.plot.power.x.{_per(period)}"),
                  ylabel=t(f"ladder.plot.power.y.{_per(period)}"), legend=True)


def next_period_activity(data: pd.DataFrame, *, period: str = "week", ax: Axes | None = None) -> Axes:
    """Share active in the next period per rung (bars), from
    :func:`retention_kit.analyses.ladder.validation`: it should rise with the rung."""
    ax = new_ax(ax)
    d = data.sort_values("rung_order")
    colors = rung_colors(list(d["rung"]))
    ax.bar([_rung(r) for r in d["rung"]], d["share_active_next_period"].fillna(0), color=[colors[r] for r in d["rung"]])
    for i, v in enumerate(d["share_active_next_period"]):
        if pd.notna(v):
            ax.text(i, v, pct(v), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, 1.08)
    percent_axis(ax)
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    return finish(ax, title=t(f"ladder.plot.next.title.{_per(period)}"), xlabel=t(f"ladder.plot.rung_this.{_per(period)}"),
                  ylabel=t("ladder.plot.next.y"))
