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
    ballast = bytearray(400 * 2**20)  # this process is big: its children's own figures must not say so
    ballast[::4096] = b"x" * len(ballast[::4096])
    row = _timed([sys.executable, "-c", _TREE])
    del ballast
    assert 150 <= row["largest_mb"] < 250  # the largest process alone
    assert row["rss_mb"] >= 300 > row["largest_mb"]  # both processes at once
