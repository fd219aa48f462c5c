"""Plots of the data overview."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from ..core.i18n import t
from .common import finish, new_ax, percent_axis

__all__ = ["events_per_day", "event_types"]


def events_per_day(data: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Events and active users per day (two lines, shared day axis)."""
    ax = new_ax(ax)
    ax.plot(data["day"], data["events"], label=t("overview.plot.events_per_day.events"), color="#2b6cb0", lw=1)
    ax.plot(data["day"], data["active_users"], label=t("overview.plot.events_per_day.active_users"), color="#dd6b20",
            lw=1)
    return finish(ax, title=t("overview.plot.events_per_day.title"), xlabel=t("overview.plot.events_per_day.x"),
                  ylabel=t("overview.plot.events_per_day.y"), legend=True)


def event_types(data: pd.DataFrame, *, top: int = 20, ax: Axes | None = None) -> Axes:
    """Share of users with each event type (horizontal bars, most common first)."""
    ax = new_ax(ax, figsize=(9, max(3.0, 0.3 * min(top, len(data)) + 1)))
    d = data.head(top)
    # the grouped row of the rest, "(other events: 7 types)", is the kit's label: in the report language
    n = d["event"].str.extract(r"^\(other events: ([\d,]+) types\)$", expand=False)
    d = d.assign(event=d["event"].where(n.isna(), n.map(lambda k: t("overview.other_events", types=k)
                                                        if isinstance(k, str) else k)))
    sns.barplot(data=d, y="event", x="share_users", ax=ax, color="#2b6cb0", orient="h")
    percent_axis(ax, "x")
    return finish(ax, title=t("overview.plot.event_types.title"), xlabel=t("overview.plot.event_types.x"),
                  ylabel=t("overview.plot.event_types.y"))
