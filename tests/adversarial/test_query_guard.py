"""Issue 9, item 6: `ipgraph query` stops on Ctrl-C and --timeout; deep nesting does not crash it.

Each test runs the real command in a subprocess with a deadline of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 10^12 rows: never ends


def ipgraph(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "ipgraph", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


def nested(levels: int) -> str:
    return "SELECT * WHERE " + "{" * levels + " ?s ?p ?o " + "}" * levels + " LIMIT 1"


def test_deeply_nested_query_answers_instead_of_crashing(built_dir, tmp_path) -> None:
    path = tmp_path / "deep.rq"
    path.write_text(nested(20_000), encoding="utf-8")  # ~5,000 levels overflowed the main thread's stack
    done = ipgraph("query", "--graph", str(built_dir), "--format", "csv", "-f", str(path))
    assert done.returncode == 0, (done.returncode, done.stderr[-500:])
    assert sorted(done.stdout.splitlines()[0].split(",")) == ["o", "p", "s"] and len(done.stdout.splitlines()) == 2


def test_serve_get_refuses_a_deeply_nested_query_with_a_clear_line(built_dir) -> None:
    from urllib.parse import quote

    done = ipgraph("serve", "--graph", str(built_dir), "--get", "/sparql?query=" + quote(nested(9_000)))
    assert done.returncode == 1, (done.returncode, done.stderr[-500:])
    assert done.stderr.startswith("400") and "nested too deeply" in done.stdout
    assert "Traceback" not in done.stderr


def test_timeout_stops_a_query(built_dir) -> None:
    start = time.monotonic()
    done = ipgraph("query", "--graph", str(built_dir), "--timeout", "1", CROSS, timeout=60)
    took = time.monotonic() - start
    assert done.returncode == 1 and "--timeout" in done.stderr and "Traceback" not in done.stderr
    assert took < 15, took


def test_ctrl_c_stops_a_query_at_once(built_dir) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipgraph", "query", "--graph", str(built_dir), CROSS],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as from a terminal: a suite started in the background (`cmd &` without job control) passes
        # SIGINT on ignored, and Python then never raises KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        time.sleep(3.0)  # started, and inside the query
        assert proc.poll() is None
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):  # not left to the garbage collector (a ResourceWarning elsewhere)
            if pipe is not None:
                pipe.close()
    assert proc.returncode == 130 and "interrupted" in err, (proc.returncode, err[-300:])
    assert took < 3, took
