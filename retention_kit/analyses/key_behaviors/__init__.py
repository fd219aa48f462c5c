"""Key behaviours: which early behaviours go with users staying?

Eligibility, the candidate grid and its statistics (:mod:`.candidates`), the ranked findings
(:mod:`.findings`), the window scan (:mod:`.window_scan`), breadth and depth by segment
(:mod:`.segments`), the report's sentences (:mod:`.narrative`) and its spec (:mod:`.spec`).
"""

from .candidates import (ACTIVE_DAYS, SPLITS, candidate_stats, check_windows, eligible_users, min_support,
                         volume_stratum, volume_stratum_py)
from .findings import findings, judge
from .segments import RECENT_DAYS, behavior_segments
from .spec import SPEC, VERDICTS
from .window_scan import window_scan

__all__ = [
    "ACTIVE_DAYS",
    "SPLITS",
    "RECENT_DAYS",
    "check_windows",
    "eligible_users",
    "min_support",
    "volume_stratum",
    "volume_stratum_py",
    "candidate_stats",
    "judge",
    "findings",
    "VERDICTS",
    "window_scan",
    "behavior_segments",
    "SPEC",
]
