"""The build's serial tail run concurrently: the stages that only need the merged N-Triples.

The store's bulk load and the Turtle serialiser are pyoxigraph calls that hold the GIL, so
threads would take turns; each runs in a child process instead while this process writes the
summary, the report and the page. The child is a fresh interpreter (`python -c`), neither forked
nor multiprocessing-spawned: a fork of a process that has opened a RocksDB store (a test, a server)
inherits RocksDB's state without its background threads, and the bulk load then waits for them
forever; multiprocessing's spawn re-imports the caller's main script. The child imports only what
its stage needs (~0.3 s); the call travels to it pickled on stdin, the answer back on stdout.
`concurrent=False` (-j 1) runs the same calls in order here.

A child dies with the build (PR_SET_PDEATHSIG): a killed build leaves no writer in its
generation folder. A child's failure comes back as its exception's class name and message and
is raised here as OSError (a full disk, a read-only folder: what write_outputs reports).
"""
from __future__ import annotations

import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Tail:
    """Stages started with run(), finished (and timed into `timings`) by wait()."""

    def __init__(self, concurrent: bool, timings: dict[str, float]) -> None:
        self.concurrent = concurrent
        self.timings = timings
        self.children: list[tuple[str, Any]] = []  # (stage, subprocess.Popen)

    def run(self, stage: str, function: Callable[..., Any], *args: Any) -> None:
        """Run function(*args) (a module-level function: the child imports it by name)."""
        if not self.concurrent:
            started = time.perf_counter()
            function(*args)
            self.timings[stage] = time.perf_counter() - started
            return
        import subprocess

        root = str(Path(__file__).resolve().parents[2])  # the ipgraph this process runs, first on the path
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        process = subprocess.Popen([sys.executable, "-c", _CHILD, str(os.getpid())], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, env=env)
        assert process.stdin is not None
        try:
            pickle.dump((function, args), process.stdin)
            process.stdin.close()
        except (OSError, pickle.PicklingError):
            pass  # the child says nothing: wait() names the stage
        self.children.append((stage, process))

    def wait(self) -> None:
        """Wait for every child; raise OSError for the first that failed (the others are still waited for)."""
        failure: str | None = None
        for stage, process in self.children:
            try:
                reply = pickle.loads(process.stdout.read())
            except (OSError, EOFError, pickle.UnpicklingError):
                reply = None
            process.wait()
            process.stdout.close()
            if reply is None:
                failure = failure or f"{stage}: its process ended without an answer (exit status {process.returncode})"
            elif reply[0] == "ok":
                self.timings[stage] = reply[1]
            else:
                failure = failure or f"{stage}: {reply[1]}"
        self.children = []
        if failure:
            raise OSError(failure)

    def stop(self) -> None:
        """Kill the children still running (the build failed or was interrupted)."""
        for _stage, process in self.children:
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()
        self.children = []


_CHILD = "import sys; from ipgraph.stream.tail import _child; _child(int(sys.argv[1]))"


def _child(parent: int) -> None:
    import signal

    from ipgraph.sandbox import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the build, which stops its children
    die_with_parent(parent)
    started = time.perf_counter()
    try:
        function, args = pickle.load(sys.stdin.buffer)
        function(*args)
        reply: tuple = ("ok", time.perf_counter() - started)
    except BaseException as exc:  # noqa: BLE001 - reported by the build, named with the stage
        reply = ("error", f"{type(exc).__name__}: {exc}")
    sys.stdout.buffer.write(pickle.dumps(reply))
    sys.stdout.buffer.flush()
