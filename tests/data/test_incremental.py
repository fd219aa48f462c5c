"""Incremental refresh: a source that is a folder (or glob) of files, loaded again after a file
arrives, changes or goes, scans only what it must and gives the log a cold load gives."""

import datetime as dt
import json
import multiprocessing as mp
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_kit import load_events
from retention_kit.analyses.overview import metrics as overview_metrics
from retention_kit.analyses.overview.metrics import Duplicates, duplicate_rows
from retention_kit.analyses.stickiness import active_users, cohort_retention, growth_accounting
from retention_kit.data import cache as cache_mod
from retention_kit.data import fetch

from tests.factories import D0, make_params


def _week(week: int, *, n_users: int = 30, seed: int = 0, extra_users: int = 0) -> pd.DataFrame:
    """A week of events: users u0.. (some returning each week), a few invalid rows."""
    rng = np.random.default_rng(seed + week)
    rows = []
    for u in range(n_users + extra_users):
        for d in range(7):
            if rng.random() < 0.35:
                ts = pd.Timestamp(D0 + dt.timedelta(days=7 * week + d)) + pd.Timedelta(hours=int(rng.integers(0, 24)))
                for _ in range(int(rng.integers(1, 3))):
                    rows.append((f"u{u}", ts, str(rng.choice(["open", "save", "share"])), float(rng.integers(0, 5))))
    rows.append((None, pd.Timestamp(D0 + dt.timedelta(days=7 * week)), "open", 0.0))  # dropped: no user
    return pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "revenue"])


