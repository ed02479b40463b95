"""Loading a built graph (the store stage). Extended by the embedded store (issue: SPARQL for users)."""
from __future__ import annotations

from pathlib import Path

from rdflib import Graph

from ipgraph.errors import GraphNotFoundError
from ipgraph.graph import bind_prefixes


def load_graph(graph_dir: Path | str) -> Graph:
    """The graph written by `ipgraph build` into graph_dir, as an rdflib Graph."""
    graph_dir = Path(graph_dir)
    for name, fmt in (("ipgraph.nt", "nt"), ("ipgraph.ttl", "turtle")):
        path = graph_dir / name
        if path.is_file():
            graph = Graph()
            bind_prefixes(graph)
            graph.parse(path, format=fmt)
            return graph
    raise GraphNotFoundError(f"{graph_dir}: no built graph here (run `ipgraph build -o {graph_dir}` first)")
