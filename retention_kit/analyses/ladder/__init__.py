"""The Ladder of Engagement: do users climb it?

The rungs and each user's rung per period (:mod:`.rungs`), composition, cohorts and transitions
(:mod:`.moves`), validation (:mod:`.validation`), the report's sentences (:mod:`.narrative`) and
its spec (:mod:`.spec`). Rung conditions are written in the condition language of
:mod:`retention_kit.core.conditions`.
"""

from .moves import at_or_above, cohorts, composition, pool_rates, rung_stability, transition_rates, transitions
from .narrative import (SECTIONS, caption, definitions, describe, headline, page_table, reference, rung_label, section,
                        shown_definition, summary)
from .rungs import DEFAULT_RUNGS, INACTIVE, OTHER, RungDef, condition_events, definition_table, ladder_rungs, rung_table
from .spec import SPEC
from .validation import ladder_warnings, rung_power_user_curve, validation, validation_flags

__all__ = [
    "INACTIVE",
    "OTHER",
    "DEFAULT_RUNGS",
    "RungDef",
    "ladder_rungs",
    "definition_table",
    "condition_events",
    "rung_table",
    "composition",
    "cohorts",
    "at_or_above",
    "transitions",
    "transition_rates",
    "pool_rates",
    "rung_stability",
    "validation",
    "rung_power_user_curve",
    "validation_flags",
    "ladder_warnings",
    "reference",
    "headline",
    "summary",
    "definitions",
    "SECTIONS",
    "section",
    "caption",
    "page_table",
    "rung_label",
    "describe",
    "shown_definition",
    "SPEC",
]
