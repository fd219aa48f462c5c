"""What the ladder report says in words: the headline comparison of cohorts, the "In short"
paragraph and the definitions in force."""

from __future__ import annotations

import pandas as pd

from ...core.stats import headline_minimum
from ...core.text import Raw, fill, pct
from ...data.params import LadderParams
from .rungs import ladder_rungs

__all__ = ["reference", "headline", "summary", "definitions"]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _label(day: pd.Timestamp, period: str) -> str:
    return f"{day:%B %Y}" if period == "month" else f"the week of {day:%Y-%m-%d}"


def reference(ladder: LadderParams | None = None, cohort_ladder: pd.DataFrame | None = None, *,
              min_share: float = 0.02) -> tuple[str, int]:
    """The rung and age the headline compares cohorts at.

    The rung is the one below the top when there are three or more rungs above Inactive, else the
    top one; with ``cohort_ladder`` (:func:`.moves.cohorts`), it steps down while
    fewer than ``min_share`` of all cohort user-periods are at or above it (sparse logs). The age
    is 3 for weeks (the 4th week) or 2 for months (the 3rd month).
    """
    ladder = ladder or LadderParams()
    rungs = [r for r in ladder_rungs(ladder) if r.order > 0]
    i = len(rungs) - 2 if len(rungs) >= 3 else len(rungs) - 1
    if cohort_ladder is not None and len(cohort_ladder):
        total = cohort_ladder["users"].sum()
        while i > 0 and cohort_ladder.loc[cohort_ladder["rung_order"] >= rungs[i].order, "users"].sum() < min_share * total:
            i -= 1
    return rungs[i].name, 3 if ladder.period == "week" else 2


def headline(cohort_ladder: pd.DataFrame, comp: pd.DataFrame, *, ladder: LadderParams | None = None,
             age: int | None = None, min_cohort_users: int | None = None) -> str:
    """The headline in words: the latest cohort that reached ``age`` against the earliest one at
    the same age (share at or above the reference rung and Inactive share), and the Inactive
    share among recent users, first against latest period.

    Only new cohorts are compared (``new_cohort`` of :func:`.moves.cohorts`): the
    left-censored first cohort (everyone already active when the log began, without a users
    table) and cohorts starting before the first complete period are never the comparison cohort,
    so the earliest one is the first cohort starting in a complete period after them. The
    reference rung and default age are :func:`reference`'s; the age is lowered when fewer than
    two cohorts of at least ``min_cohort_users`` users reached it. ``min_cohort_users`` defaults
    to ``ladder.min_cohort_size`` (100), or every user on the ladder when there are fewer
    (:func:`retention_kit.core.stats.headline_minimum`): a cohort below it is never quoted.

    Examples
    --------
    >>> from retention_kit.analyses.ladder.moves import cohorts, composition
    >>> coh, comp = cohorts(log, ladder=lad), composition(log, ladder=lad)
    >>> headline(coh, comp, ladder=lad)  # 1,500 users: no weekly cohort reaches 100
    'Too few cohorts of 100+ users to compare cohorts at the same age. Among users acquired ...'
    >>> headline(coh, comp, ladder=lad, min_cohort_users=30)
    'Of the ... users who joined in the week of 2024-07-01, ...% were Creator or above in their 4th week, against ...'
    """
    ladder = ladder or LadderParams()
    if min_cohort_users is None:
        first_age = cohort_ladder.groupby("cohort")["age"].transform("min")
        population = int(cohort_ladder.loc[cohort_ladder["age"] == first_age, "users"].sum())
        min_cohort_users = headline_minimum(ladder.min_cohort_size, population)
    per = ladder.period
    rungs = [r for r in ladder_rungs(ladder) if r.order > 0]
    ref_name, default_age = reference(ladder, cohort_ladder)
    ref = next(r for r in rungs if r.name == ref_name)
    new = cohort_ladder
    if "new_cohort" in new.columns:
        new = new[new["new_cohort"].astype(bool)]
    size = new.groupby(["cohort", "age"])["users"].sum().rename("n").reset_index()
    size = size[size["n"] >= min_cohort_users]
    a = default_age if age is None else age
    while a > 0 and size[size["age"] == a]["cohort"].nunique() < 2:
        a -= 1
    at = size[size["age"] == a]
    if at["cohort"].nunique() < 2:
        text = f"Too few cohorts of {min_cohort_users}+ users to compare cohorts at the same age."
    else:
        early, late = at["cohort"].min(), at["cohort"].max()
        c = cohort_ladder[cohort_ladder["age"] == a]

        def share(cohort: pd.Timestamp, pred: pd.Series) -> float:
            g = c[c["cohort"] == cohort]
            return float(g.loc[pred.loc[g.index], "users"].sum() / g["users"].sum())

        up_l, up_e = share(late, c["rung_order"] >= ref.order), share(early, c["rung_order"] >= ref.order)
        in_l, in_e = share(late, c["rung_order"] == 0), share(early, c["rung_order"] == 0)
        above = "" if ref is rungs[-1] else " or above"
        # at or above the lowest rung above Inactive is simply "active"
        what = "active" if ref.order == 1 else f"{ref.name}{above}"
        n_late, n_early = (int(at.loc[at["cohort"] == x, "n"].iloc[0]) for x in (late, early))
        text = (f"Of the {n_late:,} users who joined in {_label(late, per)}, {100 * up_l:.0f}% were {what} in their "
                f"{_ordinal(a + 1)} {per}, against {100 * up_e:.0f}% of the {n_early:,} of the cohort of "
                f"{_label(early, per)}")
        text += "." if ref.order == 1 else (f"; the Inactive share of users in their {_ordinal(a + 1)} {per} went "
                                            f"from {100 * in_e:.0f}% to {100 * in_l:.0f}%.")
    rec = comp[comp["scope"] == "recent"]
    tot = rec.groupby("period")["users"].sum()
    # before recent_periods periods have passed, "recent" is nearly everyone and not comparable
    periods = sorted(comp["period"].unique())
    full = periods[ladder.recent_periods - 1:]
    tot = tot[(tot >= min_cohort_users) & tot.index.isin(full)]
    if len(tot) >= 2:
        p0, p1 = tot.index.min(), tot.index.max()
        ina = rec[rec["rung_order"] == 0].set_index("period")["share"]
        text += (f" Among users acquired in the last {ladder.recent_periods} {per}s, the Inactive share went from "
                 f"{100 * ina[p0]:.0f}% ({p0:%Y-%m-%d}) to {100 * ina[p1]:.0f}% ({p1:%Y-%m-%d}).")
    return text


