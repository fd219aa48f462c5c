"""One small event log written in each analytics tool's export shape, and as a plain CSV.

:func:`canonical` draws the log: user, UTC time (whole seconds), event and revenue. Each
``write_*`` function writes the same rows the way that tool exports them (the shapes are those
the presets in ``retention_kit.data.formats`` cite); :func:`write_plain_csv` writes them as a
``user_id,timestamp,event,revenue`` CSV whose times are local wall-clock times in ``TZ``,
converted here with pandas, independently of the kit. The fixtures are made up, never copied
from a vendor.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: The product's zone in the fixtures' params: days change at 16:00 UTC
TZ = "Asia/Shanghai"
START = pd.Timestamp("2024-01-01", tz="UTC")
ACTIONS = ("app_open", "page", "create_note", "share")


def canonical(*, users: int = 80, days: int = 84, seed: int = 14) -> pd.DataFrame:
    """The log: ``user_id`` (a UUID, as PostHog's person ids are), ``utc`` (aware, whole
    seconds), ``event``, ``revenue`` (purchases only, else NaN), and ``n``, the user's number
    (the writers derive other ids from it). Users start in the first six weeks and come back
    less and less; some buy."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, pd.Timestamp, str, float, int]] = []
    for i in range(users):
        user = _id(i, "user")
        first = int(rng.integers(0, 42))
        keep = rng.uniform(0.15, 0.7)
        for day in range(first, days):
            if day != first and rng.uniform() > keep * 0.9 ** ((day - first) / 7):
                continue
            for _ in range(int(rng.integers(1, 4))):
                second = int(rng.integers(0, 86_400))
                t = START + pd.Timedelta(days=day, seconds=second)
                rows.append((user, t, str(rng.choice(ACTIONS)), np.nan, i))
            if rng.uniform() < 0.08:
                t = START + pd.Timedelta(days=day, seconds=int(rng.integers(0, 86_400)))
                rows.append((user, t, "purchase", float(rng.choice([9.99, 20.0, 4.5])), i))
    df = pd.DataFrame(rows, columns=["user_id", "utc", "event", "revenue", "n"])
    return df.sort_values(["utc", "user_id"], kind="stable").reset_index(drop=True)


