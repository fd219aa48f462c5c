"""Key behaviours: which early behaviours go with users staying?

Eligibility, the candidate grid and its statistics (:mod:`.candidates`), the ranked findings
(:mod:`.findings`), the window scan (:mod:`.window_scan`), breadth and depth by segment
(:mod:`.segments`), the report's sentences (:mod:`.narrative`) and its spec (:mod:`.spec`).
"""

from .candidates import ACTIVE_DAYS, SPLITS, candidate_stats, check_windows, eligible_users, min_support
from .findings import findings
from .segments import RECENT_DAYS, behavior_segments
from .spec import SPEC
from .window_scan import window_scan

__all__ = [
    "ACTIVE_DAYS",
    "SPLITS",
    "RECENT_DAYS",
    "check_windows",
    "eligible_users",
    "min_support",
    "candidate_stats",
    "findings",
    "window_scan",
    "behavior_segments",
    "SPEC",
]
