"""Analyses for policy researchers, over a built graph (issue 12).

Each analysis is a plain function of a graph source — a build folder (its embedded store), an
Engine of ipgraph.query, or an rdflib Graph — that returns a pandas DataFrame (or a networkx
graph), so the same results feed the terminal (`ipgraph analyze`), CSV/JSON, the plots and a
notebook. They read the graph only through the contract vocabulary (docs/ONTOLOGY_CONTRACT.md),
never the extraction code, so they keep working when extraction changes.

    from ipgraph.analysis import workload, coresponsibility, directive_chains
    workload("build")                      # measures led / shared per agency and document
"""
from __future__ import annotations

from ipgraph.analysis.chains import directive_chains, directive_reach
from ipgraph.analysis.diffusion import programme_diffusion, programme_matrix
from ipgraph.analysis.network import bridges, coresponsibility, coresponsibility_graph
from ipgraph.analysis.source import as_engine, select
from ipgraph.analysis.targets import target_outliers, target_summary, targets
from ipgraph.analysis.workload import workload, workload_by_agency, workload_by_level

ANALYSES = ("workload", "network", "chains", "diffusion", "targets")

__all__ = [
    "ANALYSES",
    "as_engine",
    "bridges",
    "coresponsibility",
    "coresponsibility_graph",
    "directive_chains",
    "directive_reach",
    "programme_diffusion",
    "programme_matrix",
    "select",
    "target_outliers",
    "target_summary",
    "targets",
    "workload",
    "workload_by_agency",
    "workload_by_level",
]