def _epoch(t: pd.Series, unit: str) -> list[int]:
    """Whole epoch numbers in ``unit``, by timedelta division (never an assumed int64 resolution)."""
    return ((t - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(1, unit=unit)).astype("int64").tolist()


def _iso_z(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _lines(path: Path, records: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(r) + "\n" for r in records).encode("utf-8")
    path.write_bytes(gzip.compress(text, mtime=0) if path.name.endswith(".gz") else text)


def _id(i: int, what: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"retention-kit-fixture/{what}/{i}"))


def write_plain_csv(df: pd.DataFrame, path: Path) -> Path:
    """``user_id,timestamp,event,revenue`` with local (``TZ``) wall-clock times."""
    local = df["utc"].dt.tz_convert(TZ).dt.tz_localize(None).dt.strftime("%Y-%m-%d %H:%M:%S")
    df.assign(timestamp=local)[["user_id", "timestamp", "event", "revenue"]].to_csv(path, index=False)
    return path


def write_segment(df: pd.DataFrame, folder: Path) -> Path:
    """The S3 destination's raw logs: gzipped JSON lines of Spec calls, in
    ``segment-logs/<source id>/<received day>/<name>.gz`` (the name says nothing of JSON).

    ``track`` calls for actions, ``page`` calls for the ``page`` events. A user's calls before
    their first purchase-or-share are anonymous (``userId`` null, ``anonymousId`` the id), the
    rest carry both ids, with another ``anonymousId``; half the times are written with a +08:00
    offset instead of Z (the same instant)."""
    folder.mkdir(parents=True, exist_ok=True)
    identified: set[str] = set()
    by_day: dict[str, list[dict[str, Any]]] = {}
    for i, r in enumerate(df.itertuples(index=False)):
        if r.event in ("purchase", "share"):
            identified.add(r.user_id)
        known = r.user_id in identified
        when = _iso_z(r.utc) if i % 2 else r.utc.tz_convert("Asia/Shanghai").strftime("%Y-%m-%dT%H:%M:%S.000+08:00")
        call: dict[str, Any] = {
            "messageId": _id(i, "segment"), "type": "page" if r.event == "page" else "track",
            "userId": r.user_id if known else None, "anonymousId": f"anon-{r.user_id}" if known else r.user_id,
            "timestamp": when, "receivedAt": _iso_z(r.utc + pd.Timedelta(seconds=2)),
            "context": {"library": {"name": "analytics.js", "version": "5.2.0"}, "locale": "zh-CN"},
        }
        if r.event == "page":
            call["name"] = "Home"
            call["properties"] = {"path": "/", "title": "Home"}
        else:
            call["event"] = r.event
            call["properties"] = {"revenue": r.revenue} if r.event == "purchase" else {"plan": "free"}
        by_day.setdefault(r.utc.strftime("%Y-%m-%d"), []).append(call)
    for day, calls in by_day.items():
        sub = folder / "segment-logs" / "AbCdEf123" / str(int(pd.Timestamp(day).timestamp() * 1000))
        sub.mkdir(parents=True, exist_ok=True)
        _lines(sub / f"{_id(len(day), day)[:8]}.gz", calls)
    return folder


def write_mixpanel(df: pd.DataFrame, path: Path, *, unit: str = "s") -> Path:
    """The raw export: JSON lines with the time (seconds, or ms for ``time_in_ms``) and the user
    inside ``properties``."""
    times = _epoch(df["utc"], unit)
    records = []
    for i, (r, t) in enumerate(zip(df.itertuples(index=False), times)):
        props: dict[str, Any] = {"time": t, "distinct_id": r.user_id, "$insert_id": _id(i, "mixpanel"),
                                 "mp_country_code": "CN", "$city": "Shanghai", "mp_lib": "web"}
        if r.event == "purchase":
            props["revenue"] = r.revenue
        records.append({"event": r.event, "properties": props})
    _lines(path, records)
    return path


def write_amplitude(df: pd.DataFrame, folder: Path) -> Path:
    """The Export API's archive, unzipped: .json.gz files of events (one a day here; the API
    writes one or more an hour), ``event_time`` in
    UTC without an offset. A third of the users have no ``user_id`` yet (their ``device_id`` is
    the id)."""
    folder.mkdir(parents=True, exist_ok=True)
    by_hour: dict[str, list[dict[str, Any]]] = {}
    for i, r in enumerate(df.itertuples(index=False)):
        anonymous = r.n % 3 == 0
        rec: dict[str, Any] = {
            "$insert_id": _id(i, "amplitude-insert"), "uuid": _id(i, "amplitude"), "app": 123456,
            "amplitude_id": 100000 + r.n,
            "user_id": None if anonymous else r.user_id, "device_id": r.user_id if anonymous else f"device-{r.user_id}",
            "event_type": r.event, "event_time": r.utc.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "client_event_time": r.utc.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "server_upload_time": (r.utc + pd.Timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S.%f"),
            "event_properties": {"revenue": r.revenue} if r.event == "purchase" else {},
            "user_properties": {"plan": "pro" if r.n % 4 == 0 else "free"},
            "platform": "Web", "country": "China", "city": "Shanghai",
        }
        by_hour.setdefault(r.utc.strftime("%Y-%m-%d_0"), []).append(rec)
    for hour, recs in by_hour.items():
        _lines(folder / f"123456_{hour}#0.json.gz", recs)
    return folder


def write_posthog(df: pd.DataFrame, path: Path) -> Path:
    """The events model of a batch export: Parquet (``properties`` as JSON text, ``timestamp`` a
    UTC timestamp) or, for a ``.jsonl``/``.jsonl.gz`` path, JSON lines (ISO text times, nested
    properties). Users have an anonymous ``distinct_id`` before their first share or purchase,
    then an e-mail address; ``person_id`` is the person (the log's user id) either way."""
    identified: set[str] = set()
    recs = []
    for i, r in enumerate(df.itertuples(index=False)):
        if r.event in ("purchase", "share"):
            identified.add(r.user_id)
        props: dict[str, Any] = {"$browser": "Chrome", "$current_url": "https://example.test/"}
        if r.event == "purchase":
            props["revenue"] = r.revenue
        recs.append({
            "uuid": _id(i, "posthog"), "event": r.event,
            "distinct_id": f"user{r.n}@example.test" if r.user_id in identified else _id(r.n, "posthog-anon"),
            "person_id": r.user_id, "properties": props,
            "person_properties": {"email_domain": "example.test"}, "elements_chain": "",
            "timestamp": r.utc, "created_at": r.utc + pd.Timedelta(seconds=3),
        })
    if path.suffix == ".parquet":
        cols = {k: [rec[k] for rec in recs] for k in recs[0]}
        for k in ("properties", "person_properties"):
            cols[k] = [json.dumps(v) for v in cols[k]]
        for k in ("timestamp", "created_at"):
            cols[k] = pa.array([t.to_pydatetime() for t in cols[k]], pa.timestamp("us", tz="UTC"))
        pq.write_table(pa.table(cols), path)
    else:
        for rec in recs:
            for k in ("timestamp", "created_at"):
                rec[k] = rec[k].strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        _lines(path, recs)
    return path


_GA4_VALUE = pa.struct([("string_value", pa.string()), ("int_value", pa.int64()),
                        ("float_value", pa.float64()), ("double_value", pa.float64())])
_GA4_PARAM = pa.struct([("key", pa.string()), ("value", _GA4_VALUE)])


def _param(key: str, *, s: str | None = None, i: int | None = None, d: float | None = None) -> dict[str, Any]:
    return {"key": key, "value": {"string_value": s, "int_value": i, "float_value": None, "double_value": d}}


def write_ga4(df: pd.DataFrame, path: Path) -> Path:
    """An ``events_*`` table of the BigQuery export: Parquet with BigQuery's types, or for a
    ``.jsonl``/``.json.gz`` path the JSON BigQuery writes (INT64 values as strings). Revenue is
    the ``value`` parameter: ``int_value`` for whole amounts, ``double_value`` otherwise."""
    times = _epoch(df["utc"], "us")
    rows = []
    for i, (r, t) in enumerate(zip(df.itertuples(index=False), times)):
        params = [_param("ga_session_id", i=1_700_000_000 + i // 5), _param("page_location", s="https://example.test/")]
        if r.event == "purchase":
            whole = float(r.revenue).is_integer()
            params.append(_param("value", i=int(r.revenue)) if whole else _param("value", d=float(r.revenue)))
        rows.append({
            "event_date": r.utc.tz_convert(TZ).strftime("%Y%m%d"), "event_timestamp": t, "event_name": r.event,
            "event_params": params, "user_id": None, "user_pseudo_id": r.user_id,
            "user_properties": [{"key": "plan", "value": {"string_value": "free", "int_value": None,
                                                          "float_value": None, "double_value": None}}],
            "device": {"category": "desktop", "operating_system": "Windows"}, "geo": {"country": "China"},
            "platform": "WEB", "stream_id": "1234567890",
        })
    if path.suffix == ".parquet":
        schema = pa.schema([("event_date", pa.string()), ("event_timestamp", pa.int64()), ("event_name", pa.string()),
                            ("event_params", pa.list_(_GA4_PARAM)), ("user_id", pa.string()),
                            ("user_pseudo_id", pa.string()), ("user_properties", pa.list_(_GA4_PARAM)),
                            ("device", pa.struct([("category", pa.string()), ("operating_system", pa.string())])),
                            ("geo", pa.struct([("country", pa.string())])), ("platform", pa.string()),
                            ("stream_id", pa.string())])
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    else:
        def big(v: Any) -> Any:  # BigQuery's JSON: INT64 as strings, nulls left out
            if isinstance(v, dict):
                return {k: big(x) for k, x in v.items() if x is not None}
            if isinstance(v, list):
                return [big(x) for x in v]
            return str(v) if isinstance(v, int) and not isinstance(v, bool) else v
        _lines(path, [big(r) for r in rows])
    return path


def local_days(df: pd.DataFrame) -> pd.Series:
    """Each row's local calendar day in ``TZ``."""
    return df["utc"].dt.tz_convert(TZ).dt.date.map(lambda d: dt.date(d.year, d.month, d.day))
