"""A small shop log whose title, event names and rung names are Chinese (Traditional and
Simplified), Japanese and Korean: what a product team in Taiwan or mainland China brings.

``write_shop(folder)`` writes ``events.csv``, ``users.csv`` and ``shop.yaml`` (params whose paths
are relative to the YAML) and returns the YAML's path. The log is deterministic and large enough
for every report to draw its charts: a few hundred buyers over four months, browsing
(``瀏覽商品``), adding to the cart (``加入購物車``), checking out (``結帳``, with revenue), plus a
Simplified-Chinese (``领取优惠券``), a kana (``お気に入り``) and a hangul (``리뷰 작성``) event,
so each script reaches the chart labels and tick labels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["write_shop", "SHOP_TITLE", "SHOP_EVENTS", "SHOP_RUNGS"]

SHOP_TITLE = "樂屋網 買家"
BROWSE, CART, CHECKOUT = "瀏覽商品", "加入購物車", "結帳"
COUPON, FAVOURITE, REVIEW = "领取优惠券", "お気に入り", "리뷰 작성"
SHOP_EVENTS = (BROWSE, CART, CHECKOUT, COUPON, FAVOURITE, REVIEW)
SHOP_RUNGS = ("訪客", "加購者", "買家")


def _log(n_users: int, seed: int, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-03-04")  # a Monday
    rows: list[tuple[str, pd.Timestamp, str, float]] = []
    signups = []
    for u in range(n_users):
        uid = f"b{u:04d}"
        signup = int(rng.integers(0, days - 14))
        signups.append(start + pd.Timedelta(days=signup))
        # buyers who add to the cart twice in their first week stay about three times longer
        eager = rng.random() < 0.3
        life = rng.exponential(60.0 if eager else 20.0)
        p_day = rng.uniform(0.15, 0.45)
        for d in range(signup, days):
            off = d - signup
            if off > life or (off > 0 and rng.random() > p_day):
                continue
            t = start + pd.Timedelta(days=d, hours=int(rng.integers(8, 23)), minutes=int(rng.integers(0, 60)))
            rows += [(uid, t - pd.Timedelta(minutes=k), BROWSE, np.nan) for k in range(1 + int(rng.poisson(1.5)))]
            carts = int(rng.random() < (0.9 if eager and off < 7 else 0.3))
            if carts:
                rows.append((uid, t + pd.Timedelta(minutes=2), CART, np.nan))
            if carts and rng.random() < 0.45:
                rows.append((uid, t + pd.Timedelta(minutes=9), CHECKOUT, float(rng.choice([199.0, 490.0, 1280.0]))))
            if rng.random() < 0.12:
                rows.append((uid, t + pd.Timedelta(minutes=1), COUPON, np.nan))
            if rng.random() < 0.2:
                rows.append((uid, t + pd.Timedelta(minutes=3), FAVOURITE, np.nan))
            if rng.random() < 0.05:
                rows.append((uid, t + pd.Timedelta(minutes=30), REVIEW, np.nan))
    events = pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "revenue"])
    users = pd.DataFrame({"user_id": [f"b{u:04d}" for u in range(n_users)], "signup_time": signups,
                          "會員等級": rng.choice(["一般會員", "金卡會員"], n_users, p=[0.75, 0.25])})
    return events, users


def write_shop(folder: Path, *, n_users: int = 400, seed: int = 3, days: int = 120, language: str = "en") -> Path:
    """Write the shop log, its users table and params into ``folder``; return the params path.
    ``language``: the reports' language (top-level ``language``)."""
    events, users = _log(n_users, seed, days)
    events.to_csv(folder / "events.csv", index=False)
    users.to_csv(folder / "users.csv", index=False)
    params = {
        "product": "shop", "title": SHOP_TITLE, "language": language,
        "data": {"source": "events.csv", "timezone": "Asia/Taipei", "revenue": "revenue",
                 "purchase_events": [CHECKOUT],
                 "users": {"source": "users.csv", "signup_time": "signup_time", "attributes": ["會員等級"]}},
        "key_behaviors": {"segment_attributes": ["會員等級"]},
        "ladder": {"rungs": [{"name": SHOP_RUNGS[0], "when": {"active_days": 1}},
                             {"name": SHOP_RUNGS[1], "when": {"event": CART, "min": 1}},
                             {"name": SHOP_RUNGS[2], "when": {"event": CHECKOUT, "min": 1}}]},
    }
    path = folder / "shop.yaml"
    path.write_text(json.dumps(params, ensure_ascii=False, indent=1), encoding="utf-8")  # JSON is YAML
    return path
