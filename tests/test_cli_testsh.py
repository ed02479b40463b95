"""scripts/test.sh (issue 11, item 10): apt's chatter is kept out of sight, its errors are not."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import REPO

SCRIPT = REPO / "scripts" / "test.sh"


def fake_tools(bin_dir: Path, apt_status: int) -> None:
    """dpkg says nothing is installed; apt-get talks like the real one; python3 only records its call."""
    bin_dir.mkdir()
    tools = {
        "dpkg": "exit 1",
        "apt-get": ('for i in $(seq 50); do echo "Selecting previously unselected package p$i."; done\n'
                    f'[ {apt_status} = 0 ] || echo "E: Unable to locate package chromium" >&2\nexit {apt_status}'),
        "python3": 'echo "python3 $*"',
        "id": "echo 0",
    }
    for name, body in tools.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)


def run(tmp_path: Path, apt_status: int) -> subprocess.CompletedProcess:
    fake_tools(tmp_path / "bin", apt_status)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    return subprocess.run(["bash", str(SCRIPT), "-k", "nothing"], env=env, capture_output=True, text=True,
                          timeout=60)


def test_apt_output_is_quiet_when_it_works(tmp_path) -> None:
    result = run(tmp_path, 0)
    assert result.returncode == 0, result.stderr
    assert "Selecting previously" not in result.stdout + result.stderr
    assert result.stdout.splitlines()[0].startswith("installing Debian packages: chromium ")
    assert "python3 -m pytest -n 2 --dist loadfile -p no:benchmark -k nothing" in result.stdout  # with the arguments
    assert not list(tmp_path.glob("ipgraph-apt.*"))  # the log is removed


def test_apt_errors_stay_visible(tmp_path) -> None:
    result = run(tmp_path, 100)
    assert result.returncode == 1
    assert "installing chromium" in result.stderr and "E: Unable to locate package chromium" in result.stderr
    assert "python3 -m pytest" not in result.stdout  # no tests on a half-installed machine
