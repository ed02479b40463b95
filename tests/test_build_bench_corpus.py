"""`ipgraph bench corpus` / `bench build` without a corpus to recombine: one clear line, no traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ipgraph.errors import InputError
from ipgraph.stream.corpus import generate_corpus

ROOT = Path(__file__).resolve().parents[1]


def test_an_empty_corpus_folder_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no plan with numbered measures"):
        generate_corpus(tmp_path / "out", 3, tmp_path / "empty")


def test_bench_corpus_outside_a_checkout_says_why(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "ipgraph", "bench", "corpus", "--docs", "2", "-o", str(tmp_path / "o")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    assert "no plan with numbered measures" in run.stderr
