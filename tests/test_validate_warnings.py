"""A document that prints no title is a warning, not a broken graph; warnings are shown, not hidden."""
from __future__ import annotations

from click.testing import CliRunner
from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS, RDF

from ipgraph.cli import main
from ipgraph.validate import validate
from ipgraph.vocab import IPG


def test_a_document_without_a_title_warns_and_still_conforms(corpus_build) -> None:
    graph = Graph()
    for triple in corpus_build.graph:
        graph.add(triple)
    untitled = sorted(graph.subjects(RDF.type, IPG.PolicyDocument))[0]
    graph.remove((untitled, DCTERMS.title, None))
    report = validate(graph)
    assert report.conforms
    assert [(v.severity, v.focus) for v in report.violations if "dcterms:title" in v.message] == [("Warning", untitled)]
    graph.add((untitled, DCTERMS.title, Literal("一", lang="zh")))
    graph.add((untitled, DCTERMS.title, Literal("二", lang="zh")))
    assert not validate(graph).conforms  # two titles are still an error


def test_validate_prints_the_warnings_it_does_not_fail_on(built_dir) -> None:
    result = CliRunner().invoke(main, ["validate", "--graph", str(built_dir)])
    assert result.exit_code == 0, result.output
    assert "conforms" in result.output and "warning:" not in result.output  # the corpus has none
