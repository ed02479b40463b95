"""Benchmarks of querying and serving (`ipgraph bench query`, `ipgraph bench serve`).

`run_query_bench` times every named query on the embedded Oxigraph store and on rdflib's
in-memory engine in the same run, on the corpus build and on a scaled synthetic graph of about
a million triples, and the whole `ipgraph query leads` process. The scaled graph is made
at the string level from build/ipgraph.nt (`scaled_ntriples`, the renaming rule of
ipgraph.synthetic), bulk-loaded into a temporary store and parsed by rdflib for the baseline.

`run_serve_bench` starts `ipgraph serve` in its own process and sends it the named queries
(and resource pages) from many concurrent clients on loopback, recording errors and latency
percentiles. `run_hostile_bench` (`ipgraph bench serve --hostile`) does the same while expensive
clients (from 127.0.0.2) and slow clients (from 127.0.0.3) attack the server, and records the
peak RSS of the server and its workers.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from ipgraph.query import Engine, QueryResult, Term, default_prefixes, display_width, prepare_named, run_named

Echo = Callable[[str], None]

# Each named query with the parameters a user would give; "lookup" answers for one agency or
# programme (target < 50 ms at 1M triples), "whole" aggregates the whole graph (target < 1 s).
CASES: list[tuple[str, dict[str, str], str]] = [
    ("leads", {}, "whole"),
    ("leads", {"agency": "天津市知识产权局"}, "lookup"),
    ("coresponsible", {"agency": "天津市知识产权局"}, "lookup"),
    ("national-citations", {}, "whole"),
    ("programme", {"name": "专利导航"}, "lookup"),
    ("targets", {"year": "2025"}, "whole"),
    ("shared-directives", {}, "whole"),
    ("agencies", {}, "whole"),
    ("programmes", {}, "whole"),
    ("documents", {}, "whole"),
    ("echoes", {"document": "宜昌"}, "lookup"),
    ("unechoed", {"document": "宜昌"}, "lookup"),
]


def case_label(name: str, params: dict[str, str]) -> str:
    return " ".join([name] + [f"--{k} {v}" for k, v in params.items()])


# ---------------------------------------------------------------------------------------------
# Scaled synthetic N-Triples (the renaming rule of ipgraph.synthetic, on strings)


def _split_ntriple(line: str) -> tuple[str, str, str]:
    """Subject IRI, predicate IRI and object token of one N-Triples line written by rdflib/Oxigraph."""
    if not line.startswith("<"):
        raise ValueError(f"blank-node subjects are not supported by the scaler: {line[:80]}")
    s_end = line.index("> ")
    subject = line[1:s_end]
    rest = line[s_end + 2 :]
    p_end = rest.index("> ")
    predicate = rest[1:p_end]
    obj = rest[p_end + 2 :].rstrip()
    if not obj.endswith("."):
        raise ValueError(f"not an N-Triples line: {line[:80]}")
    return subject, predicate, obj[:-1].rstrip()


class _Scaler:
    """The renaming rule of ipgraph.synthetic.scaled_graph, applied to N-Triples strings."""

    def __init__(self, lines: Iterable[str]) -> None:
        prefixes = default_prefixes()
        self.data = prefixes["id"]
        self.renamed = (self.data + "document/", self.data + "evidence/")
        self.shared = {self.data + "agency/": 3, self.data + "programme/": 4, self.data + "directive/": 5}
        self.labelled = {
            prefixes["rdfs"] + "label",
            prefixes["skos"] + "prefLabel",
            prefixes["ipg"] + "sourceFile",
        }
        self.base = [_split_ntriple(line) for line in lines if line.strip()]

    def rename(self, iri: str, copy: int) -> str:
        if iri.startswith(self.renamed):
            head, _, tail = iri[len(self.data) :].partition("/")
            rest = tail.split("/", 1)
            return f"{self.data}{head}/{rest[0]}~{copy}" + (f"/{rest[1]}" if len(rest) > 1 else "")
        for prefix, every in self.shared.items():
            if iri.startswith(prefix) and copy % every == 0:
                return f"{iri}~{copy // every}"
        return iri

    def copy(self, copy: int) -> Iterator[str]:
        """The lines of copy `copy` that copy 0 does not already have."""
        if copy == 0:
            yield from (f"<{s}> <{p}> {o} ." for s, p, o in self.base)
            return
        cache: dict[str, str] = {}
        for s, p, o in self.base:
            s2 = cache.get(s) or cache.setdefault(s, self.rename(s, copy))
            if o.startswith("<"):
                inner = o[1:-1]
                o2 = f"<{cache.get(inner) or cache.setdefault(inner, self.rename(inner, copy))}>"
            elif p in self.labelled and s2 != s:
                end = o.rindex('"')
                o2 = f"{o[:end]}~{copy}{o[end:]}"
            else:
                o2 = o
            if s2 != s or o2 != o:  # an unchanged triple is already in copy 0
                yield f"<{s2}> <{p}> {o2} ."


def scaled_ntriples(lines: Iterable[str], copies: int) -> Iterator[str]:
    """N-Triples lines of `copies` renamed copies of a graph, as ipgraph.synthetic.scaled_graph makes them.

    Copy 0 is the graph itself. In copy k, documents and evidence nodes (and so their
    sections, measures and targets) get the suffix ~k; every 3rd copy gets its own agencies,
    every 4th its own programmes, every 5th its own directives (suffix ~k/n); the labels and
    file names of renamed nodes get ~k as well. No line is written twice.
    """
    scaler = _Scaler(lines)
    for copy in range(copies):
        yield from scaler.copy(copy)


def write_scaled(nt_path: Path, out_path: Path, triples: int) -> int:
    """Write copies of nt_path (see scaled_ntriples) into out_path until it has about `triples` triples.

    Returns the number of triples written.
    """
    scaler = _Scaler(nt_path.read_text(encoding="utf-8").splitlines())
    count = 0
    copy = 0
    with open(out_path, "w", encoding="utf-8") as out:
        while copy == 0 or count < triples:
            for line in scaler.copy(copy):
                out.write(line + "\n")
                count += 1
            copy += 1
    return count


# ---------------------------------------------------------------------------------------------
# Measuring


def rss_mb() -> float | None:
    """Resident memory of this process in MiB (Linux), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def median_ms(func: Callable[[], Any], runs: int, warmup: int = 0) -> tuple[float, Any]:
    """Median wall time of `func` in milliseconds over `runs` runs, and its last result."""
    result = None
    for _ in range(warmup):
        result = func()
    times = []
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        result = func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


