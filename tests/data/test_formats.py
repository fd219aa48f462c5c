"""The presets (``data.format``): each tool's export shape reads as the same events as a plain
CSV (tests/data/vendor_logs.py writes one log in every shape), from YAML alone; each preset's
choices (which id, which events are bookkeeping) worked by hand on a few rows; explicit keys
override; and docs/sources.md names every key. The end-to-end test runs the whole report set for
each shape and compares every CSV export with the plain CSV's, byte for byte."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from retention_kit import DataError, load_events, load_params, params_from_dict
from retention_kit.data import fetch
from retention_kit.data.formats import NAMES, PRESETS
from retention_kit.data.params import DataParams, SourceSpec, UsersParams
from retention_kit.reporting.cli import main

from tests.data import vendor_logs as V
from tests.factories import REPO

# (preset, file or folder written by vendor_logs, writer, revenue path)
SHAPES = {
    "segment": ("segment", V.write_segment, "properties.revenue"),
    "mixpanel": ("mixpanel.json", V.write_mixpanel, "properties.revenue"),
    "amplitude": ("amplitude", V.write_amplitude, "event_properties.revenue"),
    "posthog": ("posthog.parquet", V.write_posthog, "properties.revenue"),
    "ga4": ("ga4.parquet", V.write_ga4, "event_params.value"),
}
# the other file shapes a tool exports, read at load level
VARIANTS = [("posthog", "posthog.jsonl.gz", V.write_posthog, "properties.revenue"),
            ("ga4", "ga4.jsonl", V.write_ga4, "event_params.value"),
            ("ga4", "ga4.json.gz", V.write_ga4, "event_params.value")]


@pytest.fixture(scope="module")
def log_df() -> pd.DataFrame:
    return V.canonical()


@pytest.fixture(scope="module")
def files(tmp_path_factory, log_df) -> Path:
    d = tmp_path_factory.mktemp("vendors")
    V.write_plain_csv(log_df, d / "plain.csv")
    for _, (name, write, _) in SHAPES.items():
        write(log_df, d / name)
    for _, name, write, _ in VARIANTS:
        write(log_df, d / name)
    return d


def _yaml(folder: Path, product: str, data: dict) -> Path:
    f = folder / f"{product}.yaml"
    f.write_text(json.dumps({"product": product, "data": {"timezone": V.TZ, **data}}), encoding="utf-8")  # JSON is YAML
    return f


def _events(params_file: Path) -> pd.DataFrame:
    ev = fetch(load_events(load_params(params_file)).events)
    return ev.sort_values(["user_id", "ts", "event"], kind="stable").reset_index(drop=True).sort_values(["user_id", "ts", "event"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("preset, name, revenue", [(p, n, r) for p, (n, _, r) in SHAPES.items()]
                         + [(p, n, r) for p, n, _, r in VARIANTS])
def test_each_export_reads_as_the_plain_csv(files, log_df, preset, name, revenue):
    plain = _events(_yaml(files, "plain", {"source": "plain.csv", "revenue": "revenue"}))
    got = _events(_yaml(files, preset, {"source": name, "format": preset, "revenue": revenue}))
    assert len(got) == len(log_df)
    pd.testing.assert_frame_equal(got, plain)


def test_check_accepts_each_shape_from_yaml_alone(files, capsys):
    for preset, (name, _, _) in SHAPES.items():
        code = main(["check", str(_yaml(files, preset, {"source": name, "format": preset}))])
        out = capsys.readouterr()
        assert code == 0, out.err
        assert "ok: 2,937 events, 80 users" in out.out, out.out


def test_presets_fill_only_the_keys_left_out():
    d = params_from_dict({"product": "t", "data": {"source": "x", "format": "segment"}}).data
    assert (d.user, d.time, d.event, d.time_unit, d.exclude_events) == (
        ["userId", "anonymousId"], "timestamp", ["event", "type"], None, ["identify", "group", "alias"])
    d = params_from_dict({"product": "t", "data": {"source": "x", "format": "ga4", "user": "user_id"}}).data
    assert (d.user, d.time, d.time_unit, d.event) == ("user_id", "event_timestamp", "us", "event_name")
    # a time field of your own is read on its own terms: the preset's unit and zone stay out
    d = params_from_dict({"product": "t", "data": {"source": "x", "format": "ga4", "time": "event_date"}}).data
    assert (d.time, d.time_unit) == ("event_date", None)
    d = params_from_dict({"product": "t", "data": {"source": "x", "format": "amplitude"}}).data
    assert (d.user, d.time, d.source_timezone) == (["user_id", "device_id"], "event_time", "UTC")
    d = params_from_dict({"product": "t", "data": {"source": "x", "format": "mixpanel", "exclude_events": []}}).data
    assert (d.user, d.time, d.time_unit, d.exclude_events) == ("properties.distinct_id", "properties.time", "s", [])
    with pytest.raises(Exception, match=r"'data.format': Input should be 'segment', 'mixpanel', 'amplitude', 'posthog' or 'ga4'"):
        params_from_dict({"product": "t", "data": {"source": "x", "format": "heap"}})


def _lines(path: Path, rows: list[dict]) -> Path:
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    return path


def _load(path: Path, **data):
    return load_events(params_from_dict({"product": "t", "data": {"source": str(path), **data}}))


def test_segment_ids_calls_and_exclusions(tmp_path):
    rows = [
        {"type": "page", "anonymousId": "a1", "userId": None, "name": "Home", "timestamp": "2024-03-01T10:00:00Z"},
        {"type": "identify", "anonymousId": "a1", "userId": "u1", "traits": {"plan": "pro"}, "timestamp": "2024-03-01T10:01:00Z"},
        {"type": "track", "anonymousId": "a1", "userId": "u1", "event": "Signed Up", "timestamp": "2024-03-01T10:02:00Z"},
        {"type": "screen", "anonymousId": "a2", "userId": "", "name": "Feed", "timestamp": "2024-03-01T10:03:00Z"},
        {"type": "alias", "anonymousId": "a1", "userId": "u1", "previousId": "a1", "timestamp": "2024-03-01T10:04:00Z"},
    ]
    log = _load(_lines(tmp_path / "x.json.gz", rows), format="segment", max_dropped_share=0)
    ev = fetch(log.events, sort=["ts"])
    # userId else anonymousId (an empty userId counts as none); identify and alias calls excluded
    assert ev[["user_id", "event"]].values.tolist() == [["a1", "page"], ["u1", "Signed Up"], ["a2", "screen"]]
    assert (log.quality.rows_read, log.quality.excluded, log.quality.rows_kept) == (5, 2, 3)
    assert fetch(log.daily.filter(log.daily.event == "page"))["n"].sum() == 1


def test_mixpanel_milliseconds_and_exclusions(tmp_path):
    rows = [{"event": "$identify", "properties": {"distinct_id": "u1", "time": 1_709_287_200_000}},
            {"event": "Played", "properties": {"distinct_id": "u1", "time": 1_709_287_260_000, "$city": "Paris"}},
            {"event": "Played", "properties": {"distinct_id": 42, "time": 1_709_373_600_000}}]
    src = _lines(tmp_path / "export.json.gz", rows)
    with pytest.raises(DataError, match=r"none of its 3 values parse as a time \(e.g. '1709287200000'\); data.time_unit "
                                        r"is s, but values near 1.7e12 look like milliseconds: set data.time_unit: ms"):
        _load(src, format="mixpanel")  # an export made with time_in_ms
    log = _load(src, format="mixpanel", time_unit="ms")
    ev = fetch(log.events, sort=["ts"])
    # 1709287260000 ms = 2024-03-01 10:01:00 UTC; a numeric distinct_id read as text
    assert ev[["user_id", "event"]].values.tolist() == [["u1", "Played"], ["42", "Played"]]
    assert ev["ts"].dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2024-03-01 10:01", "2024-03-02 10:00"]
    assert log.quality.excluded == 1


def test_amplitude_times_are_utc_and_device_ids_stand_in(tmp_path):
    rows = [{"user_id": None, "device_id": "d-1", "event_type": "open", "event_time": "2024-03-01 20:30:00.000000"},
            {"user_id": "u-1", "device_id": "d-1", "event_type": "open", "event_time": "2024-03-01 15:59:59.999000"}]
    log = _load(_lines(tmp_path / "123_2024-03-01_20#0.json.gz", rows), format="amplitude", timezone="Asia/Shanghai")
    ev = fetch(log.events, sort=["ts"])
    assert ev["user_id"].tolist() == ["u-1", "d-1"]
    # UTC 15:59:59.999 is 23:59:59.999 the same day in Shanghai; UTC 20:30 is 04:30 the next day
    assert ev["ts"].dt.strftime("%Y-%m-%d %H:%M:%S.%f").tolist() == ["2024-03-01 23:59:59.999000", "2024-03-02 04:30:00.000000"]


def test_posthog_persons_and_exclusions(tmp_path):
    rows = [{"event": "$pageview", "distinct_id": "anon-1", "person_id": "p1", "timestamp": "2024-03-01T10:00:00+00:00",
             "properties": {"$browser": "Firefox"}},
            {"event": "$identify", "distinct_id": "alice", "person_id": "p1", "timestamp": "2024-03-01T10:01:00+00:00",
             "properties": {}},
            {"event": "saved", "distinct_id": "alice", "person_id": "p1", "timestamp": "2024-03-02T10:00:00+00:00",
             "properties": {"$browser": "Firefox"}},
            {"event": "$set", "distinct_id": "bob", "person_id": None, "timestamp": "2024-03-02T11:00:00+00:00",
             "properties": {}},
            {"event": "saved", "distinct_id": "bob", "person_id": None, "timestamp": "2024-03-02T12:00:00+00:00",
             "properties": {}}]
    src = _lines(tmp_path / "events.jsonl.gz", rows)
    log = _load(src, format="posthog")
    ev = fetch(log.events, sort=["ts"])
    # one person across the anonymous and the identified id; person_id else distinct_id
    assert ev[["user_id", "event"]].values.tolist() == [["p1", "$pageview"], ["p1", "saved"], ["bob", "saved"]]
    assert log.quality.excluded == 2
    assert sorted(fetch(_load(src, format="posthog", user="distinct_id").events)["user_id"].unique()) == ["alice", "anon-1", "bob"]
    browsers = _load(src, format="posthog", event="properties.$browser", exclude_events=[], max_dropped_share=1).quality
    assert browsers.dropped == {"null or blank event name ('properties.$browser')": 3}


def test_ga4_user_pseudo_id_unless_user_id(files, log_df):
    log = _load(files / "ga4.parquet", format="ga4")
    assert log.quality.users == log_df["user_id"].nunique()
    # the fixture sets no user_id: with data.user: user_id every row lacks one
    with pytest.raises(DataError, match=r"2,937 of 2,937 rows .* null or blank user id \('user_id'\)"):
        _load(files / "ga4.parquet", format="ga4", user="user_id")


def test_a_preset_column_the_export_lacks_is_named(tmp_path):
    src = _lines(tmp_path / "e.jsonl.gz", [{"event": "x", "distinct_id": "a", "timestamp": "2024-03-01T10:00:00Z"}])
    with pytest.raises(DataError, match=r"column 'person_id' \(data.user\) not found in the event source; did you mean "
                                        r"'distinct_id'\?"):
        _load(src, format="posthog")
    assert len(fetch(_load(src, format="posthog", user="distinct_id").events)) == 1


def test_every_preset_cites_its_pages():
    assert NAMES == ("segment", "mixpanel", "amplitude", "posthog", "ga4")
    for p in PRESETS.values():
        module = __import__(f"retention_kit.data.formats.{p.name}", fromlist=["PRESET"])
        assert p.docs and all(url in (module.__doc__ or "") for url in p.docs), p.name
        assert "**User**" in module.__doc__ and "**Time**" in module.__doc__ and "**Properties**" in module.__doc__


def test_sources_doc_names_every_key():
    doc = (REPO / "docs" / "sources.md").read_text(encoding="utf-8")
    for model, prefix in ((DataParams, "data."), (UsersParams, "data.users."), (SourceSpec, "")):
        for key in model.model_fields:
            assert f"`{prefix}{key}`" in doc, f"docs/sources.md does not describe `{prefix}{key}`"
    for name in NAMES:
        assert f"`{name}`" in doc
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Bring your data"):]
    for p in PRESETS.values():
        assert re.search(rf"\| {re.escape(p.tool)} \|.*format: {p.name}", table), p.name


@pytest.mark.slow
def test_every_report_of_each_shape_equals_the_plain_csvs(files, tmp_path):
    """The runner over the plain CSV and each tool's export: every CSV export file is the same,
    byte for byte. (No row is dropped in the fixtures, so the data-quality table names no
    column either.) A preset changes only the load, so the overview (quality, events, days,
    whole-row duplicates) and lifecycle (revenue, purchases, the per-user at-risk list) reports
    see all of it; the other reports read the same daily table."""
    from retention_kit.reporting.runner import EXIT_OK, run

    paths = [_yaml(files, "plain", {"source": "plain.csv", "revenue": "revenue"})]
    paths += [_yaml(files, preset, {"source": name, "format": preset, "revenue": revenue})
              for preset, (name, _, revenue) in SHAPES.items()]
    out = tmp_path / "out"
    res = run(paths, out=out, notebooks=["overview", "lifecycle"], jobs=2, progress=False)
    assert res.exit_code == EXIT_OK, [s.message for s in res.statuses if s.message]
    plain = {p.name: p.read_bytes() for p in (out / "plain" / "data").glob("*.csv")}
    from retention_kit.analyses import REPORTS

    # every export the two reports declare was written (the by-segment ones need breakdown.by)
    assert sorted(plain) == sorted(f"{e.name}.csv" for r in REPORTS if r.name in ("overview", "lifecycle")
                                   for e in r.exports if not e.breakdown_only)
    for preset in SHAPES:
        got = {p.name: p.read_bytes() for p in (out / preset / "data").glob("*.csv")}
        assert sorted(got) == sorted(plain), preset
        assert [name for name in plain if got[name] != plain[name]] == [], preset
