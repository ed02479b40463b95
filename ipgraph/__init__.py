"""ipgraph: Chinese IP-policy documents → an RDF knowledge graph you can query and browse.

Library entry points (each stage is also importable on its own):

    from ipgraph import build_graph, query, export
    result = build_graph(["data/corpus"])          # read → structure → extract → resolve → graph
    rows = query(result.graph, "SELECT …")
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