_NUMERIC = tuple(
    default_prefixes()["xsd"] + name for name in ("decimal", "integer", "double", "float", "int", "long")
)


def canonical_term(term: Term | None) -> tuple | None:
    """A term as a comparable tuple; numbers by value (rdflib writes the decimal 10 as "10.0")."""
    if term is None:
        return None
    value: Any = term.value
    if term.datatype in _NUMERIC:
        try:
            value = str(Decimal(term.value).normalize())
        except InvalidOperation:
            pass
    return (term.kind, value, term.lang, term.datatype)


def canonical_rows(result: QueryResult) -> list[tuple]:
    """Rows as sorted tuples of comparable terms, to compare engines (the order of ties may differ)."""
    return sorted((tuple(canonical_term(t) for t in row) for row in result.rows), key=repr)


ENGINE_COLUMNS = (("oxigraph", "disk ms"), ("memory", "memory ms"), ("rdflib", "rdflib ms"))


def time_cases(engines: dict[str, Engine], repeat: dict[str, int], echo: Echo) -> list[dict[str, Any]]:
    """Median latency of every case on every engine, checking that the engines agree.

    The time of a case includes resolving its names (--agency …) and turning every row into
    Python terms, as `ipgraph query` does.
    """
    echo(
        "  "
        + _ljust("query", 42)
        + "".join(f"{label:>11}" for name, label in ENGINE_COLUMNS if name in engines)
        + ("  rdflib/disk  rdflib/memory" if "rdflib" in engines else "")
        + f"{'rows':>7}"
    )
    out = []
    for name, params, kind in CASES:
        row: dict[str, Any] = {"query": case_label(name, params), "kind": kind}
        answers = {}
        for engine_name, engine in engines.items():
            warmup = 0 if engine_name == "rdflib" else 1

            def answer(e: Engine = engine, n: str = name, p: dict[str, str] = params) -> QueryResult:
                return run_named(e, n, p)

            ms, result = median_ms(answer, repeat[engine_name], warmup)
            row[f"{engine_name}_ms"] = round(ms, 2)
            row["rows"] = len(result.rows)
            answers[engine_name] = canonical_rows(result)
        for fast in ("oxigraph", "memory"):
            if f"{fast}_ms" in row and "rdflib_ms" in row:
                row[f"ratio_{fast}"] = round(row["rdflib_ms"] / max(row[f"{fast}_ms"], 1e-6), 1)
        row["agree"] = len({repr(a) for a in answers.values()}) == 1
        out.append(row)
        echo(_case_line(row, engines))
    return out


