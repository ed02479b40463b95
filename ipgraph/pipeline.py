"""The whole build: read → structure → extract → resolve → graph → outputs.

    from ipgraph.pipeline import build_graph, write_outputs
    result = build_graph(["data/corpus"])
    write_outputs(result, "build")
"""
from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from ipgraph.atomic import atomic_write_bytes, atomic_write_text
from ipgraph.errors import InputError, OutputError
from ipgraph.extract.agencies import extract_assignments
from ipgraph.extract.citations import extract_citations
from ipgraph.extract.programmes import extract_programmes
from ipgraph.extract.targets import extract_targets
from ipgraph.graph import GraphBuilder
from ipgraph.model import AgencyRef, DocumentRecord, ParsedDocument, SourceDocument
from ipgraph.read import DEFAULT_MAX_BYTES, collect_paths, matching_form, read_document, restore_verbatim
from ipgraph.resolve import AgencyResolver
from ipgraph.structure import parse_document

TURTLE_NAME = "ipgraph.ttl"
NTRIPLES_NAME = "ipgraph.nt"
SUMMARY_NAME = "summary.json"
GRAPH_PAGE_NAME = "graph.html"


@dataclass
class BuildResult:
    graph: Graph
    records: list[DocumentRecord]
    skipped: list[InputError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        from rdflib.namespace import RDF

        from ipgraph.vocab import IPG

        def count(cls) -> int:
            return len(set(self.graph.subjects(RDF.type, cls)))

        return {
            "documents": count(IPG.PolicyDocument),
            "measures": count(IPG.Measure),
            "agencies": count(IPG.Agency),
            "programmes": count(IPG.Programme),
            "directives": count(IPG.Directive),
            "targets": count(IPG.Target),
            "triples": len(self.graph),
            "skipped": len(self.skipped),
        }


def extract_document(source: SourceDocument) -> DocumentRecord:
    """Structure and extraction for one decoded document."""
    parsed: ParsedDocument = parse_document(source)
    meta = parsed.meta
    resolver = AgencyResolver(meta.jurisdiction, meta.level)
    issuers: list[AgencyRef] = []
    for issuer in meta.issuers:
        issuers.extend(ref for ref in resolver.resolve_list(issuer) if ref not in issuers)
    return DocumentRecord(
        parsed=parsed,
        issuers=issuers,
        assignments=extract_assignments(parsed.measures, resolver, source.text),
        programmes=extract_programmes(parsed.measures, source.text),
        citations=extract_citations(parsed, parsed.background),
        targets=extract_targets(parsed),
    )


def build_graph(paths: Iterable[Path | str], on_skip: Callable[[InputError], None] | None = None,
                max_bytes: int = DEFAULT_MAX_BYTES) -> BuildResult:
    """Build the graph of every document under `paths` (files or folders).

    Files are taken in sorted-name order. A file that cannot be used is skipped with an
    InputError (reported through `on_skip`); the other documents still build. Skipped too: a
    file larger than `max_bytes`, a repeat of an earlier document (DuplicateError: the first by
    name is kept) and a file whose name gives an earlier document's IRI.
    """
    from ipgraph.dedupe import DuplicateFinder
    from ipgraph.errors import DuplicateError
    from ipgraph.graph import document_iri

    records: list[DocumentRecord] = []
    skipped: list[InputError] = []
    builder = GraphBuilder()
    finder = DuplicateFinder()
    names: dict[str, Path] = {}
    for path in sorted(collect_paths(list(paths)), key=lambda p: (p.name, str(p))):
        try:
            source = read_document(path, max_bytes=max_bytes)
            duplicate = finder.match(source.text)
            if duplicate:
                raise DuplicateError(path, duplicate.describe())
            iri = str(document_iri(source.name))
            if iri in names:
                raise InputError(path, f"same document name as {names[iri]} (a document's IRI is its file name "
                                       f"without the suffix); rename one")
            record = _extract_verbatim(path, source)
        except InputError as exc:
            skipped.append(exc)
            if on_skip:
                on_skip(exc)
            continue
        finder.add(source.name, source.text)
        names[iri] = path
        builder.add_document(record)
        records.append(record)
    return BuildResult(graph=builder.finish(), records=records, skipped=skipped)


def _extract_verbatim(path: Path, source: SourceDocument) -> DocumentRecord:
    """extract_document, matching traditional characters in their simplified form.

    The extractors see the matching form (same length, so offsets hold); the record keeps the
    verbatim source and its evidence spans quote it. An unexpected exception is a bug in
    ipgraph: it skips this file with a message instead of stopping the other documents.
    """
    import dataclasses

    try:
        matched = matching_form(source.text)
        if matched == source.text:
            return extract_document(source)
        record = extract_document(dataclasses.replace(source, text=matched))
        record.parsed.source = source
        return restore_verbatim(record, source.text, matched)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - see the docstring
        raise InputError(path, f"internal error while extracting ({type(exc).__name__}: {exc}); "
                               f"this is an ipgraph bug, please report it with the file") from exc


def sorted_ntriples(graph: Graph) -> str:
    """N-Triples, one line per triple, sorted: byte-identical for the same graph."""
    data = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    lines = sorted(line for line in data.splitlines() if line.strip())
    return "\n".join(lines) + "\n"


def serialize_turtle(graph: Graph) -> bytes:
    """Deterministic Turtle: rdflib's longturtle sorts subjects and predicates; no blank nodes are made."""
    return graph.serialize(format="longturtle", encoding="utf-8")


def write_outputs(result: BuildResult, out_dir: Path | str) -> dict[str, Path]:
    """Write the build folder out_dir as a whole, atomically: the previous one or the new one, never a mix.

    Everything is written into a staging folder beside out_dir, which is then swapped in (Linux:
    one atomic renameat2 RENAME_EXCHANGE; elsewhere two renames, and a build interrupted between
    them is repaired by the next one). A process killed at any point leaves out_dir as it was or
    complete; the next build removes the leftovers of killed ones.

    A folder that also holds files of its own (anything but what a build writes) is never
    replaced: the build's files and its store are then moved in one by one, each atomically,
    and the other files stay untouched (`-o .` must never delete the current folder).

    Returns:
        name → path of each file written (inside out_dir).
    """
    target = Path(out_dir)
    final = target.resolve()  # a symlinked build folder: the folder it points to is swapped, the link kept
    if final.exists() and not final.is_dir():
        raise OutputError(f"{target}: exists and is not a folder")
    if final.parent == final:
        raise OutputError(f"{target}: cannot replace the root folder")
    final.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(final)
    staging = final.with_name(f".{final.name}.staging-{os.getpid()}-{os.urandom(4).hex()}")
    staging.mkdir()
    try:
        written = _write_files(result, staging)
        _kill_point("staged")
        ours = {entry.name for entry in staging.iterdir()}
        if final.exists() and any(entry.name not in ours for entry in final.iterdir()):
            _move_into(staging, final)  # a folder with files of its own: replace only the build's entries
        else:
            _swap_in(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {key: target / path.relative_to(staging) if path.is_relative_to(staging) else path
            for key, path in written.items()}


def _kill_point(name: str) -> None:
    """Test hook: IPGRAPH_TEST_KILL_AT=<name> kills the build here with SIGKILL (tests/test_build_safety.py)."""
    if os.environ.get("IPGRAPH_TEST_KILL_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _move_into(staging: Path, final: Path) -> None:
    """Move each entry of staging into final, replacing only entries of the same name.

    Each file is replaced atomically (rename over it), a folder such as store/ by two renames;
    summary.json goes last, so its presence says the other files are complete.
    """
    entries = sorted(staging.iterdir(), key=lambda e: (e.name == SUMMARY_NAME, e.name))
    for entry in entries:
        destination = final / entry.name
        if entry.is_dir() and destination.is_dir():
            old = staging.with_name(staging.name.replace(".staging-", ".old-") + "-" + entry.name)
            os.rename(destination, old)
            os.rename(entry, destination)
            shutil.rmtree(old)
        else:
            os.replace(entry, destination)
    staging.rmdir()
    _fsync_dir(final)


def _swap_in(staging: Path, final: Path) -> None:
    """Put staging in final's place; the previous final is removed afterwards."""
    if not final.exists():
        os.rename(staging, final)
    elif _exchange(staging, final):
        _kill_point("swapped")
        shutil.rmtree(staging)  # now the previous build
    else:
        old = staging.with_name(staging.name.replace(".staging-", ".old-"))
        os.rename(final, old)
        _kill_point("between-renames")
        os.rename(staging, final)
        _kill_point("swapped")
        shutil.rmtree(old)
    _fsync_dir(final.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import sys

    if sys.platform != "linux" or os.environ.get("IPGRAPH_NO_RENAME_EXCHANGE"):
        return False
    import ctypes
    import errno

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):  # old kernel or file system
        return False
    raise OSError(err, os.strerror(err), str(b))


def _clean_leftovers(final: Path) -> None:
    """Remove the staging folders of killed builds; restore final if one died between two renames."""
    pattern = re.compile(rf"^\.{re.escape(final.name)}\.(staging|old)-(\d+)-[0-9a-f]+$")
    for sibling in sorted(final.parent.iterdir()):
        m = pattern.match(sibling.name)
        if not m or _alive(int(m.group(2))):
            continue
        if m.group(1) == "old" and not final.exists():
            os.rename(sibling, final)  # the previous build, moved aside by a build that then died
        else:
            shutil.rmtree(sibling, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_files(result: BuildResult, out_dir: Path | str) -> dict[str, Path]:
    """Write the Turtle, sorted N-Triples, a summary and the quality report into out_dir (write_outputs passes its staging folder)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    turtle = out / TURTLE_NAME
    atomic_write_bytes(turtle, serialize_turtle(result.graph))
    written["turtle"] = turtle
    nt = out / NTRIPLES_NAME
    atomic_write_text(nt, sorted_ntriples(result.graph))
    written["ntriples"] = nt
    from ipgraph.store import write_store  # the embedded SPARQL store that `ipgraph query` and `serve` open

    written["store"] = write_store(nt, out)
    summary = out / SUMMARY_NAME
    atomic_write_text(summary, json.dumps({
        "summary": result.summary(),
        "documents": [r.parsed.source.name for r in result.records],
        "skipped": [str(e) for e in result.skipped],
    }, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    written["summary"] = summary
    from ipgraph.report import REPORT_NAME, build_report, page_lines, report_json  # where the build is thin

    reports = build_report(result.records)
    atomic_write_text(out / REPORT_NAME, report_json(reports))
    written["report"] = out / REPORT_NAME
    from ipgraph.view import render_page  # imported here: pyvis is needed for the page only

    page = out / GRAPH_PAGE_NAME
    render_page(result.graph, page, quality=page_lines(reports))  # written atomically, like the files above
    written["page"] = page
    return written
