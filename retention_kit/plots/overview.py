"""Plots of the data overview."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from .common import finish, new_ax, percent_axis

__all__ = ["events_per_day", "event_types"]


def events_per_day(data: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Events and active users per day (two lines, shared day axis)."""
    ax = new_ax(ax)
    ax.plot(data["day"], data["events"], label="events", color="#2b6cb0", lw=1)
    ax.plot(data["day"], data["active_users"], label="active users", color="#dd6b20", lw=1)
    return finish(ax, title="Events and active users per day", xlabel="Day", ylabel="Count per day", legend=True)


def event_types(data: pd.DataFrame, *, top: int = 20, ax: Axes | None = None) -> Axes:
    """Share of users with each event type (horizontal bars, most common first)."""
    ax = new_ax(ax, figsize=(9, max(3.0, 0.3 * min(top, len(data)) + 1)))
    d = data.head(top)
    sns.barplot(data=d, y="event", x="share_users", ax=ax, color="#2b6cb0", orient="h")
    percent_axis(ax, "x")
    return finish(ax, title="Share of users with each event type", xlabel="Share of all users (%)", ylabel="Event type")
