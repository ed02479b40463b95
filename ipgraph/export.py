"""Export a graph in the formats other tools read.

RDF: Turtle, sorted N-Triples, JSON-LD (with a compact context: only the prefixes the graph
uses). Networks for Gephi, networkx and spreadsheets: GraphML, GEXF and CSV (a node table and
an edge table). The network is the graph's entities (documents, sections, measures, agencies,
programmes, directives, targets, places, levels) with their label and class, and one edge per
statement linking two of them, named by its property; evidence records and literals stay in
the RDF exports. Nodes and edges are written in sorted order, so every export is byte-identical
from run to run.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS

from ipgraph.errors import IpgraphError
from ipgraph.pipeline import serialize_turtle, sorted_ntriples
from ipgraph.vocab import IPG

RDF_FORMATS = ("turtle", "nt", "jsonld")
NETWORK_FORMATS = ("graphml", "gexf", "csv")
FORMATS = RDF_FORMATS + NETWORK_FORMATS
# The classes whose members are nodes of the exported network (ipg:Evidence, ipg:Assignment are not).
NODE_CLASSES = ("PolicyDocument", "Section", "Measure", "Agency", "Programme", "Directive", "Target",
                "Jurisdiction", "AdministrativeLevel")


def export_graph(graph: Graph, fmt: str) -> bytes:
    """The graph as bytes: "turtle" (sorted), "nt" (sorted N-Triples), "jsonld" (compact context),
    "graphml" or "gexf" (the entity network). CSV is two files: see write_csv."""
    if fmt == "turtle":
        return serialize_turtle(graph)
    if fmt == "nt":
        return sorted_ntriples(graph).encode("utf-8")
    if fmt == "jsonld":
        context = used_prefixes(graph)
        return graph.serialize(format="json-ld", context=context, sort_keys=True, indent=1, encoding="utf-8")
    if fmt in ("graphml", "gexf"):
        network = entity_network(graph)
        out = io.BytesIO()
        if fmt == "graphml":
            nx.write_graphml(network, out, encoding="utf-8", named_key_ids=True)
        else:
            nx.write_gexf(network, out, encoding="utf-8")
        return out.getvalue()
    if fmt == "csv":
        raise IpgraphError("CSV export is two files (nodes.csv, edges.csv): give -o FOLDER")
    raise IpgraphError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")


def used_prefixes(graph: Graph) -> dict[str, str]:
    """The graph's bound prefixes that some IRI of the graph starts with (longest namespace wins)."""
    bound = sorted(((p, str(ns)) for p, ns in graph.namespaces() if p), key=lambda kv: -len(kv[1]))
    used: dict[str, str] = {}
    for triple in graph:
        for term in triple:
            if not isinstance(term, URIRef):
                continue
            for prefix, ns in bound:
                if term.startswith(ns):
                    used[prefix] = ns
                    break
        for term in (triple[2],):
            datatype = getattr(term, "datatype", None)
            for prefix, ns in bound:
                if datatype is not None and str(datatype).startswith(ns):
                    used[prefix] = ns
                    break
    return dict(sorted(used.items()))


def _short(graph: Graph, iri: URIRef) -> str:
    try:
        return graph.namespace_manager.normalizeUri(iri)
    except (ValueError, KeyError):  # pragma: no cover - an IRI no prefix fits
        return str(iri)


def entity_network(graph: Graph) -> nx.MultiDiGraph:
    """The entities as a networkx MultiDiGraph: node = IRI with label, class (local name), level
    (national … district, or "") and document (the file name of the document it belongs to, or "");
    edge key = the property (ipg:leadAgency …), one per statement between two entities."""
    classes: dict[URIRef, str] = {}
    for name in NODE_CLASSES:
        for node in graph.subjects(RDF.type, IPG[name]):
            if isinstance(node, URIRef):
                classes.setdefault(node, name)
    # The document each node belongs to (its file name), so that tools can filter by document.
    home: dict[URIRef, str] = {}
    for doc in graph.subjects(RDF.type, IPG.PolicyDocument):
        file_name = graph.value(doc, IPG.sourceFile)
        if not isinstance(doc, URIRef) or file_name is None:
            continue
        home[doc] = str(file_name)
        for part in graph.subjects(IPG.partOf, doc):
            if isinstance(part, URIRef):
                home.setdefault(part, str(file_name))
        for aim in graph.objects(doc, IPG.hasTarget):
            if isinstance(aim, URIRef):
                home.setdefault(aim, str(file_name))
    for measure, aim in graph.subject_objects(IPG.hasTarget):
        if isinstance(aim, URIRef) and isinstance(measure, URIRef) and measure in home:
            home.setdefault(aim, home[measure])
    network = nx.MultiDiGraph()
    for node in sorted(classes):
        label = graph.value(node, RDFS.label)
        level = graph.value(node, IPG.level)
        network.add_node(str(node), label=str(label) if label is not None else str(node),
                         level=str(level).rsplit("#", 1)[-1].lower() if level is not None else "",
                         document=home.get(node, ""), **{"class": classes[node]})
    found: set[tuple[str, str, str]] = set()
    for subject, predicate, obj in graph:
        if predicate != RDF.type and subject in classes and obj in classes and isinstance(predicate, URIRef):
            found.add((str(subject), str(obj), _short(graph, predicate)))
    for source, target, prop in sorted(found):
        network.add_edge(source, target, key=prop, property=prop)
    return network


@dataclass(frozen=True)
class CsvExport:
    nodes: Path
    edges: Path
    node_count: int
    edge_count: int


def write_csv(graph: Graph, folder: Path | str) -> CsvExport:
    """nodes.csv (id, label, class, level, document) and edges.csv (source, target, property, sourceLabel,
    targetLabel) in `folder`, UTF-8 with a BOM so that spreadsheet programs read the Chinese."""
    from ipgraph.atomic import atomic_write_bytes

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    network = entity_network(graph)
    nodes, edges = io.StringIO(), io.StringIO()
    writer = csv.writer(nodes, lineterminator="\n")
    writer.writerow(["id", "label", "class", "level", "document"])
    for node, data in network.nodes(data=True):
        writer.writerow([node, data["label"], data["class"], data["level"], data["document"]])
    writer = csv.writer(edges, lineterminator="\n")
    writer.writerow(["source", "target", "property", "sourceLabel", "targetLabel"])
    for s, o, prop in network.edges(keys=True):
        writer.writerow([s, o, prop, network.nodes[s]["label"], network.nodes[o]["label"]])
    atomic_write_bytes(folder / "nodes.csv", nodes.getvalue().encode("utf-8-sig"))
    atomic_write_bytes(folder / "edges.csv", edges.getvalue().encode("utf-8-sig"))
    return CsvExport(folder / "nodes.csv", folder / "edges.csv", network.number_of_nodes(),
                     network.number_of_edges())
