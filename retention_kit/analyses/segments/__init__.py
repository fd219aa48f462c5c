"""Segments: every analysis split by a users-table attribute, a first-event property or a
behaviour cohort (:mod:`.assign`), each segment compared with the rest (:mod:`.compare`), the
stickiness report's breakdown in one call (:mod:`.breakdown`), the other pages' comparisons
(the overview's too: :mod:`.pages`)
and their words (:mod:`.narrative`).
See docs/segments.md."""

from .assign import MISSING, NOT_OVER, OTHER, Segments, segment_kind, segments
from .breakdown import StickinessBreakdown, stickiness_breakdown
from .compare import COLUMNS, compare_segments
from .narrative import (comparison_summary, comparison_table, guard_name, headline_period, heading, intro, page_intro, page_plot_labels,
                        page_summary, page_table_caption, period_label, plot_labels, sizes_caption, small_segments,
                        table_caption)
from .pages import (PageComparison, key_behaviors_comparison, ladder_comparison, lifecycle_comparison, minimum_size,
                    overview_comparison, overview_segments, rung_slug)

__all__ = ["Segments", "segments", "segment_kind", "OTHER", "MISSING", "NOT_OVER", "compare_segments", "COLUMNS",
           "StickinessBreakdown", "stickiness_breakdown", "comparison_summary", "comparison_table", "table_caption",
           "headline_period", "small_segments", "heading", "intro", "period_label", "plot_labels", "PageComparison",
           "ladder_comparison", "lifecycle_comparison", "key_behaviors_comparison", "page_intro", "page_summary",
           "page_plot_labels", "page_table_caption", "minimum_size", "guard_name", "overview_segments",
           "overview_comparison", "sizes_caption", "rung_slug"]