def summary(headline_text: str, pooled: pd.Series, flags: list[str], period: str) -> Raw:
    """The "In short" paragraph: the headline, the pooled climb / slide / stay rates and whether
    the rungs passed validation."""
    return fill(
        "**In short.** {findings} Between consecutive {per}s, {climb} of users climb to a higher rung, "
        "{slide} slide down and {stay} stay. {check}",
        findings=headline_text, per=period, climb=pct(pooled["climb_rate"]),
        slide=pct(pooled["slide_rate"]), stay=pct(pooled["stay_rate"]),
        check=("The rungs are in order: activity and next-" + period + " activity rise with the rung."
               if not flags else f"Check the ladder: {len(flags)} problem(s) in the validation below."),
    )


def definitions(ladder: LadderParams) -> dict[str, str]:
    """The ladder's definitions in force, worded from the params."""
    per = ladder.period
    return {
        "Period": f"calendar {per}s; only complete {per}s are used (a {per} ending after the last day of data is left out).",
        "Acquired": "a user is on the ladder from the period of their start day (signup day from the users table, "
                    "else first active day) to the last complete period, active or not.",
        "Rung": "the highest rung whose condition holds on the period's events; Inactive without activity; "
                "'Active (other)' for active users matching no rung when no rung is a catch-all.",
        "Cohort, age": "cohort = the period of the start day; age = periods since it (0 = the start period).",
        "Recent": f"users acquired in the last {ladder.recent_periods} periods, the current one included.",
        "Transitions": "a user's rung in one period against their rung in the next, for every pair of consecutive "
                       "complete periods; climb = to a higher rung, slide = to a lower one.",
        "Validation": "per rung, distinct active days in the period (power-user curve) and the share of its "
                      "user-periods active in the next period; a higher rung lower on either is flagged.",
    }