def _ljust(text: str, width: int) -> str:
    """Pad to `width` terminal columns (Chinese characters take two)."""
    return text + " " * max(0, width - display_width(text))


def _case_line(row: dict[str, Any], engines: Iterable[str]) -> str:
    cells = "".join(f"{row[f'{name}_ms']:11.1f}" for name, _ in ENGINE_COLUMNS if name in engines)
    ratios = "".join(
        f"{row[k]:12.1f}x" if k in row else f"{'':13}"
        for k in ("ratio_oxigraph", "ratio_memory")
        if "rdflib" in engines
    )
    agree = "" if row["agree"] else "  ENGINES DISAGREE"
    return f"  {_ljust(row['query'], 42)}{cells}{ratios} {row['rows']:6d}{agree}"


def process_time(build_dir: Path, runs: int) -> float:
    """Median wall time in seconds of the whole `ipgraph query leads` process."""
    cmd = [sys.executable, "-m", "ipgraph", "query", "leads", "--graph", str(build_dir)]
    subprocess.run(
        cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )  # warm the disk cache
    times = []
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _bench_graph(label: str, build_dir: Path, repeat: int, rdflib_repeat: int, echo: Echo) -> dict[str, Any]:
    from ipgraph.query import OxigraphEngine, RdflibEngine
    from ipgraph.store import ensure_store, load_graph, load_memory_store, open_store, store_info

    echo(f"\n{label}")
    ensure_store(build_dir)
    start = time.perf_counter()
    disk = OxigraphEngine(open_store(build_dir))
    open_s = time.perf_counter() - start
    before = rss_mb()
    start = time.perf_counter()
    memory = OxigraphEngine(load_memory_store(build_dir), name="memory")
    memory_s = time.perf_counter() - start
    middle = rss_mb()
    start = time.perf_counter()
    graph = load_graph(build_dir)
    parse_s = time.perf_counter() - start
    after = rss_mb()
    info = store_info(build_dir)
    triples = info.triples if info else len(graph)
    memory_mib = round(middle - before) if before is not None and middle is not None else None
    rdflib_mib = round(after - middle) if middle is not None and after is not None else None
    echo(
        f"  {triples:,} triples. Ready to answer: disk store opened in {open_s:.2f} s; "
        f"in memory after {memory_s:.1f} s (+{memory_mib} MiB RSS); rdflib after parsing "
        f"ipgraph.nt in {parse_s:.1f} s (+{rdflib_mib} MiB RSS)"
    )
    cases = time_cases(
        {"oxigraph": disk, "memory": memory, "rdflib": RdflibEngine(graph)},
        {"oxigraph": repeat, "memory": repeat, "rdflib": rdflib_repeat},
        echo,
    )
    del graph, memory
    return {
        "graph": label,
        "triples": triples,
        "store_open_s": round(open_s, 3),
        "memory_load_s": round(memory_s, 2),
        "memory_rss_mib": memory_mib,
        "rdflib_parse_s": round(parse_s, 2),
        "rdflib_rss_mib": rdflib_mib,
        "cases": cases,
    }


def run_query_bench(
    build_dir: Path | str = "build",
    triples: int = 1_000_000,
    repeat: int = 7,
    rdflib_repeat: int = 3,
    process_runs: int = 5,
    json_out: Path | str | None = None,
    echo: Echo = print,
) -> dict[str, Any]:
    """Time the named queries on the corpus build and on a scaled graph; print and return the figures."""
    from ipgraph.store import NTRIPLES_NAME, ensure_store, write_store

    build_dir = Path(build_dir)
    ensure_store(build_dir)
    report: dict[str, Any] = {"graphs": []}
    report["graphs"].append(_bench_graph(f"corpus ({build_dir})", build_dir, repeat, rdflib_repeat, echo))
    proc = process_time(build_dir, process_runs)
    report["process_query_leads_s"] = round(proc, 3)
    echo(f"  whole process `ipgraph query leads`: median {proc:.2f} s over {process_runs} runs")
    if triples > 0:
        tmp = Path(tempfile.mkdtemp(prefix="ipgraph-bench-"))
        try:
            start = time.perf_counter()
            count = write_scaled(build_dir / NTRIPLES_NAME, tmp / NTRIPLES_NAME, triples)
            made = time.perf_counter() - start
            start = time.perf_counter()
            write_store(tmp / NTRIPLES_NAME, tmp)
            loaded = time.perf_counter() - start
            echo(
                f"\nscaled graph: {count:,} triples written in {made:.1f} s, bulk-loaded into a store in {loaded:.1f} s"
            )
            scaled = _bench_graph(f"scaled ({count:,} triples)", tmp, repeat, rdflib_repeat, echo)
            scaled.update({"generate_s": round(made, 2), "store_load_s": round(loaded, 2)})
            report["graphs"].append(scaled)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return _saved(report, json_out)


