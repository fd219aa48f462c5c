"""The benchmark's process-tree runner: a baseline too large for the machine is stopped at its
memory cap instead of exhausting the machine (and the run that measures it)."""

from __future__ import annotations

import sys

import pytest

from benchmarks.run import OverCap, tree_run


def test_a_child_over_the_memory_cap_is_stopped():
    grow = "import time\nx = []\nfor _ in range(40):\n    x.append(bytearray(25 * 2**20)); time.sleep(0.05)\ntime.sleep(5)"
    with pytest.raises(OverCap, match="over 0.2 GiB"):
        tree_run([sys.executable, "-c", grow], cap_gib=0.2)


def test_a_child_under_the_cap_reports_its_time_and_peak():
    seconds, peak = tree_run([sys.executable, "-c", "x = bytearray(60 * 2**20); import time; time.sleep(1)"], cap_gib=2)
    assert seconds >= 1 and 0.05 < peak < 2
