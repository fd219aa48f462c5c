"""Stickiness: do people come back, how often, and is it getting better?

DAU/WAU/MAU and their ratios (:mod:`.active_users`), the power-user curve and trailing activity
(:mod:`.power_users`), growth accounting (:mod:`.growth`), cohort, day-N and bracket retention
(:mod:`.retention`), usage cadence (:mod:`.cadence`), the report's sentences (:mod:`.narrative`)
and its spec (:mod:`.spec`).
"""

from .active_users import active_users, ratio_by_month
from .cadence import cadence_distribution, cadence_profile
from .growth import growth_accounting
from .narrative import (cadence_reading, caption, curve_reading, day_n_table, definitions, judged_by, ratios_note, ratios_shown,
                        section_name, summary, summary_sentences, trailing_note)
from .power_users import (curve_shape, power_user_curve, power_user_curve_by_cohort, trailing_activity,
                          trailing_power_user_curve)
from .retention import (average_brackets, average_retention, cohort_retention, minimum_cohort, retention_brackets,
                        retention_headline, retention_options)
from .spec import SPEC

__all__ = [
    "active_users",
    "ratio_by_month",
    "power_user_curve",
    "power_user_curve_by_cohort",
    "trailing_power_user_curve",
    "trailing_activity",
    "curve_shape",
    "growth_accounting",
    "cohort_retention",
    "average_retention",
    "retention_brackets",
    "average_brackets",
    "retention_headline",
    "minimum_cohort",
    "retention_options",
    "cadence_distribution",
    "cadence_profile",
    "summary",
    "summary_sentences",
    "curve_reading",
    "cadence_reading",
    "judged_by",
    "day_n_table",
    "ratios_shown",
    "ratios_note",
    "trailing_note",
    "definitions",
    "caption",
    "section_name",
    "SPEC",
]