# ---------------------------------------------------------------------------------------------
# Load test of the server


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for(url_host: str, port: int, path: str = "/sparql?query=ASK%7B%7D", timeout: float = 60.0) -> None:
    """Wait until the server answers `path` with 200 (raises TimeoutError)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(url_host, port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the server on port {port} did not answer within {timeout:.0f} s")


def labelled_mix(build_dir: Path | str) -> list[tuple[str, tuple[str, str, str] | None]]:
    """The requests of the load test, each with a label: (label, (method, path, Accept)), or
    (label, None) where the build cannot bind the named query (an older build without its data).

    The named queries' values are bound on `build_dir`'s own store, so each IRI is spelled as
    that build spells it: two builds of one corpus by two versions give requests that mean the
    same to each version's server.
    """
    from ipgraph.errors import QueryError
    from ipgraph.query import open_engine

    engine = open_engine(build_dir)
    mix: list[tuple[str, tuple[str, str, str] | None]] = []
    for name, params, _kind in CASES:
        try:
            text, _notes = prepare_named(engine, name, params)
        except QueryError:
            mix.append((case_label(name, params), None))
            continue
        path = "/sparql?" + urlencode({"query": text})
        mix.append((case_label(name, params), ("GET", path, "application/sparql-results+json")))
    for label in ("天津市知识产权局", "沈阳市市场监督管理局"):
        for accept in ("text/html", "text/turtle"):
            mix.append((f"/id/agency/{label} ({accept})", ("GET", "/id/agency/" + quote(label, safe=""), accept)))
    return mix


def request_mix(build_dir: Path | str) -> list[tuple[str, str, str]]:
    """The requests of the load test: (method, path, Accept) for each named query and a few resource pages."""
    return [request for _label, request in labelled_mix(build_dir) if request is not None]


def answer_signature(status: int, content_type: str, body: bytes) -> str:
    """What an answer says, to compare two servers' answers to one request: the status and the
    number of results (SPARQL JSON rows, Turtle triples, HTML table rows), not the bytes (the
    two versions may spell IRIs and order rows differently)."""
    import pyoxigraph

    if not 200 <= status < 300:
        return f"{status}"
    if "json" in content_type:
        data = json.loads(body)
        if "boolean" in data:
            return f"{status} ask {data['boolean']}"
        return f"{status} {len(data['results']['bindings'])} rows"
    if "turtle" in content_type:
        return f"{status} {sum(1 for _ in pyoxigraph.parse(body, format=pyoxigraph.RdfFormat.TURTLE))} triples"
    if "html" in content_type:
        return f"{status} {body.count(b'<tr>')} table rows"
    return f"{status} {len(body)} bytes"


def check_answers(port: int, mix: list[tuple[str, str, str]]) -> list[str]:
    """Send each request of `mix` once; the signature of each answer (answer_signature)."""
    out = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for method, path, accept in mix:
            conn.request(method, path, headers={"Accept": accept})
            response = conn.getresponse()
            body = response.read()
            out.append(answer_signature(response.status, response.getheader("Content-Type") or "", body))
    finally:
        conn.close()
    return out


def fair_mixes(
    labelled: dict[str, list[tuple[str, tuple[str, str, str] | None]]], answers: dict[str, list[str | None]]
) -> tuple[dict[str, list[tuple[str, str, str]]], list[str]]:
    """The requests each server answers with 2xx and with the same results as every other server
    (position by position, one mix per server), and a line for each request left out.

    A comparison in which one server answers a request with a cheap 404 (or a different number of
    rows) while the other does the work is not a comparison: such requests go out of every mix.
    """
    names = list(labelled)
    kept: dict[str, list[tuple[str, str, str]]] = {name: [] for name in names}
    dropped = []
    for i, (label, _request) in enumerate(labelled[names[0]]):
        sigs = {name: answers[name][i] for name in names}
        requests = {name: labelled[name][i][1] for name in names}
        same = len(set(sigs.values())) == 1
        ok = all(sig is not None and sig.split()[0].startswith("2") for sig in sigs.values())
        if same and ok and all(r is not None for r in requests.values()):
            for name in names:
                kept[name].append(requests[name])  # type: ignore[arg-type]
        else:
            shown = "; ".join(f"{name}: {sig or 'not bound on its build'}" for name, sig in sigs.items())
            dropped.append(f"{label}: {shown}")
    return kept, dropped


def _client(
    port: int,
    mix: list[tuple[str, str, str]],
    deadline: float,
    seed: int,
    latencies: list[float],
    errors: list[str],
    lock: threading.Lock,
) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    mine: list[float] = []
    fails: list[str] = []
    while time.monotonic() < deadline:
        method, path, accept = rng.choice(mix)
        start = time.perf_counter()
        try:
            conn.request(method, path, headers={"Accept": accept})
            response = conn.getresponse()
            response.read()
            if not 200 <= response.status < 300:  # an answer, but not the one asked for (a 404 is cheap)
                fails.append(f"{response.status} {path[:60]}")
        except (OSError, http.client.HTTPException) as exc:
            fails.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine.append(time.perf_counter() - start)
    conn.close()
    with lock:
        latencies.extend(mine)
        errors.extend(fails)


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile (the smallest value with at least pct % of the values at or below it)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = math.ceil(pct / 100 * len(ordered))
    return ordered[min(len(ordered), max(1, rank)) - 1]


def load_test(port: int, mix: list[tuple[str, str, str]], clients: int, seconds: float) -> dict[str, Any]:
    """`clients` threads sending requests from `mix` for `seconds` (keep-alive connections)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_client, args=(port, mix, deadline, i, latencies, errors, lock))
        for i in range(clients)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "non_2xx": sum(1 for e in errors if e[:3].isdigit()),
        "error_samples": sorted(set(errors))[:5],
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(max(latencies, default=0) * 1000, 1),
    }


