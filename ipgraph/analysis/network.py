"""The co-responsibility network: agencies linked by the measures they share, weighted.

Degree, weighted degree, betweenness, Louvain communities (networkx, fixed seed: the same
graph gives the same communities every run) and the bodies that bridge communities.
"""
from __future__ import annotations

from itertools import combinations

import networkx as nx
import pandas as pd

from ipgraph.analysis.source import Source
from ipgraph.analysis.workload import assignments

SEED = 12  # Louvain is randomised; a fixed seed keeps the output deterministic


def coresponsibility_graph(source: Source) -> nx.Graph:
    """Agencies as nodes (label, level, measures assigned); an edge for every pair assigned to a
    common measure, its weight the number of such measures."""
    frame = assignments(source)
    graph = nx.Graph()
    for label, level, count in sorted(
        (label, level or "", len(group))
        for (label, level), group in frame.fillna({"agencyLevel": ""}).groupby(["agencyLabel", "agencyLevel"])
    ):
        graph.add_node(label, level=level, measures=count)
    for _, group in frame.groupby("measure", sort=True):
        for a, b in combinations(sorted(set(group["agencyLabel"])), 2):
            weight = graph.edges[a, b]["weight"] + 1 if graph.has_edge(a, b) else 1
            graph.add_edge(a, b, weight=weight)
    return graph


def communities(graph: nx.Graph) -> dict[str, int]:
    """Louvain communities of the weighted network: node → community number (0 = the largest)."""
    if graph.number_of_edges() == 0:
        return {node: i for i, node in enumerate(sorted(graph))}
    found = nx.community.louvain_communities(graph, weight="weight", seed=SEED)
    ordered = sorted((sorted(c) for c in found), key=lambda c: (-len(c), c[0]))
    return {node: i for i, members in enumerate(ordered) for node in members}


def coresponsibility(source: Source | nx.Graph) -> pd.DataFrame:
    """Per agency: partners (degree), shared measures summed over partners (strength),
    betweenness (shortest paths, distance = 1/weight: close partners are near), its community
    and how many other communities its partners belong to (bridges)."""
    graph = source if isinstance(source, nx.Graph) else coresponsibility_graph(source)
    community = communities(graph)
    between = nx.betweenness_centrality(graph, weight=lambda _a, _b, data: 1.0 / data["weight"], normalized=True)
    rows = []
    for node in sorted(graph):
        others = {community[n] for n in graph[node]} - {community[node]}
        rows.append(
            {
                "agency": node,
                "level": graph.nodes[node].get("level") or None,
                "measures": graph.nodes[node].get("measures", 0),
                "partners": graph.degree(node),
                "strength": int(graph.degree(node, weight="weight")),
                "betweenness": round(between[node], 6),
                "community": community[node],
                "bridges": len(others),
            }
        )
    frame = pd.DataFrame(rows, columns=["agency", "level", "measures", "partners", "strength", "betweenness",
                                        "community", "bridges"])
    frame = frame.sort_values(["betweenness", "strength", "agency"], ascending=[False, False, True])
    return frame.reset_index(drop=True)


def bridges(source: Source | pd.DataFrame) -> pd.DataFrame:
    """The bodies that link communities: partners in at least one other community, by betweenness."""
    frame = source if isinstance(source, pd.DataFrame) else coresponsibility(source)
    return frame[frame["bridges"] > 0].reset_index(drop=True)


def edges(graph: nx.Graph) -> pd.DataFrame:
    """The network's edges as a table (agency, partner, shared measures), heaviest first."""
    rows = [{"agency": a, "partner": b, "shared": d["weight"]} for a, b, d in graph.edges(data=True)]
    rows = [{**r, "agency": min(r["agency"], r["partner"]), "partner": max(r["agency"], r["partner"])} for r in rows]
    frame = pd.DataFrame(rows, columns=["agency", "partner", "shared"])
    return frame.sort_values(["shared", "agency", "partner"], ascending=[False, True, True]).reset_index(drop=True)
