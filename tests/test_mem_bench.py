"""`ipgraph bench build` reports the peak RSS of the build's whole process tree (issue 14's bar)."""
from __future__ import annotations

import sys

from ipgraph.stream.bench import _timed

# the child holds 150 MB and starts a grandchild holding 150 MB more, both alive at once
_TREE = """
import subprocess, sys, time
held = bytearray(150 * 2**20)
grandchild = subprocess.Popen([sys.executable, "-c",
    "import time; held = bytearray(150 * 2**20); time.sleep(1.5)"])
grandchild.wait()
"""


def test_the_peak_is_the_whole_trees_not_the_largest_process():
    row = _timed([sys.executable, "-c", _TREE])
    assert row["largest_mb"] >= 150  # wait4: the largest process alone
    assert row["rss_mb"] >= 300 > row["largest_mb"]  # both processes at once
