"""Datasets: a synthetic notes app with planted effects, and loaders for the real public logs.

The demo log is deterministic by seed and built so that the right answers are known in advance:

- **Key behaviour.** ``INVITER_SHARE`` of engaged users are "inviters": they send 3 to 6
  ``invite_friend`` events in their first 7 days; everyone else sends 0 to 2. Inviters' expected
  lifetime is ``INVITER_LIFETIME_FACTOR`` times longer, whatever their engagement type, so
  ``invite_friend >= 3 in the first 7 days`` is the planted behaviour and 3 its threshold.
- **Activity proxies.** ``view_note`` (Poisson(2) per active day) and ``app_open`` (one or more
  per active day) depend on nothing but being active: they correlate with retention only through
  activity, so their activity-adjusted odds ratio is near 1.
- **Ladder.** Engagement types (one-day, casual, regular, core) have rising daily activity and
  rising propensities to ``save_note``, ``create_note`` and ``share``: the ladder Visitor < Saver
  < Creator < Sharer is in order.
- **Noise and system events.** ``push_sent`` is sent on inactive days too (exclude it);
  ``purchase`` carries revenue and a few are refunded (``refund`` with negative revenue).
- **Shape.** Signups grow over the period, weekends are quieter, users churn after an
  exponential lifetime and some come back for a while (resurrection).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "make_demo_log",
    "make_demo_users",
    "shared_data_dir",
    "load_stackexchange",
    "load_online_retail",
    "DEMO_EVENTS",
    "PLANTED",
]

INVITER_SHARE = 0.18
INVITER_LIFETIME_FACTOR = 5.0
DEMO_EVENTS = (
    "app_open", "view_note", "search", "save_note", "create_note", "comment", "share",
    "invite_friend", "export", "settings_change", "purchase", "refund", "push_sent",
)
#: What the demo plants, for tests and for the README.
PLANTED = {
    "key_behavior": ("invite_friend", 3, 7),
    "activity_proxies": ("view_note", "app_open"),
    "ladder": ("Visitor", "Saver", "Creator", "Sharer"),
    "system_events": ("push_sent",),
    "segment": ("plan", "pro"),  # pro users retain better (pro is likelier for engaged users)
}

# engagement types: one-day, casual, regular, core
_TYPE_SHARE = np.array([0.36, 0.32, 0.22, 0.10])
_P_ACTIVE = np.array([0.0, 0.10, 0.32, 0.72])
_LIFETIME = np.array([0.0, 12.0, 30.0, 120.0])
_P_SAVE = np.array([0.10, 0.22, 0.50, 0.70])
_P_CREATE = np.array([0.02, 0.06, 0.30, 0.55])
_P_SHARE = np.array([0.00, 0.01, 0.04, 0.15])
_P_BUY = np.array([0.0, 0.004, 0.015, 0.03])
_WEEKDAY = np.array([1.0, 1.05, 1.05, 1.0, 0.95, 0.65, 0.6])  # Monday first


@functools.lru_cache(maxsize=8)
def _simulate(n_users: int, seed: int, start: str, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    start_day = np.datetime64(start, "D")
    # signups grow over the period: density rising linearly
    signup = np.floor((days - 1) * np.sqrt(rng.random(n_users))).astype(np.int64)
    kind = rng.choice(4, size=n_users, p=_TYPE_SHARE)
    inviter = (kind > 0) & (rng.random(n_users) < INVITER_SHARE)
    life = rng.exponential(1.0, n_users) * _LIFETIME[kind] * np.where(inviter, INVITER_LIFETIME_FACTOR, 1.0)
    # a quarter of churned users come back for two weeks, 20-60 days after churning
    resurrect = (kind > 0) & (rng.random(n_users) < 0.25)
    back = np.floor(life + rng.uniform(20, 60, n_users))

    span = days - signup  # days observable per user
    uid = np.repeat(np.arange(n_users), span)
    offset = np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    day = signup[uid] + offset
    weekday = (start_day.astype("datetime64[D]").view("int64") + day + 3) % 7  # 1970-01-01 was a Thursday
    alive = offset < life[uid]
    burst = resurrect[uid] & (offset >= back[uid]) & (offset < back[uid] + 14)
    p = np.where(alive, _P_ACTIVE[kind[uid]], 0.0) + np.where(burst, 0.3, 0.0)
    active = (offset == 0) | (rng.random(len(uid)) < p * _WEEKDAY[weekday])
    # the system pushes users who are still around, active or not
    push = (alive | burst) & (rng.random(len(uid)) < 0.25)

    a_uid, a_day, a_off = uid[active], day[active], offset[active]
    k = kind[a_uid]
    n_act = len(a_uid)
    counts = {
        "app_open": 1 + rng.poisson(0.5, n_act),
        "view_note": rng.poisson(2.0, n_act),
        "search": rng.poisson(0.6, n_act),
        "save_note": (rng.random(n_act) < _P_SAVE[k]) * (1 + rng.poisson(0.3, n_act)),
        "create_note": (rng.random(n_act) < _P_CREATE[k]) * (1 + rng.poisson(0.6, n_act)),
        "comment": (k >= 2) * rng.poisson(0.3, n_act),
        "share": (rng.random(n_act) < _P_SHARE[k]).astype(np.int64),
        "invite_friend": ((a_off >= 7) & (rng.random(n_act) < 0.02)).astype(np.int64),
        "export": (rng.random(n_act) < 0.02).astype(np.int64),
        "settings_change": (rng.random(n_act) < 0.01).astype(np.int64),
        "purchase": (rng.random(n_act) < _P_BUY[k]).astype(np.int64),
    }
    # first-week invites: inviters send 3-6, others 0-2, on random first-week active days
    first_week = np.flatnonzero(a_off < 7)
    fw_user = a_uid[first_week]
    n_inv = np.where(inviter, rng.integers(3, 7, n_users), rng.choice(3, size=n_users, p=[0.72, 0.18, 0.10]))
    # rows of each user's first-week active days are contiguous (grid is user-major)
    fw_first = np.searchsorted(fw_user, np.arange(n_users))
    fw_count = np.searchsorted(fw_user, np.arange(n_users), side="right") - fw_first
    inv_user = np.repeat(np.arange(n_users), n_inv)
    pick = fw_first[inv_user] + np.floor(rng.random(len(inv_user)) * fw_count[inv_user]).astype(np.int64)
    np.add.at(counts["invite_friend"], first_week[pick], 1)

    rows_u, rows_d, rows_e = [], [], []
    for name, c in counts.items():
        c = np.asarray(c, dtype=np.int64)
        rows_u.append(np.repeat(a_uid, c))
        rows_d.append(np.repeat(a_day, c))
        rows_e.append(np.full(int(c.sum()), name, dtype=object))
    rows_u.append(uid[push])
    rows_d.append(day[push])
    rows_e.append(np.full(int(push.sum()), "push_sent", dtype=object))
    u = np.concatenate(rows_u)
    d = np.concatenate(rows_d)
    e = np.concatenate(rows_e)
    # daytime profile: most events mid-day, some late evening
    secs = np.clip(rng.normal(14 * 3600, 4.5 * 3600, len(u)), 0, 86399).astype(np.int64)
    revenue = np.full(len(u), np.nan)
    is_buy = e == "purchase"
    revenue[is_buy] = rng.choice([4.99, 9.99, 49.99], size=int(is_buy.sum()), p=[0.6, 0.3, 0.1])
    # 5% of purchases are refunded within two days
    buy_idx = np.flatnonzero(is_buy)
    ref = buy_idx[rng.random(len(buy_idx)) < 0.05]
    ref_day = np.minimum(d[ref] + rng.integers(0, 3, len(ref)), days - 1)
    u = np.concatenate([u, u[ref]])
    d = np.concatenate([d, ref_day])
    e = np.concatenate([e, np.full(len(ref), "refund", dtype=object)])
    secs = np.concatenate([secs, np.clip(secs[ref] + 3600, 0, 86399)])
    revenue = np.concatenate([revenue, -revenue[ref]])

    ts = (start_day + d.astype("timedelta64[D]")).astype("datetime64[s]") + secs.astype("timedelta64[s]")
    order = np.lexsort((secs, d, u))
    ids = np.char.add("u", np.char.zfill(np.arange(n_users).astype(str), 5))
    events = pd.DataFrame(
        {
            "user_id": ids[u[order]],
            "timestamp": ts[order].astype("datetime64[us]"),
            "event": pd.array(e[order], dtype="string"),
            "revenue": revenue[order],
        }
    )
    # the platform each user's events come from, drawn from its own stream after every other draw,
    # so the rest of the log (and every export that does not read it) is as before
    platform = np.random.default_rng([seed, 13]).choice(["ios", "android", "web"], n_users, p=[0.4, 0.35, 0.25])
    events["platform"] = pd.array(platform[u[order]], dtype="string")
    plan = np.where(kind >= 2, rng.choice(["free", "pro"], n_users, p=[0.5, 0.5]), rng.choice(["free", "pro"], n_users, p=[0.9, 0.1]))
    channel = rng.choice(["organic", "ads", "referral"], n_users, p=[0.5, 0.3, 0.2])
    users = pd.DataFrame(
        {
            "user_id": ids,
            "signup_time": (start_day + signup.astype("timedelta64[D]")).astype("datetime64[s]").astype("datetime64[us]"),
            "plan": pd.array(plan, dtype="string"),
            "channel": pd.array(channel, dtype="string"),
        }
    )
    return events, users


def make_demo_log(n_users: int = 6000, *, seed: int = 7, start: str = "2024-01-01", days: int = 210) -> pd.DataFrame:
    """A synthetic event log of a notes app with planted effects (see the module docstring).

    Parameters
    ----------
    n_users
        Users signing up over the period; events scale with it (about 60 per user).
    seed
        Same seed, same log.
    start, days
        First day and length of the log (naive local timestamps).

    Returns
    -------
    DataFrame with ``user_id``, ``timestamp``, ``event``, ``revenue`` (money for ``purchase`` and
    negative for ``refund``, else NaN), ``platform`` (ios/android/web, one per user, independent of
    everything: a ``first.platform`` breakdown finds no difference). A fresh copy each call.

    Examples
    --------
    >>> log = make_demo_log(500, seed=1)
    >>> sorted(log.columns)
    ['event', 'platform', 'revenue', 'timestamp', 'user_id']
    """
    if n_users < 1 or days < 1:
        raise ValueError("n_users and days must be positive")
    return _simulate(int(n_users), int(seed), str(start), int(days))[0].copy()


def make_demo_users(n_users: int = 6000, *, seed: int = 7, start: str = "2024-01-01", days: int = 210) -> pd.DataFrame:
    """The users table matching :func:`make_demo_log` with the same arguments.

    Columns: ``user_id``, ``signup_time``, ``plan`` (free/pro, pro likelier for engaged users),
    ``channel`` (organic/ads/referral, independent of everything).
    """
    return _simulate(int(n_users), int(seed), str(start), int(days))[1].copy()


def shared_data_dir() -> Path:
    """Folder of the real public logs: ``$RETENTION_KIT_SHARED_DATA`` or ``../shared/data`` beside
    the repository."""
    env = os.environ.get("RETENTION_KIT_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data"  # <repo>/retention_kit/data/datasets.py


def _shared(name: str) -> Path:
    p = shared_data_dir() / name
    if not p.exists():
        raise FileNotFoundError(f"{p} not found; set RETENTION_KIT_SHARED_DATA to the folder holding the public logs")
    return p


def load_stackexchange() -> pd.DataFrame:
    """Martial Arts Stack Exchange badges as events (CC BY-SA 4.0, Stack Exchange Inc. and the
    site's contributors): ``user_id``, ``timestamp`` (naive UTC), ``event``."""
    return pd.read_csv(_shared("stackexchange_martialarts") / "events.csv.gz", parse_dates=["timestamp"])


def load_online_retail() -> pd.DataFrame:
    """UCI Online Retail II, 10 non-UK countries (CC BY 4.0, Daqing Chen): purchase and cancel
    lines with ``user_id``, ``timestamp``, ``event``, quantity, price, country."""
    return pd.read_csv(_shared("online_retail_ii_subset") / "events.csv.gz", parse_dates=["timestamp"])