def _write(df: pd.DataFrame, path: Path) -> int:
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.assign(timestamp=df["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(path, index=False)
    return len(df)

def _weekly_folder(tmp_path: Path, weeks: int) -> tuple[Path, list[int]]:
    """A folder of ``weeks`` weekly Parquet files w0.parquet, w1.parquet, ...; their row counts."""
    folder = tmp_path / "events"
    folder.mkdir()
    return folder, [_write(_week(w), folder / f"w{w}.parquet") for w in range(weeks)]


def _params(source: str, **kw):
    return make_params(source=source, revenue="revenue", max_dropped_share=0.2, valid_until="2024-12-31", **kw)


def _same_log(a, b) -> None:
    """The two logs agree on everything the reports read: quality, the daily table by original
    id, and tables computed from it."""
    assert a.quality == b.quality
    cols = ["user_id", "day", "event"]
    da = fetch(a.original_ids(a.daily), sort=cols).reset_index(drop=True)
    db = fetch(b.original_ids(b.daily), sort=cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(da[sorted(da.columns)], db[sorted(db.columns)])
    pd.testing.assert_frame_equal(active_users(a), active_users(b))
    pd.testing.assert_frame_equal(growth_accounting(a, granularity="week"), growth_accounting(b, granularity="week"))
    pd.testing.assert_frame_equal(cohort_retention(a, granularity="week"), cohort_retention(b, granularity="week"))


def _cold(source: str, **kw):
    return load_events(_params(source, **kw))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_one_more_file_scans_only_that_file_and_equals_a_cold_load(tmp_path, suffix):
    folder = tmp_path / "events"
    folder.mkdir()
    rows = [_write(_week(w), folder / f"week-{w:02d}{suffix}") for w in range(12)]
    source, cache = str(folder / f"*{suffix}"), tmp_path / "cache"
    first = load_events(_params(source), cache_dir=cache)
    assert first.load_stats.cache == "miss" and first.load_stats.rows_scanned == sum(rows)
    assert first.load_stats.files_scanned == 12
    _same_log(first, _cold(source))

    new = _write(_week(12), folder / f"week-12{suffix}")
    second = load_events(_params(source), cache_dir=cache)
    st = second.load_stats
    assert st.cache == "partial" and st.files_scanned == 1 and st.rows_scanned == new
    assert st.rows_scanned <= 0.10 * first.load_stats.rows_scanned
    assert second.quality.rows_read == sum(rows) + new
    _same_log(second, _cold(source))

    third = load_events(_params(source), cache_dir=cache)
    assert third.load_stats.cache == "hit" and third.load_stats.rows_scanned == 0
    _same_log(third, _cold(source))


def test_a_late_file_with_days_and_users_others_hold_adds_up_across_files(tmp_path):
    # the new file repeats (user, day, event) groups the first file holds: the daily table must
    # add their counts, not list them twice
    folder = tmp_path / "events"
    folder.mkdir()
    base = _week(0)
    _write(base, folder / "a.parquet")
    cache = tmp_path / "cache"
    load_events(_params(str(folder)), cache_dir=cache)
    _write(base.iloc[::3], folder / "b.parquet")
    again = load_events(_params(str(folder)), cache_dir=cache)
    assert again.load_stats.cache == "partial"
    _same_log(again, _cold(str(folder)))
    # an independent count: events of u1 on the first day, from the raw rows of both files
    both = pd.concat([base, base.iloc[::3]], ignore_index=True)
    mine = both[both.user_id == "u1"]
    want = mine.groupby(mine.timestamp.dt.date).size().sort_index()
    got = fetch(again.original_ids(again.daily))
    got = got[got.user_id == "u1"].groupby(got.day.dt.date)["n"].sum().sort_index()
    assert got.tolist() == want.tolist() and list(got.index) == list(want.index)
    # the pieces share days: rows of b repeat rows of a, and the duplicate count sees both files
    assert duplicate_rows(again) == _pandas_duplicates(both)


def _pandas_duplicates(df: pd.DataFrame) -> Duplicates:
    """Exact and same-key repeats among the valid rows (here: the rows with a user), in pandas."""
    df = df[df.user_id.notna()]
    exact = len(df) - len(df.drop_duplicates())
    return Duplicates(exact, len(df) - len(df.drop_duplicates(["user_id", "timestamp", "event"])) - exact)


def test_duplicate_counts_are_kept_per_piece_and_counted_for_new_files_only(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_mod, "PIECE_ROWS", 1)  # one file per piece
    real, calls = overview_metrics._repeats, []
    monkeypatch.setattr(overview_metrics, "_repeats", lambda rows, key: calls.append(1) or real(rows, key))
    folder, _ = _weekly_folder(tmp_path, 3)
    source, cache = str(folder), tmp_path / "cache"

    def want() -> Duplicates:
        return _pandas_duplicates(pd.concat([pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))]))

    assert want().exact > 0
    assert duplicate_rows(load_events(_params(source), cache_dir=cache)) == want() and len(calls) == 3
    assert duplicate_rows(load_events(_params(source), cache_dir=cache)) == want() and len(calls) == 3
    _write(_week(3), folder / "w3.parquet")
    assert duplicate_rows(load_events(_params(source), cache_dir=cache)) == want() and len(calls) == 4


def test_a_changed_or_removed_file_rescans_its_piece_only(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_mod, "PIECE_ROWS", 1)  # one file per piece, so a piece is a file
    folder, rows = _weekly_folder(tmp_path, 4)
    source, cache = str(folder), tmp_path / "cache"
    assert load_events(_params(source), cache_dir=cache).load_stats.rows_scanned == sum(rows)

    # a changed file (same name) is found by its fingerprint and scanned again, alone
    changed = _write(_week(2, seed=7, extra_users=5), folder / "w2.parquet")
    log = load_events(_params(source), cache_dir=cache)
    assert log.load_stats.cache == "partial" and log.load_stats.rows_scanned == changed
    _same_log(log, _cold(source))

    # a removed file: nothing to scan, and its rows are gone
    (folder / "w0.parquet").unlink()
    log = load_events(_params(source), cache_dir=cache)
    assert log.load_stats.rows_scanned == 0 and log.load_stats.cache == "partial"
    _same_log(log, _cold(source))


def test_the_signature_catches_a_same_size_same_time_rewrite(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("user_id,timestamp,event\nu1,2024-01-01 10:00:00,open\n")
    st = os.stat(f)
    before = cache_mod.fingerprint(str(f))
    f.write_text("user_id,timestamp,event\nu2,2024-01-01 10:00:00,open\n")  # same length
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(f).st_size == st.st_size and os.stat(f).st_mtime_ns == st.st_mtime_ns
    assert cache_mod.fingerprint(str(f)) != before


def test_other_data_params_never_reuse_the_pieces(tmp_path):
    folder, _ = _weekly_folder(tmp_path, 3)
    source, cache = str(folder), tmp_path / "cache"
    load_events(_params(source), cache_dir=cache)
    for kw in ({"timezone": "Asia/Shanghai"}, {"exclude_events": ["share"]}, {"active_events": ["open"]}):
        log = load_events(_params(source, **kw), cache_dir=cache)
        assert log.load_stats.cache == "miss", kw
        _same_log(log, _cold(source, **kw))
    # and back: built afresh for the first params too, equal to a cold load
    log = load_events(_params(source), cache_dir=cache)
    assert log.load_stats.cache == "miss"
    _same_log(log, _cold(source))


def test_a_damaged_manifest_or_piece_is_rebuilt_not_misread(tmp_path):
    folder, _ = _weekly_folder(tmp_path, 2)
    source, cache = str(folder), tmp_path / "cache"
    load_events(_params(source), cache_dir=cache)
    manifest = cache / "t" / "manifest.json"
    manifest.write_text("{not json")
    log = load_events(_params(source), cache_dir=cache)
    assert log.load_stats.cache == "miss"
    _same_log(log, _cold(source))
    piece = json.loads(manifest.read_text())["pieces"]
    for entry in piece.values():
        (cache / "t" / entry["file"]).unlink()
    log = load_events(_params(source), cache_dir=cache)
    assert log.load_stats.cache == "miss"
    _same_log(log, _cold(source))


def _load_in_child(args):
    source, cache = args
    log = load_events(_params(source), cache_dir=cache)
    return log.quality.rows_read, log.quality.users, fetch(log.daily)["n"].sum()


def test_concurrent_loads_of_one_cache_folder_agree(tmp_path):
    folder, _ = _weekly_folder(tmp_path, 3)
    source, cache = str(folder), str(tmp_path / "cache")
    load_events(_params(source), cache_dir=cache)
    _write(_week(3), folder / "w3.parquet")
    cold = _cold(source)
    want = (cold.quality.rows_read, cold.quality.users, cold.quality.rows_kept)
    # two processes refresh the same folder at once (two scheduled runs sharing --cache-dir)
    with mp.get_context("spawn").Pool(2) as pool:
        got = pool.map(_load_in_child, [(source, cache)] * 2)
    assert all(tuple(int(v) for v in g) == want for g in got), (got, want)
    log = load_events(_params(source), cache_dir=cache)
    assert log.load_stats.cache == "hit"
    _same_log(log, cold)


def test_files_another_engine_reads_are_not_cached_as_duckdb_pieces(tmp_path):
    # a DuckDB-read cache of {backend: pyspark, path} files would move every analysis to DuckDB
    from retention_kit.data.cache import source_ident
    from retention_kit.data.params import SourceSpec

    (tmp_path / "e.parquet").write_bytes(b"")
    params = make_params()
    assert source_ident(params, SourceSpec(backend="pyspark", path=str(tmp_path / "e.parquet"))) is None
    assert source_ident(params, SourceSpec(path=str(tmp_path / "e.parquet")))[0] == "files"


def test_shared_derived_tables_are_kept_for_the_next_load_of_the_same_log(tmp_path, monkeypatch):
    folder, _ = _weekly_folder(tmp_path, 3)
    source, cache = str(folder), tmp_path / "cache"
    cold = _cold(source)
    first = load_events(_params(source), cache_dir=cache)
    names = ("active_days", "starts", "user_cadence")

    def tables(log) -> dict[str, pd.DataFrame]:
        out = {}
        for n in names:
            df = fetch(log.original_ids(getattr(log, n)()))
            out[n] = df.sort_values(list(df.columns)).reset_index(drop=True)
        return out

    want = tables(cold)
    for n, df in tables(first).items():
        pd.testing.assert_frame_equal(df, want[n])
    assert len(list((cache / "t").glob("derived-*.parquet"))) == 3
    # the next load of the same files reads them: building any of them again would fail
    table = cache_mod.StoredResults.table
    monkeypatch.setattr(cache_mod.StoredResults, "table", lambda self, name, build, con: table(self, name, lambda: 1 / 0, con))
    for n, df in tables(load_events(_params(source), cache_dir=cache)).items():
        pd.testing.assert_frame_equal(df, want[n])


def _active_days_in_child(args):
    """A kernel of a run: load the log, wait for the other, then read its active days. Each
    build of the table writes this process's id to ``builds`` and takes a second, so both
    processes ask for the table while the first build runs."""
    import time

    source, cache, builds, start = args
    log = load_events(_params(source), cache_dir=cache)
    table = cache_mod.StoredResults.table

    def slow(build):
        def wrapped():
            with open(builds, "a") as fh:
                fh.write(f"{os.getpid()}\n")
            time.sleep(1.0)
            return build()
        return wrapped

    cache_mod.StoredResults.table = lambda self, name, build, con: table(self, name, slow(build), con)
    start.wait()
    df = fetch(log.original_ids(log.active_days()))
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def test_two_kernels_that_want_one_derived_table_at_once_build_it_once(tmp_path):
    # two kernels of a run start together: the second waits for the first's table and reads it
    folder, _ = _weekly_folder(tmp_path, 3)
    source, cache, builds = str(folder), tmp_path / "cache", tmp_path / "builds.txt"
    load_events(_params(source), cache_dir=cache)
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(2) as pool:
        start = manager.Barrier(2)
        got = pool.map(_active_days_in_child, [(source, str(cache), str(builds), start)] * 2)
    assert len(builds.read_text().split()) == 1
    cold = _cold(source)
    want = fetch(cold.original_ids(cold.active_days()))
    want = want.sort_values(list(want.columns)).reset_index(drop=True)
    for df in got:
        pd.testing.assert_frame_equal(df, want)
    # the build lock is a file of the folder until the next update sweeps it away
    assert list((cache / "t").glob(f"*{cache_mod.BUILD_LOCK}"))
