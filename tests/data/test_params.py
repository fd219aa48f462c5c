from pathlib import Path

import pytest

from retention_kit import ParamsError, load_params, params_from_dict
from retention_kit.data.params import SourceSpec

from tests.factories import PARAMS

BASE = {"product": "demo", "data": {"source": "events.csv"}}


def _err(raw) -> str:
    with pytest.raises(ParamsError) as e:
        params_from_dict(raw)
    return str(e.value)


def test_defaults_match_the_issue():
    p = params_from_dict(BASE)
    d = p.data
    assert (d.user, d.time, d.event, d.timezone, d.week_start) == ("user_id", "timestamp", "event", "UTC", "monday")
    assert d.active_events is None and d.exclude_events == [] and d.users is None
    assert p.title == "" and p.display_title == "demo"


def test_unknown_key_suggests_nearest():
    msg = _err({"product": "demo", "data": {"source": "x.csv", "timzone": "UTC"}})
    assert "data.timzone" in msg and "did you mean 'timezone'" in msg
    msg = _err({**BASE, "stickness": {}})
    assert "did you mean 'stickiness'" in msg
    msg = _err({"product": "demo", "data": {"source": {"path": "x", "urll": "y"}}})
    assert "data.source.urll" in msg and "did you mean 'url'" in msg


def test_wrong_type_names_key_and_expectation():
    msg = _err({**BASE, "stickiness": {"mau_window": "abc"}})
    assert "stickiness.mau_window" in msg and "28 or 30" in msg
    msg = _err({**BASE, "key_behaviors": {"window_days": 0}})
    assert "key_behaviors.window_days" in msg and "greater than 0" in msg
    assert "missing required key 'data'" in _err({"product": "demo"})


@pytest.mark.parametrize("slug", ["../../etc", "a/b", "", "has space", ".hidden"])
def test_bad_product_slug_rejected(slug):
    assert "product" in _err({**BASE, "product": slug})


def test_unknown_timezone_suggests():
    msg = _err({"product": "demo", "data": {"source": "x.csv", "timezone": "Europe/Berln"}})
    assert "Europe/Berlin" in msg


def test_overlapping_windows_rejected():
    msg = _err({**BASE, "key_behaviors": {"window_days": 7, "outcome_start": 5, "outcome_end": 20}})
    assert "overlaps" in msg and "outcome_start >= window_days" in msg


def test_ladder_conditions_validated():
    rungs = [{"name": "A", "when": {"active_days": 1}}, {"name": "a", "when": {"event": "x"}}]
    assert "duplicate" in _err({**BASE, "ladder": {"rungs": rungs}})
    rungs = [{"name": "A", "when": {"evnt": "x"}}]
    assert "did you mean 'event'" in _err({**BASE, "ladder": {"rungs": rungs}})
    rungs = [{"name": "A", "when": {"event": "x", "min": -1}}]
    assert "min" in _err({**BASE, "ladder": {"rungs": rungs}})


def test_yaml_bare_on_is_the_on_mode(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("product: demo\ndata:\n  source: e.csv\nstickiness:\n  retention_mode: on\n")
    assert load_params(f).stickiness.retention_mode == "on"


def test_relative_paths_resolve_against_yaml_folder(tmp_path):
    sub = tmp_path / "params"
    sub.mkdir()
    f = sub / "p.yaml"
    f.write_text("product: demo\ndata:\n  source: ../data/events.csv\n")
    p = load_params(f)
    assert p.resolve(p.data.source) == str((tmp_path / "data" / "events.csv").resolve())
    assert p.resolve("/abs/x.csv") == "/abs/x.csv"
    assert p.resolve("s3://bucket/x.parquet") == "s3://bucket/x.parquet"


def test_overrides_and_file_errors(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("product: demo\ndata:\n  source: e.csv\n")
    assert load_params(f, overrides={"stickiness.mau_window": 30, "ladder.period": None}).stickiness.mau_window == 30
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "missing.yaml")
    f.write_text("product: [demo\n")
    with pytest.raises(ParamsError, match="not valid YAML at line"):
        load_params(f)


def test_source_spec_needs_one_kind():
    with pytest.raises(ValueError):
        SourceSpec(path="a", url="b")
    with pytest.raises(ValueError, match="table"):
        SourceSpec(url="postgres://x")


def test_shipped_params_files_are_valid():
    for f in sorted(PARAMS.glob("*.yaml")):
        assert load_params(f).product


def test_stickiness_retention_keys_and_their_defaults():
    # issue 12: every key optional, the defaults keep the old behaviour
    s = params_from_dict(BASE).stickiness
    assert (s.granularity, s.retention_mode, s.periods_shown, s.min_cohort_size, s.trailing_days) == ("week", "on", 12, 100, [7, 28])
    r = s.retention
    assert (r.start_event, r.return_event, r.cohorts, r.day_cohorts, r.max_day, r.brackets) == (None, None, "first", 90, 90, None)
    s = params_from_dict({**BASE, "stickiness": {"granularity": "day", "trailing_days": [28, 7, 14], "retention": {
        "start_event": "signup", "return_event": ["purchase", "purchase"], "cohorts": "recurring",
        "brackets": [[1, 1], [2, 7], [8, 14], [15, 30]]}}}).stickiness
    # one name is a list of one; a name given twice counts once; windows sorted
    assert s.retention.start_event == ["signup"] and s.retention.return_event == ["purchase"]
    assert s.retention.brackets == [(1, 1), (2, 7), (8, 14), (15, 30)] and s.trailing_days == [7, 14, 28]


@pytest.mark.parametrize("retention, words", [
    ({"brackets": [[0, 1]]}, "1 <= first_day <= last_day"),
    ({"brackets": [[3, 2]]}, "1 <= first_day <= last_day"),
    ({"brackets": [[1, 7], [5, 14]]}, "overlaps or precedes"),
    ({"brackets": []}, "at least one bracket"),
    ({"start_event": []}, "at least one event name"),
    ({"return_event": [" "]}, "must not be blank"),
    ({"cohorts": "all"}, "'first' or 'recurring'"),
    ({"max_day": 0}, "greater than 0"),
    ({"cohort": "first"}, "did you mean 'cohorts'"),
])
def test_bad_retention_params_name_the_key(retention, words):
    msg = _err({**BASE, "stickiness": {"retention": retention}})
    assert "stickiness.retention." in msg and words in msg


def test_bad_stickiness_windows_and_minimum():
    assert "stickiness.granularity" in _err({**BASE, "stickiness": {"granularity": "year"}})
    assert "stickiness.trailing_days" in _err({**BASE, "stickiness": {"trailing_days": [0, 7]}})
    assert "stickiness.min_cohort_size" in _err({**BASE, "stickiness": {"min_cohort_size": 0}})


def test_a_backend_source_may_name_files_its_engine_reads():
    spec = SourceSpec(backend="pyspark", path="events.parquet")
    assert (spec.backend, spec.path, spec.table) == ("pyspark", "events.parquet", None)
    with pytest.raises(ValueError, match="either 'path' \\(files\\) or 'table'"):
        SourceSpec(backend="pyspark", path="events.parquet", table="events")
    with pytest.raises(ValueError, match="exactly one of path, url, backend or demo"):
        SourceSpec(url="postgres://h/db", path="events.parquet", table="events")
    with pytest.raises(ValueError, match="needs 'table'"):
        SourceSpec(backend="pyspark")
