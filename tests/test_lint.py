"""The code passes its own linters: ruff (ruff.toml) and mypy with check_untyped_defs (setup.cfg [mypy])."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO


@pytest.mark.slow
def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "ipgraph", "tests"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_is_clean(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path), "ipgraph"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
