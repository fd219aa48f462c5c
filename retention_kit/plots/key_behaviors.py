"""Plots of the key-behaviour analysis: ranked findings, threshold curves, window heatmap,
adoption by segment and the engagement matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from ..core.i18n import catalog, num, t
from .common import finish, new_ax, percent_axis

__all__ = ["ranked_findings", "threshold_curves", "window_heatmap", "adoption_by_segment", "engagement_matrix"]

# keyed by the verdict values of key_behaviors.csv; legends print them with spaces
_VERDICT_COLOURS = {"baseline": "#718096", "beyond_activity": "#2b6cb0", "activity_proxy": "#dd6b20",
                    "not_significant": "#a0aec0", "too_few_users": "#e2e8f0"}


def _label(event: str, k: int) -> str:
    if event == "__active_days__":
        return t("key_behaviors.plot.active_days_at_least", k=k)
    return t("key_behaviors.plot.event_at_least", event=event, k=k)


def _segment(segment: str) -> str:
    """The kit's segments in the report language; attribute segments (``plan=pro``) are data."""
    key = f"key_behaviors.segment.{segment}"
    return t(key) if key in catalog("en") else segment


def _period(period: str) -> str:
    """The kit's comparison periods (``last 28 days``, ``behaviour window``) in the report language."""
    key = f"key_behaviors.period.{period}"
    return t(key) if key in catalog("en") else period


def ranked_findings(findings: pd.DataFrame, *, top: int = 15, ax: Axes | None = None) -> Axes:
    """Lift (retained share of doers / of the rest) of each event at its best threshold, in rank
    order, coloured by verdict (beyond activity, activity proxy, ...), with the phi as text."""
    d = findings.head(top)
    ax = new_ax(ax, figsize=(9, max(3.0, 0.38 * len(d) + 1.2)))
    labels = [_label(e, int(k)) for e, k in zip(d["event"], d["threshold"])]
    y = np.arange(len(d))
    colours = [_VERDICT_COLOURS.get(v, "#a0aec0") for v in d["verdict"]]
    ax.barh(y, d["lift"].fillna(0), color=colours, edgecolor="#4a5568", linewidth=0.4)
    for yi, (lift, ph) in enumerate(zip(d["lift"], d["phi"])):
        if np.isfinite(lift):
            ax.text(lift, yi, t("key_behaviors.plot.phi_note", phi=num(ph, 2)), va="center", fontsize=8)
    ax.axvline(1, color="#4a5568", lw=0.8, ls="--")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    for v, c in _VERDICT_COLOURS.items():
        if v in set(d["verdict"]):
            ax.barh([np.nan], [np.nan], color=c, label=t(f"key_behaviors.verdict.{v}"))
    ax.set_xlim(0, max(1.5, float(np.nanmax(d["lift"].to_numpy(dtype=float), initial=1.0)) * 1.25))
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return finish(ax, title=t("key_behaviors.plot.ranked.title"), xlabel=t("key_behaviors.plot.ranked.x"),
                  ylabel=t("key_behaviors.plot.ranked.y"))


def threshold_curves(table: pd.DataFrame, *, events: Sequence[str], metric: str = "retained_did",
                     split: str = "all", ax: Axes | None = None) -> Axes:
    """``retained_did`` (share of doers retained) or ``share_did`` (share of eligible users who did
    it) against the threshold k, one line per event; unsupported points are hollow."""
    ax = new_ax(ax)
    rows = table[(table["split"] == split) & table["event"].isin(list(events))]
    palette = sns.color_palette("tab10", len(events))
    for colour, ev in zip(palette, events):
        e = rows[rows["event"] == ev].sort_values("threshold")
        if e.empty:
            continue
        name = t("key_behaviors.plot.active_days") if ev == "__active_days__" else ev
        ax.plot(e["threshold"], e[metric], color=colour, lw=1.5, label=name)
        sup = e["supported"].astype(bool)
        ax.scatter(e.loc[sup, "threshold"], e.loc[sup, metric], color=colour, s=18, zorder=3)
        ax.scatter(e.loc[~sup, "threshold"], e.loc[~sup, metric], facecolor="white", edgecolor=colour, s=18, zorder=3)
    if metric == "retained_did" and len(rows):
        r = rows.iloc[0]
        overall = (np.nan_to_num(r["retained_did"]) * r["n_did"] + np.nan_to_num(r["retained_not"]) * (r["n_eligible"] - r["n_did"])) / r["n_eligible"]
        ax.axhline(overall, color="#4a5568", ls="--", lw=0.8, label=t("key_behaviors.plot.curves.all_eligible"))
    percent_axis(ax, "y")
    ax.set_xticks(sorted(rows["threshold"].unique()))
    if metric == "retained_did":
        title, ylabel = t("key_behaviors.plot.curves.retained.title"), t("key_behaviors.plot.curves.retained.y")
    else:
        title, ylabel = t("key_behaviors.plot.curves.share.title"), t("key_behaviors.plot.curves.share.y")
    return finish(ax, title=title, xlabel=t("key_behaviors.plot.curves.x"), ylabel=ylabel, legend=True)


