"""Shared plot helpers: one style, axes with titles, labels and units, percent axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

__all__ = ["use_style", "new_ax", "finish", "percent_axis", "PALETTE"]

PALETTE = "crest"


def use_style() -> None:
    """The kit's look: seaborn whitegrid, readable sizes; embedded fonts only (offline pages)."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams.update({"figure.figsize": (9, 4.2), "figure.dpi": 100, "axes.titleweight": "bold",
                         "svg.fonttype": "path"})


def new_ax(ax: Axes | None = None, *, figsize: tuple[float, float] | None = None) -> Axes:
    """``ax`` itself, or a fresh figure's axes."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax


def percent_axis(ax: Axes, axis: str = "y", *, digits: int = 0) -> Axes:
    """Show fractions (0..1) on an axis as percents."""
    fmt = FuncFormatter(lambda v, _: f"{100 * v:.{digits}f}%")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)
    return ax


def finish(ax: Axes, *, title: str, xlabel: str, ylabel: str, legend: bool | None = None) -> Axes:
    """Title and axis labels (with units) on every chart; tidy legend."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend is False and ax.get_legend() is not None:
        ax.get_legend().remove()
    elif legend:
        ax.legend(frameon=False)
    ax.figure.tight_layout()
    return ax
