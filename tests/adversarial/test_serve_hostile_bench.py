"""`ipgraph bench serve --hostile`, small: well-behaved clients get every answer while others attack."""

from __future__ import annotations

import os
from pathlib import Path

from ipgraph.bench import run_hostile_bench

REPO = Path(__file__).resolve().parents[2]


def test_hostile_bench_smoke(built_dir, monkeypatch) -> None:
    monkeypatch.chdir(REPO)  # the bench starts `python -m ipgraph serve` from here
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    lines: list[str] = []
    report = run_hostile_bench(
        built_dir, clients=5, seconds=4.0, expensive=2, slow=20, max_memory=800 * 1024**2, echo=lines.append
    )
    assert report["errors"] == 0, report["error_samples"]
    assert report["requests"] > 20
    assert sum(report["expensive_statuses"].values()) >= 2
    assert all(status in ("400", "503") for status in report["expensive_statuses"]), report["expensive_statuses"]
    assert report["slow_connections"]["opened"] >= 20
    assert 0 < report["peak_rss_worker_mb"] < 800 * 1.05  # RSS stays under the address-space cap
    assert any("peak RSS" in line for line in lines)