def window_heatmap(scan: pd.DataFrame, *, event: str, ax: Axes | None = None) -> Axes:
    """Phi of "did ``event`` at least k times in the first w days" over windows w and thresholds
    k; unsupported cells are blank."""
    ax = new_ax(ax, figsize=(9, 3.2))
    s = scan[scan["event"] == event]
    grid = s.assign(phi=s["phi"].where(s["supported"].astype(bool))).pivot(index="window_days", columns="threshold", values="phi")
    ax.grid(False)
    sns.heatmap(grid, ax=ax, cmap="crest", annot=True, fmt=".2f", annot_kws={"fontsize": 7},
                cbar_kws={"label": t("key_behaviors.plot.scan.colour")})
    o = s[["outcome_start", "outcome_end"]].iloc[0] if len(s) else None
    title = (t("key_behaviors.plot.scan.title.outcome", event=event, o1=o["outcome_start"], o2=o["outcome_end"] - 1)
             if o is not None else t("key_behaviors.plot.scan.title", event=event))
    return finish(ax, title=title, xlabel=t("key_behaviors.plot.scan.x"), ylabel=t("key_behaviors.plot.scan.y"))


def adoption_by_segment(segments: pd.DataFrame, *, pair: Sequence[str] = ("power", "occasional"),
                        top: int = 15, ax: Axes | None = None) -> Axes:
    """Breadth (share of each segment's users who did the event) for two or more segments side by
    side, events ordered by the first segment's breadth."""
    d = segments[segments["segment"].isin(list(pair))]
    order = (d[d["segment"] == pair[0]].sort_values("breadth", ascending=False)["event"].head(top).tolist())
    d = d[d["event"].isin(order)]
    ax = new_ax(ax, figsize=(9, max(3.0, 0.32 * len(order) + 1.2)))
    # the legend names the kit's segments in the report language (the frame keeps its codes)
    sns.barplot(data=d.assign(segment=d["segment"].map(_segment)), y="event", x="breadth", hue="segment",
                hue_order=[_segment(x) for x in pair], order=order, ax=ax, orient="h", palette="crest")
    percent_axis(ax, "x")
    period = _period(d["period"].iloc[0]) if len(d) else ""
    return finish(ax, title=t("key_behaviors.plot.adoption.title", segments=t("key_behaviors.plot.versus").join(
                      _segment(x) for x in pair), period=period),
                  xlabel=t("key_behaviors.plot.adoption.x"), ylabel=t("key_behaviors.plot.adoption.y"), legend=True)


def engagement_matrix(segments: pd.DataFrame, *, segment: str, label_top: int = 15, ax: Axes | None = None) -> Axes:
    """Breadth (x) against depth (y) for one segment, one point per event: top right are core
    behaviours, top left niche but intense, bottom right widespread but light. The ``label_top``
    broadest events are labelled; a log with thousands of event types stays readable."""
    ax = new_ax(ax, figsize=(8, 5))
    d = segments[(segments["segment"] == segment) & (segments["doers"] > 0)]
    ax.scatter(d["breadth"], d["depth_median"], color="#2b6cb0", s=28)
    placed: list[tuple[float, float]] = []
    span = max(float(d["depth_median"].max()), 1.0) if len(d) else 1.0
    labelled = d.sort_values(["breadth", "event"], ascending=[False, True]).head(label_top)
    for _, r in labelled.sort_values(["depth_median", "breadth"]).iterrows():
        x, y = float(r["breadth"]), float(r["depth_median"])
        # stack labels of points that sit on top of each other instead of overprinting them
        near = min(sum(abs(x - px) < 0.12 and abs(y - py) < 0.04 * span for px, py in placed), 6)
        placed.append((x, y))
        ax.annotate(str(r["event"]), (x, y), fontsize=8, xytext=(3, 3 + 9 * near), textcoords="offset points")
    if len(d):
        ax.axvline(d["breadth"].median(), color="#a0aec0", lw=0.8, ls="--")
        ax.axhline(d["depth_median"].median(), color="#a0aec0", lw=0.8, ls="--")
    ax.set_xlim(0, 1.05)
    percent_axis(ax, "x")
    period = _period(d["period"].iloc[0]) if len(d) else ""
    more = t("key_behaviors.plot.matrix.labelled", top=label_top, n=num(len(d))) if len(d) > label_top else ""
    return finish(ax, title=t("key_behaviors.plot.matrix.title", segment=_segment(segment), period=period, more=more),
                  xlabel=t("key_behaviors.plot.matrix.x"), ylabel=t("key_behaviors.plot.matrix.y"))
