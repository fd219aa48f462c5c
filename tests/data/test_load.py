import datetime as dt
import gzip
import hashlib
import os
import re

import ibis
import pandas as pd
import pytest

from retention_kit import DataError, SourceError, load_events
from retention_kit.data import fetch

from tests.factories import events, load, make_params

# Three users over three days; u3 only has a system event that the tests exclude.
TINY = pd.DataFrame(
    {
        "user_id": ["u1", "u1", "u1", "u2", "u2", "u3"],
        "timestamp": pd.to_datetime(
            ["2024-03-01 09:00", "2024-03-01 10:00", "2024-03-03 23:30", "2024-03-02 08:00", "2024-03-02 08:00", "2024-03-02 12:00"]
        ),
        "event": ["open", "save", "open", "open", "open", "push"],
    }
)


def test_dataframe_source_counts_and_range():
    log = load(TINY)
    q = log.quality
    assert (q.rows_read, q.rows_kept, q.users, q.event_types) == (6, 6, 3, 3)
    assert (q.first_day, q.last_day) == (dt.date(2024, 3, 1), dt.date(2024, 3, 3))
    daily = fetch(log.original_ids(log.daily), sort=["user_id", "day", "event"])
    # u1: 03-01 open 1 + save 1, 03-03 open 1; u2: 03-02 open 2 (a duplicate row); u3: push 1
    assert daily[["user_id", "event", "n"]].values.tolist() == [
        ["u1", "open", 1], ["u1", "save", 1], ["u1", "open", 1], ["u2", "open", 2], ["u3", "push", 1]]


def test_exclude_and_active_events():
    log = load(TINY, exclude_events=["push"], active_events=["open"])
    q = log.quality
    assert q.excluded == 1 and q.rows_kept == 5 and q.users == 2
    active = fetch(log.original_ids(log.active_days()), sort=["user_id", "day"])
    assert active["day"].dt.date.tolist() == [dt.date(2024, 3, 1), dt.date(2024, 3, 3), dt.date(2024, 3, 2)]
    # save does not count as activity but stays as a behaviour
    assert set(fetch(log.daily.filter(~log.daily.active))["event"]) == {"save"}


def test_starts_from_first_activity_or_signup():
    users = pd.DataFrame({"user_id": ["u1", "u9"], "signup_time": pd.to_datetime(["2024-02-28 22:00", "2024-03-02 01:00"])})
    log = load(TINY, users=users, params=make_params(users={"source": "(given)"}))
    starts = fetch(log.original_ids(log.starts()), sort=["user_id"])
    # u1 from the users table, u9 signed up without events, u2/u3 from first activity
    assert starts["user_id"].tolist() == ["u1", "u2", "u3", "u9"]
    assert starts["start_day"].dt.date.tolist() == [dt.date(2024, 2, 28), dt.date(2024, 3, 2), dt.date(2024, 3, 2), dt.date(2024, 3, 2)]


def test_naive_times_are_local_and_aware_times_convert():
    df = pd.DataFrame({"user_id": ["a", "b"], "event": ["x", "x"],
                       "timestamp": pd.to_datetime(["2024-01-15 23:30:00+00:00", "2024-07-15 22:30:00+00:00"], utc=True)})
    log = load(df, timezone="Europe/Berlin")
    # 23:30 UTC in January is 00:30 CET the next day; 22:30 UTC in July is 00:30 CEST
    days = fetch(log.events.select("user_id", "day"), sort=["user_id"])["day"].dt.date.tolist()
    assert days == [dt.date(2024, 1, 16), dt.date(2024, 7, 16)]
    naive = df.assign(timestamp=df["timestamp"].dt.tz_localize(None))
    days = fetch(load(naive, timezone="Europe/Berlin").events.select("user_id", "day"), sort=["user_id"])["day"].dt.date.tolist()
    assert days == [dt.date(2024, 1, 15), dt.date(2024, 7, 15)]


