"""The activity cache: one product's loaded daily table, user keys and quality counts on disk, so
the notebooks of one run scan the raw log once between them.

The runner creates one cache folder per run and passes it to every notebook it starts
(``cache_dir``); :func:`retention_kit.data.load_events` looks an entry up before scanning and
stores one after. An entry's key covers the data params, the source's and the users table's files
(path, size, modification time) or demo arguments, the params file's folder and today's date
(``valid_until`` defaults to tomorrow), so a changed file or setting never meets an old entry.
Frames, Ibis tables and ``url`` / ``backend`` sources are not cached (nothing cheap identifies
them).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import ibis.expr.types as ir

from .log import DataQuality
from .params import Params, SourceSpec
from .sources import source_files

__all__ = ["ActivityCache", "Entry"]


@dataclasses.dataclass(frozen=True)
class Entry:
    """What a cache entry holds, read back into the engine."""

    daily: ir.Table
    keys: ir.Table | None
    quality: DataQuality


def _files_ident(params: Params, spec: SourceSpec) -> Any:
    return [(f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in source_files(params.resolve(spec.path))]


def _spec(source: Any) -> SourceSpec:
    return source if isinstance(source, SourceSpec) else SourceSpec(path=str(source))


@dataclasses.dataclass(frozen=True)
class ActivityCache:
    """A folder of cache entries (see the module docstring)."""

    folder: Path

    def key(self, params: Params) -> str | None:
        """The entry key for ``params``' source, or None when it cannot be fingerprinted cheaply."""
        if params.data.source is None:
            return None
        spec = _spec(params.data.source)
        if spec.demo is not None:
            ident: Any = {"demo": spec.demo}
        elif spec.path is not None:
            ident = _files_ident(params, spec)
            if not ident:
                return None
        else:
            return None
        users_ident: Any = None
        if params.data.users is not None:
            uspec = _spec(params.data.users.source)
            users_ident = _files_ident(params, uspec) if uspec.path is not None else uspec.model_dump(mode="json")
        payload = json.dumps({"data": params.data.model_dump(mode="json"), "users": users_ident, "source": ident,
                              "base": params.base_dir, "today": dt.date.today().isoformat()},
                             sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:24]

    def get(self, key: str, con: Any) -> Entry | None:
        """The entry, read into ``con`` (cached in the engine), or None when there is none."""
        marker = self.folder / f"{key}.json"
        if not marker.exists():
            return None
        quality = _quality_from_json(marker.read_text(encoding="utf-8"))
        daily = con.read_parquet(str(self.folder / f"{key}.parquet")).cache()
        keys_file = self.folder / f"{key}.keys.parquet"
        keys = con.read_parquet(str(keys_file)).cache() if keys_file.exists() else None
        return Entry(daily=daily, keys=keys, quality=quality)

    def put(self, key: str, entry: Entry) -> None:
        """Write the entry; the quality file is renamed into place last and marks the entry
        complete, so a reader sees a whole entry or none."""
        self.folder.mkdir(parents=True, exist_ok=True)
        pid = os.getpid()
        if entry.keys is not None:
            tmpk = self.folder / f".{key}.{pid}.keys.parquet"
            entry.keys.to_parquet(str(tmpk))
            os.replace(tmpk, self.folder / f"{key}.keys.parquet")
        tmp = self.folder / f".{key}.{pid}.parquet"
        entry.daily.to_parquet(str(tmp))
        os.replace(tmp, self.folder / f"{key}.parquet")
        tmpj = self.folder / f".{key}.{pid}.json"
        tmpj.write_text(_quality_to_json(entry.quality), encoding="utf-8")
        os.replace(tmpj, self.folder / f"{key}.json")


def _quality_to_json(q: DataQuality) -> str:
    d = dataclasses.asdict(q)
    for k in ("first_day", "last_day", "first_active_day"):
        d[k] = getattr(q, k).isoformat()
    return json.dumps(d)


def _quality_from_json(text: str) -> DataQuality:
    d = json.loads(text)
    d["first_day"], d["last_day"] = dt.date.fromisoformat(d["first_day"]), dt.date.fromisoformat(d["last_day"])
    d["first_active_day"] = dt.date.fromisoformat(d["first_active_day"])
    d["notes"] = tuple(d["notes"])
    return DataQuality(**d)
