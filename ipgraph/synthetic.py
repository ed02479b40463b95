"""Scaled synthetic graphs for benchmarks: the corpus graph copied N times.

Each copy renames the documents (and so their sections, measures, targets and evidence),
and a share of the agencies, programmes and directives, so that a scaled graph has the
shape of a larger corpus: more documents, more bodies, shared national directives.
Deterministic: the same base graph and copy count give the same graph.
"""
from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from ipgraph.graph import bind_prefixes
from ipgraph.vocab import DATA, IPG

_DOC = str(DATA) + "document/"
_EVIDENCE = str(DATA) + "evidence/"
_SHARED = {"agency/": 3, "programme/": 4, "directive/": 5}  # every k-th copy gets its own node


def _rename(term, copy: int):
    if not isinstance(term, URIRef) or copy == 0:
        return term
    text = str(term)
    if text.startswith(_DOC) or text.startswith(_EVIDENCE):
        head, _, tail = text[len(str(DATA)):].partition("/")
        rest = tail.split("/", 1)
        return URIRef(f"{DATA}{head}/{rest[0]}~{copy}" + (f"/{rest[1]}" if len(rest) > 1 else ""))
    for prefix, every in _SHARED.items():
        if text.startswith(str(DATA) + prefix) and copy % every == 0:
            return URIRef(f"{text}~{copy // every}")
    return term


def scaled_graph(base: Graph, copies: int) -> Graph:
    """`copies` renamed copies of `base` in one graph (copy 0 is the base itself)."""
    out = Graph()
    bind_prefixes(out)
    for copy in range(copies):
        for s, p, o in base:
            s2, o2 = _rename(s, copy), _rename(o, copy)
            if copy and p in (RDFS.label, SKOS.prefLabel, IPG.sourceFile) and isinstance(o, Literal) and s2 != s:
                o2 = Literal(f"{o}~{copy}", lang=o.language, datatype=o.datatype)
            out.add((s2, p, o2))
    return out


def scaled_to(base: Graph, triples: int) -> Graph:
    """A scaled graph of about `triples` triples (at least the base)."""
    copies = max(1, round(triples / max(1, len(base))))
    return scaled_graph(base, copies)


def node_count(graph: Graph) -> int:
    return len(set(graph.subjects(RDF.type, None)))