def _start_serve(
    build_dir: Path, port: int, store: str, workers: int | None, checkout: Path | None
) -> subprocess.Popen[bytes]:
    """`ipgraph serve` in its own process; checkout: run that source tree's ipgraph instead of this one."""
    cmd = [sys.executable, "-m", "ipgraph", "serve", "--graph", str(build_dir), "--port", str(port), "--quiet"]
    cmd += ["--store", store] + (["--workers", str(workers)] if workers else [])
    env = dict(os.environ)
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)  # its package shadows the installed one
    # `python -m` puts its working folder first on sys.path: the build folder has no modules that
    # could shadow the server's (a stray queue.py or lead.py in the caller's folder would).
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=build_dir)
    try:
        wait_for("127.0.0.1", port)
    except TimeoutError:
        server.kill()
        _, err = server.communicate(timeout=10)
        raise RuntimeError(f"the server did not start: {err.decode('utf-8', 'replace')[-500:]}") from None
    return server


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _one_serve_run(
    build_dir: Path,
    mix: list[tuple[str, str, str]],
    clients: int,
    seconds: float,
    workers: int | None,
    store: str,
    checkout: Path | None = None,
) -> dict[str, Any]:
    port = free_port()
    server = _start_serve(build_dir, port, store, workers, checkout)
    try:
        report = load_test(port, mix, clients, seconds)
    finally:
        _stop(server)
    report["store"] = store
    report["load_average"] = round(os.getloadavg()[0], 1)  # the machine is shared: say how busy it was
    return report


def _this_checkout() -> Path:
    """The source tree this ipgraph is imported from (its parent folder goes on PYTHONPATH)."""
    return Path(__file__).resolve().parent.parent


COMPARED = ("requests", "errors", "non_2xx", "throughput_rps", "p50_ms", "p95_ms", "p99_ms", "max_ms")


