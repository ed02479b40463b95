"""The build's serial tail run concurrently: the stages that only need the merged N-Triples.

The store's bulk load and the Turtle serialiser are pyoxigraph calls that hold the GIL, so
threads would take turns; each runs in a child process instead while this process writes the
summary, the report and the page. A stage that opens a store runs in a fresh interpreter (`python -c`),
neither forked nor multiprocessing-spawned: a fork of a process that has opened a RocksDB store (a
test, a server) inherits RocksDB's state without its background threads, and the bulk load then waits
for them forever; multiprocessing's spawn re-imports the caller's main script. That child imports only
what its stage needs (~0.3 s); the call travels to it pickled on stdin, the answer back on stdout. A
stage that opens no store may run in a fork of this process instead (`run(fork=True)`: the page, the
ranked field, the echoes of an add), which starts at once with this process's modules and objects.
`concurrent=False` (-j 1) runs the same calls in order here.

A child dies with the build (PR_SET_PDEATHSIG): a killed build leaves no writer in its
generation folder. A child's failure comes back as its exception's class name and message and
is raised here as OSError (a full disk, a read-only folder: what write_outputs reports).

Memory (issue 14): a stage may say how much its process can reach (`peak`, bytes: the store's bulk load is
bounded by its slice, ipgraph.store.BULK_LOAD_PEAK); when this process and the children running now (their
RSS, read from /proc) plus that peak would pass `memory_budget`, the stage starts only after the running
children have ended, so the peaks of the memory-heavy steps do not add up.
"""
from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MEMORY_BUDGET = 2 * 2**30  # issue 14: the whole build's tree under 2 GB


