"""The hand-worked log shared by test_stickiness, test_growth and test_retention, plus the random
log strategy of their property tests. The logs are loaded with :mod:`tests.factories`:
``load(tiny_frame(), **TINY)`` and, for a random log, ``load(frame, week_start=..., **RANDOM)``.

Timezone America/New_York, activity = ``open`` only (``push`` is an event but not activity).
Day numbers are days since Monday 2024-01-01 (local):

    user a: open on days 0, 1, 27, 28   (day 28's event is 2024-01-30 02:00 UTC = Jan 29 21:00 local)
    user b: open on days 5, 20
    user c: open on day 6 (Sunday Jan 7); push on day 34 (Sunday Feb 4: extends the data range only)
    user d: open on day 33

Data range: day 0 (Mon 2024-01-01) to day 34 (Sun 2024-02-04), 35 days.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import strategies as st

from tests.factories import D0

#: make_params arguments of the hand-worked log (week_start defaults to monday).
TINY = {"product": "tiny", "timezone": "America/New_York", "active_events": ["open"]}
#: ... and of the random logs: the same in UTC.
RANDOM = {**TINY, "timezone": "UTC"}
#: The data.users section for a users table of signups (columns user_id, signup_time).
SIGNUPS_SECTION = {"source": "(given)", "signup_time": "signup_time"}


def day(n: int) -> pd.Timestamp:
    return pd.Timestamp(D0 + dt.timedelta(days=n))


def tiny_frame() -> pd.DataFrame:
    noon = lambda n: pd.Timestamp(f"{D0 + dt.timedelta(days=n)} 12:00", tz="UTC")  # 07:00 in New York  # noqa: E731
    rows = [
        ("a", noon(0), "open"), ("a", noon(1), "open"), ("a", noon(27), "open"),
        # 02:00 UTC on Jan 30 is 21:00 on Jan 29 in New York: local day 28, not 29
        ("a", pd.Timestamp("2024-01-30 02:00", tz="UTC"), "open"),
        ("b", noon(5), "open"), ("b", noon(20), "open"), ("b", noon(20), "open"),
        ("c", noon(6), "open"), ("c", noon(34), "push"),
        ("d", noon(33), "open"),
    ]
    return pd.DataFrame(rows, columns=["user_id", "timestamp", "event"])


@st.composite
def random_logs(draw, *, min_span: int = 0):
    """A random small log: (frame, week_start). Days within ~100 days, naive local timestamps,
    some 'push' (non-activity) events; with ``min_span`` the range of activity analyses (from the
    first 'open' day) is stretched to at least that many days."""
    n = draw(st.integers(1, 40))
    users = draw(st.lists(st.integers(0, 7), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 100), min_size=n, max_size=n))
    kinds = draw(st.lists(st.sampled_from(["open", "open", "open", "push"]), min_size=n, max_size=n))
    rows = [(f"u{u}", pd.Timestamp(D0) + pd.Timedelta(days=d, hours=9), k) for u, d, k in zip(users, days, kinds)]
    if not any(k == "open" for _, _, k in rows):
        rows.append(("u0", pd.Timestamp(D0) + pd.Timedelta(days=days[0], hours=9), "open"))
    if min_span:
        lo = min(r[1] for r in rows if r[2] == "open")
        hi = max(r[1] for r in rows)
        rows.append(("sys", max(hi, lo + pd.Timedelta(days=min_span - 1)), "push"))
    week_start = draw(st.sampled_from(["monday", "sunday"]))
    return pd.DataFrame(rows, columns=["user_id", "timestamp", "event"]), week_start
