"""The whole build: read → structure → extract → resolve → graph → outputs.

    from ipgraph.pipeline import build_graph, write_outputs
    result = build_graph(["data/corpus"])
    write_outputs(result, "build")
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from ipgraph.atomic import atomic_write_bytes, atomic_write_text
from ipgraph.errors import InputError
from ipgraph.extract.agencies import extract_assignments
from ipgraph.extract.citations import extract_citations
from ipgraph.extract.programmes import extract_programmes
from ipgraph.extract.targets import extract_targets
from ipgraph.graph import GraphBuilder
from ipgraph.model import AgencyRef, DocumentRecord, ParsedDocument, SourceDocument
from ipgraph.read import collect_paths, read_document
from ipgraph.resolve import AgencyResolver
from ipgraph.structure import parse_document

TURTLE_NAME = "ipgraph.ttl"
NTRIPLES_NAME = "ipgraph.nt"
SUMMARY_NAME = "summary.json"


@dataclass
class BuildResult:
    graph: Graph
    records: list[DocumentRecord]
    skipped: list[InputError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        from ipgraph.vocab import IPG
        from rdflib.namespace import RDF

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
        assignments=extract_assignments(parsed.measures, resolver),
        programmes=extract_programmes(parsed.measures, source.text),
        citations=extract_citations(parsed, parsed.background),
        targets=extract_targets(parsed),
    )


def build_graph(paths: Iterable[Path | str], on_skip: Callable[[InputError], None] | None = None) -> BuildResult:
    """Build the graph of every document under `paths` (files or folders).

    A file that cannot be used is skipped with an InputError (reported through `on_skip`);
    the other documents still build.
    """
    records: list[DocumentRecord] = []
    skipped: list[InputError] = []
    builder = GraphBuilder()
    for path in collect_paths(list(paths)):
        try:
            source = read_document(path)
            record = extract_document(source)
        except InputError as exc:
            skipped.append(exc)
            if on_skip:
                on_skip(exc)
            continue
        builder.add_document(record)
        records.append(record)
    return BuildResult(graph=builder.finish(), records=records, skipped=skipped)


def sorted_ntriples(graph: Graph) -> str:
    """N-Triples, one line per triple, sorted: byte-identical for the same graph."""
    data = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    lines = sorted(line for line in data.splitlines() if line.strip())
    return "\n".join(lines) + "\n"


def serialize_turtle(graph: Graph) -> bytes:
    """Deterministic Turtle: rdflib's longturtle sorts subjects and predicates; no blank nodes are made."""
    return graph.serialize(format="longturtle", encoding="utf-8")


def write_outputs(result: BuildResult, out_dir: Path | str) -> dict[str, Path]:
    """Write the Turtle, sorted N-Triples and a summary into out_dir, each file atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    turtle = out / TURTLE_NAME
    atomic_write_bytes(turtle, serialize_turtle(result.graph))
    written["turtle"] = turtle
    nt = out / NTRIPLES_NAME
    atomic_write_text(nt, sorted_ntriples(result.graph))
    written["ntriples"] = nt
    summary = out / SUMMARY_NAME
    atomic_write_text(summary, json.dumps({
        "summary": result.summary(),
        "documents": [r.parsed.source.name for r in result.records],
        "skipped": [str(e) for e in result.skipped],
    }, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    written["summary"] = summary
    return written
