"""Directive chains: how a national directive flows into provincial, municipal and district plans.

From ipg:cites and the levels of directives and documents. A directive that is itself a
document of the corpus (same title or 文号) continues the chain: a district plan citing a
municipal plan that cites a national directive is reached by that directive at depth 2.
"""
from __future__ import annotations

import re
import unicodedata

import networkx as nx
import pandas as pd

from ipgraph.analysis.source import LEVEL_RANK, Source, as_engine, documents, level_name, select, text

CITATIONS = """
SELECT ?document ?directive ?label ?number ?level WHERE {
  ?document a ipg:PolicyDocument ; ipg:cites ?directive .
  ?directive rdfs:label ?label .
  OPTIONAL { ?directive ipg:docNumber ?number }
  OPTIONAL { ?directive ipg:level ?level }
}
"""
DOC_KEYS = """
SELECT ?document ?key WHERE {
  ?document a ipg:PolicyDocument .
  { ?document dcterms:title ?key } UNION { ?document ipg:docNumber ?key } UNION { ?document ipg:noticeTitle ?key }
}
"""


def title_key(text: str) -> str:
    """A title or 文号 compared loosely: NFKC, no spaces, quotes or brackets, dashes unified."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\s《》〈〉<>“”\"'‘’]", "", text)
    return re.sub(r"[-—–－~〜]", "-", text)


def citation_graph(source: Source) -> nx.DiGraph:
    """Directives and documents as nodes; an edge from each cited directive to the citing
    document (the direction policy flows). A directive that is a corpus document is merged into it."""
    engine = as_engine(source)
    docs = documents(engine)
    same: dict[str, str] = {}
    for row in select(engine, DOC_KEYS):
        same[title_key(str(row["key"]))] = row["document"]
    graph = nx.DiGraph()
    for iri, doc in sorted(docs.items()):
        graph.add_node(iri, kind="document", label=doc["title"], level=doc["level"], place=doc["place"],
                       year=doc["year"], number=None)
    for row in sorted(select(engine, CITATIONS), key=lambda r: (r["directive"], r["document"])):
        node = same.get(title_key(row["label"])) or (row["number"] and same.get(title_key(row["number"])))
        node = node or row["directive"]
        if node not in graph:
            graph.add_node(node, kind="directive", label=row["label"], level=level_name(row["level"]),
                           place=None, year=None, number=row["number"])
        if node != row["document"]:
            graph.add_edge(node, row["document"])
    return graph


def directive_chains(source: Source, level: str = "national") -> pd.DataFrame:
    """For each directive of `level` (None: every level): each document it reaches through
    citations, with that document's place and level and the depth (1 = cites it directly).
    Sorted by directive, depth, then document level from the top down."""
    graph = citation_graph(source)
    rows = []
    for node, data in graph.nodes(data=True):
        if level is not None and data["level"] != level:
            continue
        for target, depth in sorted(nx.single_source_shortest_path_length(graph, node).items()):
            if depth == 0:
                continue
            t = graph.nodes[target]
            rows.append({"directive": data["label"], "number": data["number"], "directiveLevel": data["level"],
                         "document": t["label"], "place": t["place"], "level": t["level"], "year": t["year"],
                         "depth": depth})
    frame = pd.DataFrame(rows, columns=["directive", "number", "directiveLevel", "document", "place", "level",
                                        "year", "depth"])
    frame["year"] = pd.array([int(y) if pd.notna(y) else None for y in frame["year"]], dtype="Int64")
    frame["rank"] = [LEVEL_RANK.get(text(v) or "", 9) for v in frame["level"]]
    frame = frame.sort_values(["directive", "depth", "rank", "document"]).drop(columns="rank")
    return frame.reset_index(drop=True)


def directive_reach(source: Source | pd.DataFrame, level: str = "national") -> pd.DataFrame:
    """Per directive: how many documents and places it reaches, the places, the lowest level
    reached (how deep down the hierarchy it travels) and the longest citation chain."""
    chains = source if isinstance(source, pd.DataFrame) else directive_chains(source, level)
    rows = []
    for (directive, number), group in chains.groupby(["directive", chains["number"].fillna("")], sort=True):
        levels = [v for v in map(text, group["level"]) if v]
        deepest = max(levels, key=lambda v: LEVEL_RANK.get(v, -1)) if levels else None
        places = sorted({p for p in map(text, group["place"]) if p})
        rows.append({"directive": directive, "number": text(number), "documents": group["document"].nunique(),
                     "places": len(places), "placeNames": "、".join(places), "deepestLevel": deepest,
                     "maxDepth": int(group["depth"].max())})
    frame = pd.DataFrame(rows, columns=["directive", "number", "documents", "places", "placeNames", "deepestLevel",
                                        "maxDepth"])
    frame = frame.sort_values(["places", "documents", "directive"], ascending=[False, False, True])
    return frame.reset_index(drop=True)