def test_string_times_with_offsets(tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("user_id,timestamp,event\na,2024-01-15T23:30:00+00:00,x\nb,2024-01-15 23:30:00,x\n")
    log = load_events(make_params(source=str(f), timezone="Asia/Tokyo"))
    days = fetch(log.events.select("user_id", "day"), sort=["user_id"])["day"].dt.date.tolist()
    # a: offset given, 08:30 next day in Tokyo; b: naive, read as Tokyo time
    assert days == [dt.date(2024, 1, 16), dt.date(2024, 1, 15)]


def _write_sources(tmp_path):
    csv = tmp_path / "events.csv"
    TINY.to_csv(csv, index=False)
    gz = tmp_path / "events.csv.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write(csv.read_text())
    folder = tmp_path / "parts"
    folder.mkdir()
    TINY.iloc[:3].to_parquet(folder / "a.parquet")
    TINY.iloc[3:].to_parquet(folder / "b.parquet")
    jl = tmp_path / "events.jsonl"
    TINY.assign(timestamp=TINY.timestamp.astype(str)).to_json(jl, orient="records", lines=True)
    db = tmp_path / "events.duckdb"
    con = ibis.duckdb.connect(str(db))
    con.create_table("events", TINY)
    con.disconnect()
    return csv, gz, folder, jl, db


def test_every_file_source_reads_the_same_log(tmp_path):
    csv, gz, folder, jl, db = _write_sources(tmp_path)
    sources = [str(csv), str(gz), str(folder), str(folder / "*.parquet"), str(jl), {"path": str(db), "table": "events"}]
    for src in sources:
        q = load_events(make_params(source=src)).quality
        assert (q.rows_kept, q.users, q.event_types) == (6, 3, 3), src
    # an Ibis table from any connection
    t = ibis.duckdb.connect().read_csv(str(csv))
    assert load_events(make_params(), source=t).quality.rows_kept == 6


def test_sources_are_never_modified(tmp_path):
    csv, gz, folder, jl, db = _write_sources(tmp_path)
    files = [csv, gz, folder / "a.parquet", jl, db]
    before = {f: (hashlib.sha256(f.read_bytes()).hexdigest(), os.stat(f).st_mtime_ns) for f in files}
    load_events(make_params(source=str(csv), exclude_events=["push"]))
    load_events(make_params(source={"path": str(db), "table": "events"}))
    load_events(make_params(source=str(folder)))
    after = {f: (hashlib.sha256(f.read_bytes()).hexdigest(), os.stat(f).st_mtime_ns) for f in files}
    assert before == after
    frame = TINY.copy()
    load(frame, exclude_events=["push"])
    pd.testing.assert_frame_equal(frame, TINY)


def test_missing_source_and_unreadable_file(tmp_path):
    with pytest.raises(SourceError, match="no event file at .*nope.csv"):
        load_events(make_params(source=str(tmp_path / "nope.csv")))
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(SourceError, match="cannot read"):
        load_events(make_params(source=str(bad)))
    db = tmp_path / "events.duckdb"
    ibis.duckdb.connect(str(db)).create_table("evts", TINY)
    with pytest.raises(SourceError, match="did you mean 'evts'"):
        load_events(make_params(source={"path": str(db), "table": "events"}))


def test_missing_column_suggests_nearest():
    with pytest.raises(DataError, match=r"column 'user' \(data.user\) not found.*did you mean 'user_id'"):
        load(TINY, user="user")


def test_other_delimiter_is_named(tmp_path):
    f = tmp_path / "semi.csv"
    f.write_text("user_id;timestamp;event\nu1;2024-01-01 10:00;x\n")
    # DuckDB's sniffer usually finds ';' itself; either it loads or the error says what to do
    try:
        assert load_events(make_params(source=str(f))).quality.rows_kept == 1
    except DataError as e:
        assert "delimiter" in str(e)


def test_time_column_errors():
    df = TINY.assign(timestamp=["not a time"] * 6)
    with pytest.raises(DataError, match=r"none of its 6 values parse as a time \(e.g. 'not a time'\)"):
        load(df)
    with pytest.raises(DataError, match="all 6 rows are null"):
        load(TINY.assign(timestamp=pd.Series([None] * 6, dtype="string")))
    with pytest.raises(DataError, match=r"holds numbers \(float64\), not times; values near 1.5e0 are not epoch times"):
        load(TINY.assign(timestamp=1.5))


def test_some_bad_rows_are_dropped_and_counted_under_the_threshold():
    df = pd.concat([TINY.assign(timestamp=TINY.timestamp.astype(str))] * 10, ignore_index=True)
    df.loc[0, "timestamp"] = "garbage"
    df.loc[1, "user_id"] = None
    df.loc[2, "user_id"] = "   "
    log = load(df)
    q = log.quality
    assert q.rows_read == 60 and q.rows_kept == 57
    assert q.dropped == {"null or blank user id ('user_id')": 2, "time that does not parse ('timestamp')": 1}
    # 2 of 60 is 3.3%: over a 2% limit it is an error naming the column, the count and the fix
    with pytest.raises(DataError, match=r"2 of 60 rows \(3.3%\) have a null or blank user id \('user_id'\).*max_dropped_share"):
        load(df, max_dropped_share=0.02)


def test_times_outside_the_valid_range():
    df = TINY.copy()
    df.loc[0, "timestamp"] = pd.Timestamp("1970-01-01")
    df.loc[1, "timestamp"] = pd.Timestamp("2199-01-01")
    log = load(df, max_dropped_share=0.5)
    assert log.quality.dropped == {"time before 1990-01-01 (data.valid_from)": 1,
                                   f"time after {dt.date.today() + dt.timedelta(days=1)} (data.valid_until)": 1}
    assert log.quality.last_day == dt.date(2024, 3, 3)


def test_empty_log_and_empty_after_filters():
    with pytest.raises(DataError, match="empty"):
        load(TINY.iloc[:0])
    with pytest.raises(DataError, match="no events left after filters.*6 removed by data.exclude_events"):
        load(TINY, exclude_events=["open", "save", "push"])
    with pytest.raises(DataError, match="data.active_events: 'Open' matches no event \\(nearest: 'open'\\)"):
        load(TINY, active_events=["Open"])


@pytest.mark.parametrize("key, section", [
    ("data.active_events", {"active_events": ["open", "typo_event"]}),
    ("data.exclude_events", {"exclude_events": ["typo_event"]}),
    ("data.purchase_events", {"purchase_events": ["typo_event"]}),
    ("key_behaviors.exclude", {"key_behaviors": {"exclude": ["typo_event"]}}),
    ("ladder.rungs['Saver'].when", {"ladder": {"rungs": [{"name": "Saver", "when": {"event": "typo_event"}}]}}),
])
def test_an_event_name_in_the_params_that_matches_no_event_is_an_error(key, section):
    # a name that matches no event would silently count zero (no activity, nothing excluded, no
    # purchase, a rung nobody reaches): every list of event names is checked at load
    with pytest.raises(DataError, match=re.escape(f"{key}: 'typo_event' matches no event")):
        load(TINY, **section)
    # the excluded events are removed at load, but their names are still known
    assert load(TINY, exclude_events=["push"]).quality.excluded_events == {"push": 1}


def test_users_table_missing_column():
    users = pd.DataFrame({"uid": ["u1"], "signup_time": ["2024-01-01"]})
    with pytest.raises(DataError, match=r"data.users.user"):
        load(TINY, users=users, params=make_params(users={"source": "(given)"}))


def test_demo_source_and_real_log(shared_data):
    from retention_kit import load_params

    from tests.factories import PARAMS

    q = load_events(load_params(PARAMS / "stackexchange_martialarts.yaml")).quality
    # the data README: 25,724 events, 9,713 users, 2012-01-31 to 2023-12-02, 83 event types
    assert (q.rows_kept, q.users, q.event_types) == (25724, 9713, 83)
    assert (q.first_day, q.last_day) == (dt.date(2012, 1, 31), dt.date(2023, 12, 2))


def test_activity_cache_gives_the_same_log_and_follows_the_source(tmp_path):
    csv = tmp_path / "events.csv"
    TINY.to_csv(csv, index=False)
    cache = tmp_path / "cache"
    params = make_params(source=str(csv))
    first = load_events(params, cache_dir=cache)
    assert first.load_stats.cache == "miss" and first.load_stats.rows_scanned == 6
    assert (cache / "t" / "manifest.json").exists() and len(list((cache / "t").glob("piece-*.parquet"))) == 1
    again = load_events(params, cache_dir=cache)
    assert again.load_stats.cache == "hit" and again.load_stats.rows_scanned == 0
    assert again.quality == first.quality
    pd.testing.assert_frame_equal(fetch(again.original_ids(again.daily), sort=["user_id", "day", "event"]),
                                  fetch(first.original_ids(first.daily), sort=["user_id", "day", "event"]))
    # a changed source is scanned again
    pd.concat([TINY, TINY.iloc[:1].assign(user_id="u4")]).to_csv(csv, index=False)
    changed = load_events(params, cache_dir=cache)
    assert changed.quality.users == 4 and changed.load_stats.cache == "miss"
    # other data params are never served from what was built for the old ones
    other = load_events(make_params(source=str(csv), exclude_events=["push"]), cache_dir=cache)
    assert other.quality.excluded == 1 and other.load_stats.cache == "miss"


def test_text_ids_become_integer_keys_that_map_back():
    users = pd.DataFrame({"user_id": ["u1", "u9"], "signup_time": pd.to_datetime(["2024-02-28", "2024-03-02"])})
    log = load(TINY, users=users, params=make_params(users={"source": "(given)"}))
    keys = fetch(log.user_keys, sort=["user_id"])
    # u1, u2, u3 from the events, u9 only from the users table; one distinct integer key each
    assert keys["user_id"].tolist() == ["u1", "u2", "u3", "u9"] and keys["key"].is_unique
    assert keys["key"].dtype == "int64"
    daily = fetch(log.daily)
    assert daily["user_id"].dtype == "int64" and daily["n"].sum() == 6  # no row doubled by the mapping
    assert set(daily["user_id"]) == set(keys.loc[keys.user_id != "u9", "key"])
    back = fetch(log.original_ids(log.daily.select("user_id", "n")), sort=["user_id"])
    assert back.groupby("user_id")["n"].sum().to_dict() == {"u1": 3, "u2": 2, "u3": 1}
    key_of = dict(zip(keys["user_id"], keys["key"]))
    assert sorted(fetch(log.users)["user_id"].tolist()) == sorted([key_of["u1"], key_of["u9"]])
    # integer ids stay as they are
    ints = load(TINY.assign(user_id=[1, 1, 1, 2, 2, 3]))
    assert ints.user_keys is None and fetch(ints.daily)["user_id"].dtype == "int64"


def test_hashed_keys_are_the_hash_read_as_a_signed_integer():
    # DuckDB's hash is unsigned 64-bit; the key is its two's complement reading, worked out here
    # in Python from the raw hash, for ids whose hash lies on both sides of 2**63
    import duckdb

    from retention_kit.data.keys import hash_key

    ids = [f"user-{i}" for i in range(2000)]
    raw = [duckdb.sql(f"SELECT hash('{u}')").fetchone()[0] for u in ids[:50]]
    assert any(h >= 2**63 for h in raw) and any(h < 2**63 for h in raw)
    t = ibis.memtable({"user_id": ids})
    got = fetch(t.mutate(key=hash_key(t.user_id)), sort=["user_id"]).set_index("user_id")["key"]
    assert got.dtype == "int64"
    want = {u: (h - 2**64 if h >= 2**63 else h) for u, h in zip(ids, raw)}
    assert {u: int(got[u]) for u in want} == want
    # the same keys as Ibis's own hash cast to int64 (the key of earlier caches), for every id
    old = fetch(t.mutate(key=t.user_id.hash().cast("int64")), sort=["user_id"]).set_index("user_id")["key"]
    assert got.equals(old)


def test_ranked_keys_when_hashed_keys_collide(monkeypatch):
    # two ids with one hash would merge two users: the load then falls back to ranked keys
    from retention_kit.data import keys as keys_mod
    from retention_kit.data import load as load_mod

    monkeypatch.setattr(load_mod, "hash_key", lambda u: ibis.literal(7, "int64") + u.length() * 0)
    monkeypatch.setattr(load_mod, "scan_rows", _scan_with_constant_key(load_mod.scan_rows))
    log = load(TINY)
    keys = fetch(log.user_keys, sort=["key"])
    assert keys["user_id"].tolist() == ["u1", "u2", "u3"] and keys["key"].tolist() == [1, 2, 3]
    assert fetch(log.daily)["user_id"].nunique() == 3 and log.quality.users == 3
    assert keys_mod.collisions(ibis.memtable({"user_id": ["a", "b"], "key": [1, 1]})) == 1


def _scan_with_constant_key(scan):
    def wrapped(*a, **kw):
        t = scan(*a, **kw)
        return t.mutate(key=ibis.literal(7, "int64")) if "key" in t.columns else t
    return wrapped


def test_users_table_duplicates_resolve_the_same_way_and_mismatches_are_noted():
    # u1 twice: the earliest signup wins, with that row's plan; u8 has no events, u2/u3 no users row
    users = pd.DataFrame({"user_id": ["u1", "u1", "u8"],
                          "signup_time": pd.to_datetime(["2024-02-29", "2024-02-27", "2024-03-01"]),
                          "plan": ["pro", "free", "free"]})
    log = load(TINY, users=users, params=make_params(users={"source": "(given)", "attributes": ["plan"]}))
    u = fetch(log.original_ids(log.users), sort=["user_id"])
    assert u["user_id"].tolist() == ["u1", "u8"]
    assert u["signup_day"].dt.date.tolist() == [dt.date(2024, 2, 27), dt.date(2024, 3, 1)]
    assert u["plan"].tolist() == ["free", "free"]
    notes = " ".join(log.quality.notes)
    assert "1 of 2 users in the users table never appear in the events" in notes
    assert "2 users in the events are missing from the users table" in notes


def test_activity_cache_key_covers_the_users_table(tmp_path):
    csv = tmp_path / "events.csv"
    TINY.to_csv(csv, index=False)
    users = tmp_path / "users.csv"
    pd.DataFrame({"user_id": ["u1", "u9"], "signup_time": ["2024-02-28", "2024-03-02"]}).to_csv(users, index=False)
    cache = tmp_path / "cache"
    with_users = make_params(source=str(csv), users={"source": str(users)})
    first = load_events(with_users, cache_dir=cache)
    hit = load_events(with_users, cache_dir=cache)
    # a cache hit keeps the users-only signup u9 (4 starts: u1, u2, u3, u9)
    assert fetch(hit.starts()).shape[0] == fetch(first.starts()).shape[0] == 4
    # another users table is another key
    pd.DataFrame({"user_id": ["u1", "u7", "u9"], "signup_time": ["2024-02-28", "2024-03-01", "2024-03-02"]}).to_csv(users, index=False)
    assert fetch(load_events(with_users, cache_dir=cache).starts()).shape[0] == 5


def test_activity_analyses_start_on_the_first_day_of_activity():
    # a campaign log starts in November; purchases (the activity) in January, by users who were
    # already customers: January's cohort is left-censored, February's (C) is the first new one
    rows = [("A", "2016-11-07 10:00", "campaign_received"), ("B", "2016-11-21 10:00", "campaign_received"),
            ("A", "2017-01-01 10:00", "purchase"), ("B", "2017-01-09 10:00", "purchase"),
            ("A", "2017-02-06 10:00", "purchase"), ("C", "2017-02-13 10:00", "purchase"),
            ("C", "2017-03-06 10:00", "purchase"), ("A", "2017-04-30 10:00", "campaign_received")]
    log = load(events(rows), active_events=["purchase"])
    assert log.quality.first_day == dt.date(2016, 11, 7)  # the log's own range (the overview's)
    assert log.first_day == log.quality.first_active_day == dt.date(2017, 1, 1)
    assert log.last_day == dt.date(2017, 4, 30)
    assert log.quality.rows_before_activity == 2
    assert any("2 events lie before the first day of activity (2017-01-01): campaign_received (2)" in n
               for n in log.quality.notes)
    from retention_kit.analyses.stickiness import cohort_retention

    r = cohort_retention(log, granularity="month")
    flags = r[r["period"] == 0].set_index("cohort")["new_cohort"].to_dict()
    assert flags == {pd.Timestamp("2017-01-01"): False, pd.Timestamp("2017-02-01"): True}


def test_params_for_a_frame_need_no_source_and_say_which_users_table_was_used(tmp_path):
    from retention_kit import params_from_dict

    p = params_from_dict({"product": "t", "data": {}})
    assert p.data.source is None and load(TINY, params=p).quality.rows_kept == 6
    with pytest.raises(SourceError, match="data.source is not set"):
        load_events(p)
    # events passed as source= while the params' users table (a file) is read whole: the note says so
    f = tmp_path / "users.csv"
    pd.DataFrame({"user_id": ["u1", "u2", "u3", "u9"], "signup_time": ["2024-03-01"] * 4}).to_csv(f, index=False)
    log = load_events(make_params(users={"source": str(f)}), source=TINY)
    note = next(n for n in log.quality.notes if "users table never appear" in n)
    assert note.startswith("1 of 4 users in the users table never appear in the events")
    assert "passed as source= but the users table is data.users" in note


def test_the_log_prints_a_short_summary():
    text = repr(load(TINY, exclude_events=["push"]))
    assert text.splitlines()[0] == "<EventLog: 5 events of 2 users>"
    assert "range         2024-03-01 to 2024-03-03, UTC calendar days" in text
    assert "excluded      1 rows of push" in text and "Table" not in text and len(text.splitlines()) <= 8