def serve_table(runs: list[dict[str, Any]]) -> list[str]:
    """The runs as a Markdown table (as in the README), then the median of each server's runs."""
    lines = [
        "| run [load average] | requests | errors (non-2xx) | req/s | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def row(label: str, r: dict[str, Any]) -> str:
        return (
            f"| {label} | {r['requests']:,.0f} | {r['errors']:g} ({r.get('non_2xx', 0):g}) | {r['throughput_rps']:.0f} | {r['p50_ms']:.0f} ms "
            f"| {r['p95_ms']:.0f} ms | {r['p99_ms']:.0f} ms | {r['max_ms']:.0f} ms |"
        )

    for r in runs:
        lines.append(row(f"{r['server']} [{r['load_average']}]", r))
    for name in dict.fromkeys(r["server"] for r in runs):
        mine = [r for r in runs if r["server"] == name]
        median = {k: statistics.median(r.get(k, 0) for r in mine) for k in COMPARED}
        lines.append(row(f"{name}, median of {len(mine)}", median))
    return lines


def run_serve_bench(
    build_dir: Path | str = "build",
    clients: int = 50,
    seconds: float = 30.0,
    workers: int | None = None,
    store: str = "memory",
    json_out: Path | str | None = None,
    echo: Echo = print,
    compare: Path | str | None = None,
    rounds: int = 2,
    compare_graph: Path | str | None = None,
) -> dict[str, Any]:
    """Start `ipgraph serve` in a subprocess and load it from `clients` concurrent clients.

    compare: another checkout of ipgraph (e.g. a git worktree of an older commit); its server and
    this one then run alternately, `rounds` times each, under the same load, and the report has
    every run and each server's medians (alternating runs share the machine's load fairly).
    compare_graph: that checkout's build of the same documents (default: build_dir), which it
    serves; each server's requests are bound on its own build. Before the runs each request is
    sent once to each server: the ones either answers with other than 2xx, or with other results
    than the other, are left out of both mixes (and listed); a run in which a server answers
    other than 2xx is marked invalid.
    """
    from ipgraph.store import ensure_store

    build_dir = Path(build_dir).resolve()
    ensure_store(build_dir)
    if compare is None:
        mix = request_mix(build_dir)
        echo(
            f"load test: {clients} clients for {seconds:.0f} s on 127.0.0.1 "
            f"({len(mix)} kinds of request: every named query, resource pages), "
            f"server workers: {workers or 'default'} ({store} store), CPUs: {os.cpu_count()}"
        )
        report = _one_serve_run(build_dir, mix, clients, seconds, workers, store)
        echo(
            f"  requests {report['requests']}  errors {report['errors']} (non-2xx {report['non_2xx']})"
            f"  throughput {report['throughput_rps']}/s  [load average {report['load_average']}]"
        )
        echo(
            f"  latency p50 {report['p50_ms']} ms  p95 {report['p95_ms']} ms  p99 {report['p99_ms']} ms  "
            f"max {report['max_ms']} ms"
        )
        for sample in report["error_samples"]:
            echo(f"  error: {sample}")
        return _saved(report, json_out)
    other = Path(compare).resolve()
    if not (other / "ipgraph" / "__init__.py").is_file():
        from ipgraph.errors import InputError

        raise InputError(other, "not a checkout of ipgraph (no ipgraph/__init__.py)")
    other_build = Path(compare_graph).resolve() if compare_graph is not None else build_dir
    ensure_store(other_build)
    other_name = f"other ({other.name})"
    servers = [(other_name, other, other_build), ("this", _this_checkout(), build_dir)]
    labelled = {name: labelled_mix(graph) for name, _checkout, graph in servers}
    answers: dict[str, list[str | None]] = {}
    for name, checkout, graph in servers:
        mine = [request for _label, request in labelled[name] if request is not None]
        port = free_port()
        server = _start_serve(graph, port, store, workers, checkout)
        try:
            sigs = iter(check_answers(port, mine))
        finally:
            _stop(server)
        answers[name] = [next(sigs) if request is not None else None for _label, request in labelled[name]]
    mixes, dropped = fair_mixes(labelled, answers)
    echo(
        f"load test: {clients} clients for {seconds:.0f} s on 127.0.0.1, {rounds} rounds alternating; "
        f"server workers: {workers or 'default'} ({store} store), CPUs: {os.cpu_count()}"
    )
    echo(f"  {other_name} serves {other_build}, this serves {build_dir}")
    echo(f"  mix: {len(mixes['this'])} kinds of request answered 2xx with the same results by both servers")
    for line in dropped:
        echo(f"  left out: {line}")
    if not mixes["this"]:
        from ipgraph.errors import InputError

        raise InputError(other_build, "no request is answered alike by both servers: nothing to compare")
    runs = []
    for round_no in range(1, rounds + 1):
        for name, checkout, graph in servers:
            run = _one_serve_run(graph, mixes[name], clients, seconds, workers, store, checkout)
            run["server"], run["round"] = name, round_no
            invalid = " INVALID (non-2xx answers)" if run["non_2xx"] else ""
            echo(
                f"  round {round_no} {name}: {run['throughput_rps']}/s p99 {run['p99_ms']} ms "
                f"errors {run['errors']} non-2xx {run['non_2xx']} [load average {run['load_average']}]{invalid}"
            )
            for sample in run["error_samples"]:
                echo(f"    error: {sample}")
            runs.append(run)
    for line in serve_table(runs):
        echo(line)
    valid = not any(r["non_2xx"] for r in runs)
    if not valid:
        echo("  the comparison is INVALID: a server answered requests of the mix with other than 2xx")
    report = {"clients": clients, "seconds": seconds, "store": store, "runs": runs, "valid": valid,
              "mix": len(mixes["this"]), "left_out": dropped, "errors": sum(r["errors"] for r in runs)}
    return _saved(report, json_out)


def run_search_bench(build_dir: Path | str, **kwargs: Any) -> dict[str, Any]:
    """`ipgraph bench search` (ipgraph.search.bench): index build time per MB and query latency."""
    from ipgraph.search.bench import run_search_bench as run

    return run(build_dir, **kwargs)
# ---------------------------------------------------------------------------------------------
# Load test under attack: well-behaved clients while expensive and slow clients run

# Queries an attacker sends: a cartesian count (never ends), a cartesian sort (gigabytes), a
# regular expression over every pair, a 19,000-character text (the old keyword scan was quadratic).
EXPENSIVE = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1",
    'SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(REGEX(CONCAT(STR(?c), STR(?f)), "(a|b)*c$")) }',
    "SELECT * WHERE { ?s ?p ?o } LIMIT 1 " + "a" * 19_000,
]
EXPENSIVE_FROM = "127.0.0.2"  # the attacker's address (fairness is per client address)
SLOW_FROM = "127.0.0.3"