def _rss(pid: int) -> int:
    """The resident set of process `pid` in bytes (0 when it has ended)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return next((int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:")), 0)
    except OSError:
        return 0


class Tail:
    """Stages started with run(), finished (and timed into `timings`) by wait()."""

    def __init__(self, concurrent: bool, timings: dict[str, float], memory_budget: int | None = MEMORY_BUDGET) -> None:
        self.concurrent = concurrent
        self.timings = timings
        self.memory_budget = memory_budget
        self.children: list[tuple[str, Any]] = []  # (stage, subprocess.Popen)
        self.failure: str | None = None  # the first failure of a child already waited for
        self.peaks: dict[int, int] = {}  # child pid → the peak its stage declared
        self.feeders: list[threading.Thread] = []  # the threads writing the children's calls

    def run(self, stage: str, function: Callable[..., Any], *args: Any, peak: int = 0, nice: int = 0,
            spare: bool = False, fork: bool = False) -> None:
        """Run function(*args) (a module-level function: the child imports it by name). `peak`: the bytes
        its process may reach; over the memory budget it waits for the running children first. `nice`:
        the child's niceness above this process's (a stage needed late yields the cores meanwhile).
        `spare`: a child prestart() made may take it (started and imported already; niced as it was made).
        `fork`: a fork of this process runs it (no interpreter start, no import, no pickled call), for a
        stage that never opens a store (see the module's docstring) and whose modules are imported here."""
        if self.concurrent and peak and self.children and self.memory_budget is not None:
            # a child just started is small yet: count what it said it may reach
            now = _rss(os.getpid()) + sum(max(_rss(process.pid), self.peaks.get(process.pid, 0))
                                          for _stage, process in self.children)
            if now + peak > self.memory_budget:
                self._collect()
        if not self.concurrent:
            started = time.perf_counter()
            function(*args)
            self.timings[stage] = time.perf_counter() - started
            return
        if fork and hasattr(os, "fork"):
            forked = _fork(function, args, nice)
            self.children.append((stage, forked))
            self.peaks[forked.pid] = peak
            return
        process = (_take_spare(nice) if spare else None) or _spawn(nice, ())
        assert process.stdin is not None
        try:
            call = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            call = b""  # the child reads no call and says so: wait() names the stage
        # fed by a thread: the pipe holds 64 KB, and the child reads only once its interpreter has started
        # and imported (~0.3 s), which this process would otherwise spend blocked in write()
        feeder = threading.Thread(target=_feed, args=(process.stdin, call), name=f"ipgraph-tail-{stage}", daemon=True)
        feeder.start()
        self.children.append((stage, process))
        self.feeders.append(feeder)
        self.peaks[process.pid] = peak

    def adopt(self, other: Tail) -> None:
        """Take over the children `other` started (an earlier Tail: the staged store): waited for, timed
        and stopped with this one's, and counted in its memory budget."""
        self.children.extend(other.children)
        self.feeders.extend(other.feeders)
        self.peaks.update(other.peaks)
        self.failure = self.failure or other.failure
        other.children, other.feeders, other.failure = [], [], None

    def running(self) -> bool:
        """Whether a child started here is still running."""
        return any(process.poll() is None for _stage, process in self.children)

    def wait(self) -> None:
        """Wait for every child; raise OSError for the first that failed (the others are still waited for)."""
        self._collect()
        failure, self.failure = self.failure, None
        if failure:
            raise OSError(failure)

    def _collect(self) -> None:
        """Wait for the running children, timing them; the first failure is kept for wait()."""
        failure = self.failure
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
        self._join_feeders()
        self.failure = failure

    def stop(self) -> None:
        """Kill the children still running (the build failed or was interrupted)."""
        for _stage, process in self.children:
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()
        self.children = []
        self._join_feeders()

    def _join_feeders(self) -> None:
        for feeder in self.feeders:  # each ends once its child has read the call, or has ended
            feeder.join()
        self.feeders = []


class _Forked:
    """A child made by _fork, with the parts of subprocess.Popen that Tail uses."""

    def __init__(self, pid: int, stdout: Any) -> None:
        self.pid, self.stdout, self.stdin = pid, stdout, None
        self.returncode: int | None = None

    def _reap(self, flags: int) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, flags)
            except ChildProcessError:  # reaped elsewhere: its answer (or none) on the pipe says how it ended
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        return self._reap(os.WNOHANG)

    def wait(self) -> int | None:
        return self._reap(0)

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _forked(answer: Callable[[], bytes], nice: int = 0) -> _Forked:
    """A fork of this process that sends the bytes `answer()` gives down a pipe and ends (without this
    process's exit handlers; exit status 1 when `answer` raised). It dies with this process, ignores Ctrl-C
    (the build stops it) and never walks this process's objects in its collections (gc.freeze: no copy of
    their pages). The fork keeps only the thread that made it, so what it runs must touch no lock another
    thread may hold: no logging, no store, no import (its modules are this process's)."""
    from ipgraph.sandbox import die_with_parent
    from ipgraph.stream.gcpolicy import fewer_collections

    parent = os.getpid()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(read)
            import gc

            gc.freeze()
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            die_with_parent(parent)
            if nice > 0:
                os.nice(nice)
            with fewer_collections():
                data = memoryview(answer())
            while data:
                data = data[os.write(write, data):]
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    return _Forked(pid, os.fdopen(read, "rb"))


def _fork(function: Callable[..., Any], args: tuple, nice: int) -> _Forked:
    """function(*args) in a fork of this process (_forked), its answer (as _child's) on the pipe."""

    def answer() -> bytes:
        started = time.perf_counter()
        try:
            function(*args)
            reply: tuple = ("ok", time.perf_counter() - started)
        except BaseException as exc:  # noqa: BLE001 - reported by the build, named with the stage
            reply = ("error", f"{type(exc).__name__}: {exc}")
        return pickle.dumps(reply)

    return _forked(answer, nice)


