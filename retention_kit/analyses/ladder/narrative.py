"""What the ladder report says in words: the headline comparison of cohorts, the "In short"
paragraph, the sections' headings and introductions, the tables and notes as shown, and the
definitions in force.

Every sentence is a message of the report language (``messages/<language>/ladder.yaml``); rung
names from the params and event names are data and are never translated; the implicit rungs
Inactive and Active (other) are the kit's own and are translated on the page (the CSV exports keep
them as they are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ...core.i18n import current, month_year, num, t
from ...core.stats import headline_minimum
from ...core.text import Raw, fill, pct
from ...data.params import LadderParams
from .. import words
from .rungs import INACTIVE, OTHER, definition_table, ladder_rungs

__all__ = ["reference", "headline", "summary", "definitions", "SECTIONS", "section", "caption", "page_table",
           "rung_label", "nth", "units", "shown_definition", "describe"]

#: The report's sections, in page order (:func:`section`).
SECTIONS = ("ladder", "composition", "cohorts", "transitions", "validation", "definitions")
_F = "ladder"


def section(name: str) -> Raw:
    """A section's Markdown heading and introduction, one of :data:`SECTIONS`."""
    return words.section(_F, name, SECTIONS)


def caption(name: str, /, **values: Any) -> str:
    """A caption or a short line of the page (plain text), message ``ladder.caption.<name>``."""
    return t(f"{_F}.caption.{name}", **values)


def page_table(frame: pd.DataFrame, *, percent: Sequence[str] = (), caption: str | None = None) -> dict[str, Any]:
    """:func:`retention_kit.reporting.report.show_table`'s arguments for ``frame``, headers in the
    report language and the implicit rungs' names in it (a ``rung`` column's other values are
    the params' names, data)."""
    if "rung" in frame.columns:
        frame = frame.assign(rung=frame["rung"].map(rung_label))
    return words.page_table(_F, frame, percent=percent, caption=caption)


def rung_label(rung: str) -> str:
    """A rung as the page shows it: the implicit rungs (Inactive, Active (other)) in the report
    language, the params' rungs as they are.

    Examples
    --------
    >>> rung_label("Inactive"), rung_label("Saver")
    ('Inactive', 'Saver')
    """
    if rung == INACTIVE:
        return t(f"{_F}.rung.inactive")
    if rung == OTHER:
        return t(f"{_F}.rung.other")
    return rung


def nth(n: int) -> str:
    """An ordinal number for the report language's ordinal templates ('4th'; in Chinese the
    template says 第{nth}, so the number alone)."""
    if current() != "en":
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def units(period: str, n: int) -> str:
    """``n`` periods in words ('4 weeks', '4 週', '4 個月')."""
    return t(f"{_F}.units.{'week' if period == 'week' else 'month'}", n=num(n))


def _label(day: pd.Timestamp, period: str) -> str:
    return month_year(day) if period == "month" else t(f"{_F}.week_of", day=f"{day:%Y-%m-%d}")


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
        text = t(f"{_F}.headline.too_few", n=min_cohort_users)
    else:
        early, late = at["cohort"].min(), at["cohort"].max()
        c = cohort_ladder[cohort_ladder["age"] == a]

        def share(cohort: pd.Timestamp, pred: pd.Series) -> float:
            g = c[c["cohort"] == cohort]
            return float(g.loc[pred.loc[g.index], "users"].sum() / g["users"].sum())

        up_l, up_e = share(late, c["rung_order"] >= ref.order), share(early, c["rung_order"] >= ref.order)
        in_l, in_e = share(late, c["rung_order"] == 0), share(early, c["rung_order"] == 0)
        # at or above the lowest rung above Inactive is simply "active"
        what = (t(f"{_F}.headline.active") if ref.order == 1 else t(f"{_F}.headline.rung", rung=ref.name)
                if ref is rungs[-1] else t(f"{_F}.headline.or_above", rung=ref.name))
        n_late, n_early = (int(at.loc[at["cohort"] == x, "n"].iloc[0]) for x in (late, early))
        their = t(f"{_F}.nth.{'week' if per == 'week' else 'month'}", nth=nth(a + 1))
        text = t(f"{_F}.headline.cohorts", n_late=num(n_late), late=_label(late, per), up_l=pct(up_l), what=what,
                 their=their, up_e=pct(up_e), n_early=num(n_early), early=_label(early, per))
        text += (t(f"{_F}.headline.end") if ref.order == 1
                 else t(f"{_F}.headline.inactive", their=their, in_e=pct(in_e), in_l=pct(in_l)))
    rec = comp[comp["scope"] == "recent"]
    tot = rec.groupby("period")["users"].sum()
    # before recent_periods periods have passed, "recent" is nearly everyone and not comparable
    periods = sorted(comp["period"].unique())
    full = periods[ladder.recent_periods - 1:]
    tot = tot[(tot >= min_cohort_users) & tot.index.isin(full)]
    if len(tot) >= 2:
        p0, p1 = tot.index.min(), tot.index.max()
        ina = rec[rec["rung_order"] == 0].set_index("period")["share"]
        text += t(f"{_F}.headline.recent", recent=units(per, ladder.recent_periods), s0=pct(ina[p0]),
                  p0=f"{p0:%Y-%m-%d}", s1=pct(ina[p1]), p1=f"{p1:%Y-%m-%d}")
    return text