def _raw_get(source: str, port: int, query: str, timeout: float) -> int:
    """One GET /sparql from `source` on a fresh connection; the status (0: no answer)."""
    request = (
        f"GET /sparql?query={quote(query)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0)) as sock:
            sock.sendall(request.encode())
            head = sock.recv(64)
            while sock.recv(65536):
                pass
        return int(head.split(b" ", 2)[1])
    except (OSError, ValueError, IndexError):
        return 0


def _expensive_client(port: int, deadline: float, seed: int, statuses: dict[int, int], lock: threading.Lock) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        status = _raw_get(EXPENSIVE_FROM, port, rng.choice(EXPENSIVE), timeout=60)
        with lock:
            statuses[status] = statuses.get(status, 0) + 1


def _slow_clients(port: int, count: int, deadline: float, stats: dict[str, int]) -> None:
    """`count` connections that send a request head one byte a second; each dropped one is reopened."""
    import selectors

    sel = selectors.DefaultSelector()

    def open_one() -> None:
        sock = socket.socket()
        sock.setblocking(False)
        sock.bind((SLOW_FROM, 0))
        try:
            sock.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            sock.close()
            stats["refused"] += 1
            return
        sel.register(sock, selectors.EVENT_READ, {"sent": 0})
        stats["opened"] += 1

    head = f"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode()
    for _ in range(count):
        open_one()
    next_byte = time.monotonic()
    while time.monotonic() < deadline:
        for key, _mask in sel.select(timeout=0.2):
            sock = key.fileobj
            try:
                data = sock.recv(4096)  # type: ignore[union-attr]
            except OSError:
                data = b""
            if not data:  # dropped by the server (header deadline, connection cap)
                sel.unregister(sock)
                sock.close()  # type: ignore[union-attr]
                stats["dropped"] += 1
                open_one()
        if time.monotonic() >= next_byte:
            next_byte += 1.0
            for key in list(sel.get_map().values()):
                state = key.data
                piece = head[state["sent"] : state["sent"] + 1] or b"x"
                try:
                    key.fileobj.send(piece)  # type: ignore[union-attr]
                    state["sent"] += 1
                except OSError:
                    pass
    for key in list(sel.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    sel.close()


def _tree_rss(pid: int) -> dict[int, int]:
    """RSS in bytes of `pid` and every process below it."""
    out: dict[int, int] = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                out[p] = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS"))
            for name in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{name}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return out


def run_hostile_bench(
    build_dir: Path | str = "build",
    clients: int = 50,
    seconds: float = 30.0,
    expensive: int = 10,
    slow: int = 200,
    workers: int | None = None,
    max_memory: int = 1024**3,
    json_out: Path | str | None = None,
    echo: Echo = print,
) -> dict[str, Any]:
    """`clients` well-behaved clients for `seconds` while `expensive` and `slow` hostile clients run.

    Reports the well-behaved clients' errors and latency, what the hostile ones got, and the
    peak RSS of the server and its workers (each worker capped at `max_memory`).
    """
    from ipgraph.store import ensure_store

    build_dir = Path(build_dir)
    ensure_store(build_dir)
    mix = request_mix(build_dir)
    port = free_port()
    cmd = [sys.executable, "-m", "ipgraph", "serve", "--graph", str(build_dir), "--port", str(port), "--quiet"]
    cmd += ["--max-memory", str(max_memory)] + (["--workers", str(workers)] if workers else [])
    # stderr to a file, not a pipe nobody reads: workers that hit the memory cap write to it.
    err_file = tempfile.TemporaryFile()
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file)
    peaks: dict[str, int] = {"total": 0, "server": 0, "worker": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss = _tree_rss(server.pid)
            peaks["total"] = max(peaks["total"], sum(rss.values()))
            peaks["server"] = max(peaks["server"], rss.get(server.pid, 0))
            peaks["worker"] = max([peaks["worker"]] + [v for p, v in rss.items() if p != server.pid])
            stop.wait(0.1)

    try:
        try:
            wait_for("127.0.0.1", port)
        except TimeoutError:
            server.kill()
            server.wait(timeout=10)
            err_file.seek(0)
            err = err_file.read()
            raise RuntimeError(f"the server did not start: {err.decode('utf-8', 'replace')[-500:]}") from None
        echo(
            f"hostile load test: {clients} well-behaved clients for {seconds:.0f} s on 127.0.0.1:{port}, while "
            f"{expensive} expensive clients (from {EXPENSIVE_FROM}) and {slow} slow clients (from {SLOW_FROM}) run; "
            f"server workers: {workers or 'default'}, --max-memory {max_memory // 1024**2} MiB, CPUs: {os.cpu_count()}"
        )
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        hostile_deadline = time.monotonic() + seconds + 3
        statuses: dict[int, int] = {}
        slow_stats = {"opened": 0, "dropped": 0, "refused": 0}
        lock = threading.Lock()
        attackers = [
            threading.Thread(target=_expensive_client, args=(port, hostile_deadline, i, statuses, lock), daemon=True)
            for i in range(expensive)
        ]
        attackers.append(threading.Thread(target=_slow_clients, args=(port, slow, hostile_deadline, slow_stats), daemon=True))
        for thread in attackers:
            thread.start()
        time.sleep(2.0)  # the attack is under way before the first well-behaved request
        report = load_test(port, mix, clients, seconds)
        for thread in attackers:
            thread.join(timeout=90)
        stop.set()
        sampler.join(timeout=5)
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        err_file.close()
    report.update(
        {
            "mode": "hostile",
            "expensive_clients": expensive,
            "expensive_statuses": {str(k): v for k, v in sorted(statuses.items())},
            "slow_clients": slow,
            "slow_connections": slow_stats,
            "max_memory_mb": max_memory // 1024**2,
            "peak_rss_total_mb": round(peaks["total"] / 1024**2, 1),
            "peak_rss_server_mb": round(peaks["server"] / 1024**2, 1),
            "peak_rss_worker_mb": round(peaks["worker"] / 1024**2, 1),
        }
    )
    echo(
        f"  well-behaved: requests {report['requests']}  errors {report['errors']}  "
        f"throughput {report['throughput_rps']}/s"
    )
    echo(
        f"  well-behaved latency p50 {report['p50_ms']} ms  p95 {report['p95_ms']} ms  p99 {report['p99_ms']} ms  "
        f"max {report['max_ms']} ms"
    )
    echo(f"  expensive requests by status: {report['expensive_statuses']}")
    echo(
        f"  slow connections: {slow_stats['opened']} opened, {slow_stats['dropped']} dropped by the server, "
        f"{slow_stats['refused']} refused"
    )
    echo(
        f"  peak RSS: server {report['peak_rss_server_mb']} MiB, largest worker {report['peak_rss_worker_mb']} MiB "
        f"(cap {report['max_memory_mb']} MiB), all together {report['peak_rss_total_mb']} MiB"
    )
    for sample_error in report["error_samples"]:
        echo(f"  error: {sample_error}")
    return _saved(report, json_out)


def _saved(report: dict[str, Any], json_out: Path | str | None) -> dict[str, Any]:
    """The benchmark's figures, also written to json_out (atomically) when given."""
    if json_out:
        from ipgraph.atomic import atomic_write_text

        atomic_write_text(json_out, json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    return report
