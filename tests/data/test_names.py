"""Params names that must exist in the data (retention_kit.data.names): a clear DataError naming
the key, the unknown names and the nearest existing ones."""

from __future__ import annotations

import pytest

from retention_kit import DataError
from retention_kit.data.names import check_names, event_names, require_events
from tests.factories import day_events, load


def test_known_names_pass_and_unknown_ones_name_their_nearest():
    check_names(["open", "close"], ["open", "close", "share"], key="k")
    check_names(None, [], key="k")
    with pytest.raises(DataError) as e:
        check_names(["opne", "Share", "zzz"], ["open", "close", "share"], key="some.key", where="in column 'event'")
    msg = str(e.value)
    assert msg.startswith("some.key: 'opne' matches no event (nearest: 'open'); 'Share' matches no event "
                          "(nearest: 'share'); 'zzz' matches no event in column 'event'")
    assert "case-sensitive" in msg


def test_require_events_on_a_log():
    log = load(day_events([("a", 0, "open", 2), ("a", 1, "purchase", 1), ("b", 0, "push", 1)]), exclude_events=["push"])
    assert event_names(log) == ("open", "purchase")
    require_events(log, ["purchase"], key="stickiness.retention.return_event")
    require_events(log, None, key="x")
    with pytest.raises(DataError, match=r"x: 'purchse' matches no event \(nearest: 'purchase'\) in column 'event' "
                                        r"of the 3 valid rows"):
        require_events(log, ["purchse"], key="x")
    with pytest.raises(DataError, match="'push' is removed by data.exclude_events"):
        require_events(log, ["push"], key="x")