def summary(headline_text: str, pooled: pd.Series, flags: list[str], period: str) -> Raw:
    """The "In short" paragraph: the headline, the pooled climb / slide / stay rates and whether
    the rungs passed validation."""
    per = "week" if period == "week" else "month"
    return fill(
        t(f"{_F}.summary.{per}"),
        findings=headline_text, climb=pct(pooled["climb_rate"]),
        slide=pct(pooled["slide_rate"]), stay=pct(pooled["stay_rate"]),
        check=(t(f"{_F}.summary.in_order.{per}") if not flags else t(f"{_F}.summary.problems", n=len(flags))),
    )


def definitions(ladder: LadderParams) -> dict[str, str]:
    """The ladder's definitions in force, worded from the params."""
    per = "week" if ladder.period == "week" else "month"
    d = f"{_F}.definition"
    return {
        t(f"{d}.period.term"): t(f"{d}.period.{per}"),
        t(f"{d}.acquired.term"): t(f"{d}.acquired"),
        t(f"{d}.rung.term"): t(f"{d}.rung"),
        t(f"{d}.cohort.term"): t(f"{d}.cohort"),
        t(f"{d}.recent.term"): t(f"{d}.recent", n=ladder.recent_periods),
        t(f"{d}.transitions.term"): t(f"{d}.transitions"),
        t(f"{d}.validation.term"): t(f"{d}.validation"),
    }


def describe(cond: Mapping[str, Any]) -> str:
    """A rung's condition in the report language (English as
    :func:`retention_kit.core.conditions.describe` says it); event names are data.

    Examples
    --------
    >>> describe({"all": [{"event": "create_note", "min": 2}, {"active_days": 2}]})
    'create_note >= 2 and active days >= 2'
    """
    c = f"{_F}.condition"
    if "all" in cond or "any" in cond:
        op = "all" if "all" in cond else "any"
        parts = [describe(x) for x in cond[op]]
        joins = (t(f"{c}.and"), t(f"{c}.or"))
        parts = [t(f"{c}.group", part=p) if any(j in p for j in joins) else p for p in parts]
        return t(f"{c}.{'and' if op == 'all' else 'or'}").join(parts)
    if "previous" in cond:
        return t(f"{c}.previous", condition=describe(cond["previous"]))
    if "event" in cond:
        return t(f"{c}.event", event=cond["event"], n=cond.get("min", 1))
    return t(f"{c}.active_days", n=cond["active_days"])


def shown_definition(ladder: LadderParams | None = None) -> pd.DataFrame:
    """:func:`.rungs.definition_table` as the page shows it: conditions in the report language,
    implicit rungs named in it (:func:`page_table` words the headers)."""
    table = definition_table(ladder)
    text = {INACTIVE: t(f"{_F}.condition.inactive"), OTHER: t(f"{_F}.condition.other")}
    conds = {r.name: r.when for r in ladder_rungs(ladder)}
    yes_no = {True: t(f"{_F}.value.true"), False: t(f"{_F}.value.false")}
    return table.assign(condition=[text[r] if r in text else describe(conds[r]) for r in table["rung"]],
                        implicit=table["implicit"].map(lambda v: yes_no[bool(v)]))
