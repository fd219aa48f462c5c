"""Charts of a breakdown: one line per segment on a shared axis, 95% intervals as bands."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from .common import finish, new_ax, percent_axis

__all__ = ["segment_curves", "segment_points"]


def segment_curves(curves: pd.DataFrame, *, order: Sequence[str] | None = None, small: Sequence[str] = (),
                   title: str = "", xlabel: str = "", ylabel: str = "", ax: Axes | None = None) -> Axes:
    """Average retention (or another share) per segment: ``curves`` has ``segment``, ``period``
    (periods k, or dates: then ticked on the dates themselves), ``retention``, ``ci_low``,
    ``ci_high``; segments in ``small`` (under the minimum size) are drawn grey and dashed, so the
    eye does not read them as findings."""
    ax = new_ax(ax)
    names = list(order) if order is not None else list(dict.fromkeys(curves["segment"]))
    palette = sns.color_palette("tab10", n_colors=max(1, len(names)))
    for i, name in enumerate(names):
        c = curves[curves["segment"] == name].sort_values("period")
        if c.empty:
            continue
        grey = name in small
        colour = "0.65" if grey else palette[i % len(palette)]
        ax.fill_between(c["period"], c["ci_low"], c["ci_high"], color=colour, alpha=0.12 if grey else 0.18, lw=0)
        ax.plot(c["period"], c["retention"], color=colour, ls="--" if grey else "-", lw=1.6,
                marker="o" if len(c) <= 40 else None, ms=3, label=str(name))
    if pd.api.types.is_datetime64_any_dtype(curves["period"]):  # month ends: ticks on the points, not on month starts
        days = sorted(curves["period"].dropna().unique())
        step = max(1, -(-len(days) // 12))
        ax.set_xticks(days[::step])
        ax.set_xticklabels([f"{pd.Timestamp(d):%Y-%m-%d}" for d in days[::step]], rotation=30 if len(days) > 6 else 0,
                           ha="right" if len(days) > 6 else "center")
    ax.set_ylim(0, 1.02)
    percent_axis(ax)
    return finish(ax, title=title, xlabel=xlabel, ylabel=ylabel, legend=True)


def segment_points(curves: pd.DataFrame, *, order: Sequence[str] | None = None, small: Sequence[str] = (),
                   title: str = "", xlabel: str = "", ylabel: str = "", ax: Axes | None = None) -> Axes:
    """One share per segment (a single period): ``curves`` has ``segment``, ``retention`` (the
    share), ``ci_low``, ``ci_high``; a point per segment with its 95% interval as a bar on a
    shared axis, segments in ``small`` grey."""
    ax = new_ax(ax)
    names = [n for n in (list(order) if order is not None else list(dict.fromkeys(curves["segment"])))
             if n in set(curves["segment"])]
    palette = sns.color_palette("tab10", n_colors=max(1, len(names)))
    for i, name in enumerate(names):
        r = curves[curves["segment"] == name].iloc[0]
        colour = "0.65" if name in small else palette[i % len(palette)]
        ax.errorbar([i], [r["retention"]], yerr=[[max(r["retention"] - r["ci_low"], 0.0)], [max(r["ci_high"] - r["retention"], 0.0)]],
                    fmt="o", color=colour, capsize=4, lw=1.6, ms=6)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([str(n) for n in names])
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylim(0, 1.02)
    percent_axis(ax)
    return finish(ax, title=title, xlabel=xlabel, ylabel=ylabel)