def in_fork(function: Callable[..., Any], *args: Any) -> Callable[[], Any] | None:
    """Start function(*args) in a fork of this process (_forked, for work that opens no store); returns
    what waits for its value (pickled back; OSError when the fork failed), or None when this system cannot
    fork. For a process of the build's own that may fork (a Tail child), not a caller's."""
    if not hasattr(os, "fork"):
        return None
    child = _forked(lambda: pickle.dumps(function(*args), protocol=pickle.HIGHEST_PROTOCOL))

    def value() -> Any:
        with child.stdout as handle:
            data = handle.read()
        if child.wait() != 0 or not data:
            raise OSError(f"a fork ended without an answer (exit status {child.returncode})")
        return pickle.loads(data)  # noqa: S301 - this process's own fork

    return value


def _feed(pipe: Any, call: bytes) -> None:
    try:
        pipe.write(call)
    except OSError:
        pass  # the child ended first (killed, or failed to start): its answer, or none, says why
    finally:
        try:
            pipe.close()
        except OSError:
            pass


_CHILD = ("import sys; from ipgraph.stream.tail import _child; "
          "_child(int(sys.argv[1]), int(sys.argv[2]), [m for m in sys.argv[3].split(',') if m])")
# children prestart() made, not given a call yet: (process, niceness)
_SPARES: list[tuple[Any, int]] = []
_SPARES_LOCK = threading.Lock()
_SPARES_AT_EXIT = False  # discard_spares registered with atexit (once per process)


def _spawn(nice: int, modules: Any) -> Any:
    import subprocess

    root = str(Path(__file__).resolve().parents[2])  # the ipgraph this process runs, first on the path
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    return subprocess.Popen([sys.executable, "-c", _CHILD, str(os.getpid()), str(nice), ",".join(modules)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)


def prestart(count: int, modules: list[str], nice: int = 0) -> list[Any]:
    """Start `count` children that import `modules` and then wait for a call, for stages run later with
    spare=True: such a stage then pays no interpreter start and import (~0.3 s each) when it is needed.
    Unused ones are ended by discard_spares, or with this process. Returns them (for discard_spares)."""
    import atexit

    global _SPARES_AT_EXIT
    made = [_spawn(nice, modules) for _ in range(count)]
    with _SPARES_LOCK:
        if not _SPARES_AT_EXIT:
            atexit.register(discard_spares)
            _SPARES_AT_EXIT = True
        _SPARES.extend((process, nice) for process in made)
    return made


def _take_spare(nice: int) -> Any:
    """A spare child of at least `nice`, still running (None when there is none)."""
    with _SPARES_LOCK:
        for i, (process, its_nice) in enumerate(_SPARES):
            if its_nice >= nice and process.poll() is None:
                del _SPARES[i]
                return process
    return None


def discard_spares(only: list[Any] | None = None) -> None:
    """End the spare children no stage took (of `only`, when given: those one prestart made)."""
    with _SPARES_LOCK:
        spares = [process for process, _nice in _SPARES if only is None or process in only]
        _SPARES[:] = [(process, nice) for process, nice in _SPARES if process not in spares]
    for process in spares:
        if process.poll() is None:
            process.kill()
        process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()


def _child(parent: int, nice: int = 0, modules: list[str] | None = None) -> None:
    import importlib
    import signal

    from ipgraph.sandbox import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the build, which stops its children
    die_with_parent(parent)
    if nice > 0:
        os.nice(nice)
    for module in modules or ():  # a spare: what its stage will need, imported while it waits for the call
        importlib.import_module(module)
    from ipgraph.stream.gcpolicy import fewer_collections

    try:
        function, args = pickle.load(sys.stdin.buffer)
        started = time.perf_counter()  # a spare waited for its call: the stage's time starts with it
        with fewer_collections():  # as in the build that started it
            function(*args)
        reply: tuple = ("ok", time.perf_counter() - started)
    except BaseException as exc:  # noqa: BLE001 - reported by the build, named with the stage
        reply = ("error", f"{type(exc).__name__}: {exc}")
    sys.stdout.buffer.write(pickle.dumps(reply))
    sys.stdout.buffer.flush()
