"""Export a graph in the formats other tools read."""
from __future__ import annotations

from rdflib import Graph

from ipgraph.errors import IpgraphError
from ipgraph.pipeline import serialize_turtle, sorted_ntriples

FORMATS = ("turtle", "nt", "jsonld")


def export_graph(graph: Graph, fmt: str) -> bytes:
    """The graph as bytes: "turtle" (longturtle, sorted), "nt" (sorted N-Triples) or "jsonld"."""
    if fmt == "turtle":
        return serialize_turtle(graph)
    if fmt == "nt":
        return sorted_ntriples(graph).encode("utf-8")
    if fmt == "jsonld":
        context = {prefix: str(ns) for prefix, ns in graph.namespaces() if prefix}
        return graph.serialize(format="json-ld", context=context, sort_keys=True, indent=1, encoding="utf-8")
    raise IpgraphError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
