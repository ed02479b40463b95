"""Named queries: the .rq files, safe parameter binding, name resolution, the answers (on a small
hand-made graph with known answers and on the shipped corpus, on both engines), output formats
and the `ipgraph query` command."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.namespace import RDFS

from ipgraph.bench import canonical_rows
from ipgraph.cli import main
from ipgraph.errors import QueryError
from ipgraph.graph import agency_iri, bind_prefixes
from ipgraph.query import (
    OxigraphEngine,
    QueryResult,
    RdflibEngine,
    Term,
    bind,
    default_prefixes,
    display_width,
    format_result,
    get_query,
    list_queries,
    open_engine,
    parse_named_query,
    prepare_named,
    resolve_name,
    results_table,
    run_named,
    run_sparql,
)
from ipgraph.store import load_memory_store, open_store, write_store
from ipgraph.vocab import DATA, IPG

# ---------------------------------------------------------------------------------------------
# A small graph whose answers are known by hand

FIXTURE = """
@prefix ipg: <https://w3id.org/ipgraph/ontology#> .
@prefix id: <https://w3id.org/ipgraph/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

ipg:National rdfs:label "国家级"@zh .
ipg:Municipal rdfs:label "市级"@zh .
ipg:District rdfs:label "区县级"@zh .

id:document\\/d1 a ipg:PolicyDocument ; rdfs:label "甲市知识产权规划"@zh ; ipg:sourceFile "d1.txt" ;
    ipg:docNumber "甲政发〔2024〕1号" ; ipg:level ipg:Municipal ; ipg:measureCount 2 ;
    ipg:cites id:directive\\/n1 , id:directive\\/n2 , id:directive\\/m1 ; ipg:hasTarget id:document\\/d1\\/target\\/1 .
id:document\\/d2 a ipg:PolicyDocument ; rdfs:label "乙区实施方案"@zh ; ipg:sourceFile "d2.txt" ;
    ipg:level ipg:District ; ipg:measureCount 2 ; ipg:cites id:directive\\/n1 ; ipg:drafts id:directive\\/n2 .

id:document\\/d1\\/measure\\/1 a ipg:Measure ; rdfs:label "1. 培育高价值专利"@zh ; ipg:number "1" ; ipg:order 1 ;
    ipg:partOf id:document\\/d1 ; ipg:leadAgency id:agency\\/A ;
    ipg:responsibleAgency id:agency\\/A , id:agency\\/B , id:agency\\/C ; ipg:mentions id:programme\\/P .
id:document\\/d1\\/measure\\/2 a ipg:Measure ; rdfs:label "2. 促进专利转化"@zh ; ipg:number "2" ; ipg:order 2 ;
    ipg:partOf id:document\\/d1 ; ipg:leadAgency id:agency\\/B ; ipg:responsibleAgency id:agency\\/B , id:agency\\/A ;
    ipg:hasTarget id:document\\/d1\\/target\\/2 .
id:document\\/d2\\/measure\\/10 a ipg:Measure ; rdfs:label "10. 建立专利导航机制"@zh ; ipg:number "10" ; ipg:order 1 ;
    ipg:partOf id:document\\/d2 ; ipg:leadAgency id:agency\\/D ; ipg:responsibleAgency id:agency\\/D , id:agency\\/A ;
    ipg:mentions id:programme\\/P ; ipg:hasTarget id:document\\/d2\\/target\\/3 , id:document\\/d2\\/target\\/4 .
id:document\\/d2\\/measure\\/9 a ipg:Measure ; rdfs:label "9. 其他"@zh ; ipg:number "9" ; ipg:order 2 ;
    ipg:partOf id:document\\/d2 ; ipg:leadAgency id:agency\\/D .

id:agency\\/A a ipg:Agency ; rdfs:label "甲市市场监督管理局"@zh ; skos:altLabel "甲市市场监管局"@zh .
id:agency\\/B a ipg:Agency ; rdfs:label "甲市知识产权局"@zh .
id:agency\\/C a ipg:Agency ; rdfs:label "乙区市场监督管理局"@zh ; skos:altLabel "乙区市场监管局"@zh .
id:agency\\/D a ipg:Agency ; rdfs:label "乙区科学技术局"@zh .

id:programme\\/P a ipg:Programme ; rdfs:label "专利导航"@zh ; skos:altLabel "专利导航项目"@zh .
id:programme\\/Q a ipg:Programme ; rdfs:label "知识产权质押融资"@zh .

id:directive\\/n1 a ipg:Directive ; rdfs:label "专利转化运用专项行动方案"@zh ; ipg:docNumber "国办发〔2023〕37号" ;
    ipg:level ipg:National .
id:directive\\/n2 a ipg:Directive ; rdfs:label "知识产权强国建设纲要"@zh ; ipg:level ipg:National .
id:directive\\/m1 a ipg:Directive ; rdfs:label "甲市专利条例"@zh ; ipg:level ipg:Municipal .

id:document\\/d1\\/target\\/1 a ipg:Target ; ipg:indicator "每万人口高价值发明专利拥有量"@zh ; ipg:value 55.0 ;
    ipg:unit "件"@zh ; ipg:year 2025 ; ipg:comparator ">=" .
id:document\\/d1\\/target\\/2 a ipg:Target ; ipg:indicator "专利转让"@zh ; ipg:value 6300.0 ; ipg:unit "件"@zh ;
    ipg:year "2025"^^xsd:gYear ; ipg:comparator ">" .
id:document\\/d2\\/target\\/3 a ipg:Target ; ipg:indicator "专利质押融资额"@zh ; ipg:value 10.0 ; ipg:unit "亿元"@zh ;
    ipg:year 2030 ; ipg:comparator ">=" .
id:document\\/d2\\/target\\/4 a ipg:Target ; ipg:indicator "示范企业"@zh ; ipg:value 5.0 ; ipg:unit "家"@zh .
"""


@pytest.fixture(scope="module")
def fixture_graph() -> Graph:
    graph = Graph()
    bind_prefixes(graph)
    return graph.parse(data=FIXTURE, format="turtle")


@pytest.fixture(scope="module", params=["oxigraph", "memory", "rdflib"])
def engine(request, fixture_graph, tmp_path_factory):
    if request.param == "rdflib":
        return RdflibEngine(fixture_graph)
    folder = tmp_path_factory.mktemp("fixture-store")
    if request.param == "memory":
        (folder / "ipgraph.nt").write_bytes(fixture_graph.serialize(format="nt", encoding="utf-8"))
        return OxigraphEngine(load_memory_store(folder), name="memory")
    write_store(fixture_graph, folder)
    return OxigraphEngine(open_store(folder))


def values(result: QueryResult, *columns: str) -> list[tuple]:
    """The rows as tuples of plain values of the given columns, in result order; numbers as numbers."""
    out = []
    for record in result.records():
        row = []
        for c in columns:
            v = record[c]
            row.append(
                float(v) if v is not None and re.fullmatch(r"-?\d+(\.\d+)?", str(v)) and c in NUMERIC else v
            )
        out.append(tuple(row))
    return out


NUMERIC = {"value", "sharedMeasures", "documents", "leads", "responsible", "measures", "citedBy", "year"}


def test_leads_of_every_agency(engine) -> None:
    result = run_named(engine, "leads")
    assert values(result, "agencyName", "document", "measures", "measureNumbers") == [
        (
            "乙区科学技术局",
            "乙区实施方案",
            2.0,
            "10 9",
        ),  # measures in document order (ipg:order), not as text
        ("甲市市场监督管理局", "甲市知识产权规划", 1.0, "1"),
        ("甲市知识产权局", "甲市知识产权规划", 1.0, "2"),
    ]
    assert result.notes == []
    assert result.hidden == ["agency", "doc"]


def test_leads_of_one_agency_by_label_or_alias(engine) -> None:
    by_label = run_named(engine, "leads", {"agency": "甲市知识产权局"})
    assert values(by_label, "agencyName", "measureNumbers") == [("甲市知识产权局", "2")]
    assert by_label.notes == []
    by_alias = run_named(engine, "leads", {"agency": "甲市市场监管局"})
    assert values(by_alias, "agencyName", "measureNumbers") == [("甲市市场监督管理局", "1")]
    assert by_alias.notes == []


def test_part_of_a_name_finds_every_match_with_a_note(engine) -> None:
    result = run_named(engine, "agencies", {"agency": "市场监管局"})
    assert values(result, "agencyName") == [("甲市市场监督管理局",), ("乙区市场监督管理局",)]
    assert len(result.notes) == 1
    assert "2 agencies" in result.notes[0]
    assert "甲市市场监督管理局" in result.notes[0] and "乙区市场监督管理局" in result.notes[0]
    single = run_named(engine, "leads", {"agency": "科学技术"})
    assert {r[0] for r in values(single, "agencyName")} == {"乙区科学技术局"}
    assert "part of its name" in single.notes[0]


def test_unknown_agency_is_an_error_with_a_hint(engine) -> None:
    with pytest.raises(QueryError, match="ipgraph query agencies"):
        run_named(engine, "leads", {"agency": "不存在的局"})


def test_coresponsible(engine) -> None:
    result = run_named(engine, "coresponsible", {"agency": "甲市市场监督管理局"})
    assert values(result, "partnerName", "sharedMeasures") == [
        ("甲市知识产权局", 2.0),
        ("乙区市场监督管理局", 1.0),
        ("乙区科学技术局", 1.0),
    ]
    assert {r[0] for r in values(result, "agencyName")} == {"甲市市场监督管理局"}


def test_national_citations(engine) -> None:
    result = run_named(engine, "national-citations")
    assert values(result, "document", "directiveName", "docNumber") == [
        ("乙区实施方案", "专利转化运用专项行动方案", "国办发〔2023〕37号"),
        ("甲市知识产权规划", "专利转化运用专项行动方案", "国办发〔2023〕37号"),
        ("甲市知识产权规划", "知识产权强国建设纲要", None),
    ]  # the municipal directive and the drafted one are left out
    one = run_named(engine, "national-citations", {"document": "d2.txt"})
    assert values(one, "document") == [("乙区实施方案",)]


def test_programme_by_name_or_alias(engine) -> None:
    for name in ("专利导航", "专利导航项目"):
        result = run_named(engine, "programme", {"name": name})
        assert values(result, "programmeName", "document", "measures", "measureNumbers", "leadAgencies") == [
            ("专利导航", "乙区实施方案", 1.0, "10", "乙区科学技术局"),
            ("专利导航", "甲市知识产权规划", 1.0, "1", "甲市市场监督管理局"),
        ]


def test_programmes_named_nowhere_count_zero(engine) -> None:
    result = run_named(engine, "programmes", {"name": "质押"})
    assert values(result, "programmeName", "measures", "documents") == [("知识产权质押融资", 0.0, 0.0)]


def test_targets_for_a_year_integer_or_gyear(engine) -> None:
    result = run_named(engine, "targets", {"year": "2025"})
    assert values(result, "indicator", "comparator", "value", "unit", "document") == [
        ("专利转让", ">", 6300.0, "件", "甲市知识产权规划"),
        ("每万人口高价值发明专利拥有量", ">=", 55.0, "件", "甲市知识产权规划"),
    ]
    assert len(run_named(engine, "targets").rows) == 4  # with and without a year, from documents and measures
    with pytest.raises(QueryError, match="year such as 2025"):
        run_named(engine, "targets", {"year": "2025 }"})


def test_shared_directives(engine) -> None:
    result = run_named(engine, "shared-directives")
    assert values(result, "directiveName", "docNumber", "citedBy", "document", "documentLevel") == [
        ("专利转化运用专项行动方案", "国办发〔2023〕37号", 2.0, "乙区实施方案", "区县级"),
        ("专利转化运用专项行动方案", "国办发〔2023〕37号", 2.0, "甲市知识产权规划", "市级"),
    ]


def test_agencies_programmes_documents(engine) -> None:
    assert values(run_named(engine, "agencies"), "agencyName", "leads", "responsible") == [
        ("乙区科学技术局", 2.0, 1.0),
        ("甲市市场监督管理局", 1.0, 3.0),
        ("甲市知识产权局", 1.0, 2.0),
        ("乙区市场监督管理局", 0.0, 1.0),
    ]
    assert values(run_named(engine, "programmes"), "programmeName", "measures", "documents") == [
        ("专利导航", 2.0, 2.0),
        ("知识产权质押融资", 0.0, 0.0),
    ]
    assert values(run_named(engine, "documents"), "sourceFile", "docNumber", "level") == [
        ("d1.txt", "甲政发〔2024〕1号", "市级"),
        ("d2.txt", None, "区县级"),
    ]


def test_a_parameter_the_query_does_not_take(engine) -> None:
    with pytest.raises(QueryError, match="takes --agency, not --year"):
        run_named(engine, "leads", {"year": "2025"})
    with pytest.raises(QueryError, match="no named query 'nope'"):
        run_named(engine, "nope")


# ---------------------------------------------------------------------------------------------
# Binding is safe: values are terms written by pyoxigraph, never pasted text

HOSTILE = 'x"@zh } . ?s ?p ?o } # \n\\ \'\'\' """ VALUES'


def test_bind_writes_escaped_terms(engine) -> None:
    text = "SELECT ?x WHERE {\n  # @bind ?x\n}"
    bound = bind(text, {"x": [Term.literal(HOSTILE, lang="zh"), Term.iri("https://example.org/a%20b")]})
    assert bound.count("VALUES ?x") == 1
    result = run_sparql(engine, bound)
    assert sorted(t.value for (t,) in result.rows) == sorted([HOSTILE, "https://example.org/a%20b"])
    assert bind(text, {}) == text  # unbound: the comment stays, nothing is restricted


def test_hostile_names_match_nothing_instead_of_changing_the_query(engine) -> None:
    with pytest.raises(QueryError, match="no agency"):
        run_named(engine, "leads", {"agency": HOSTILE})
    with pytest.raises(QueryError, match="no programme"):
        run_named(engine, "programme", {"name": '"} UNION { ?measure ?p ?o } #'})


def test_an_invalid_iri_cannot_be_bound() -> None:
    with pytest.raises(ValueError):
        bind("SELECT * {\n# @bind ?x\n}", {"x": [Term.iri("https://example.org/> } DROP ALL")]})


def test_resolve_name_prefers_exact_names(engine) -> None:
    nodes, notes = resolve_name(engine, "agency", "甲市知识产权局")
    assert [n.value for n in nodes] == [str(DATA["agency/B"])] and notes == []


# ---------------------------------------------------------------------------------------------
# The .rq files


def test_shipped_queries_cover_the_contract_questions() -> None:
    names = {q.name for q in list_queries()}
    assert {
        "leads",
        "coresponsible",
        "national-citations",
        "programme",
        "targets",
        "shared-directives",
    } <= names
    assert not any(name.startswith("_") for name in names)
    for q in list_queries():
        assert q.description and len(q.description.splitlines()) == 1
        pyoxigraph.Store().query(q.text)  # each file is valid SPARQL as shipped (parameters unbound)


def test_every_parameter_has_a_cli_option() -> None:
    help_text = CliRunner().invoke(main, ["query", "--help"]).stdout
    for q in list_queries():
        for p in q.params:
            assert f"--{p.option}" in help_text, (q.name, p.option)


def test_default_prefixes_match_the_vocabulary() -> None:
    prefixes = default_prefixes()
    assert prefixes["ipg"] == str(IPG._NS) and prefixes["id"] == str(DATA)
    graph = Graph()
    bind_prefixes(graph)
    for prefix, ns in graph.namespaces():
        if prefix in prefixes:
            assert prefixes[prefix] == str(ns), prefix
    for q in list_queries():
        for prefix, ns in q.prefixes.items():
            assert prefixes[prefix] == ns, (q.name, prefix)


@pytest.mark.parametrize(
    "text,error",
    [
        ("# name: other\n# description: d\nASK {}", "must start with `# name: x`"),
        ("# name: x\nASK {}", "description"),
        ("# name: x\n# description: d\n# param: agency agency ?a d\nASK {}", "no `# @bind ?a` line"),
        ("# name: x\n# description: d\n# param: broken\nASK {}", "malformed param"),
    ],
)
def test_malformed_headers_are_reported(text: str, error: str) -> None:
    with pytest.raises(QueryError, match=re.escape(error)):
        parse_named_query("x", text)


def test_queries_are_found_through_package_resources() -> None:
    from importlib.resources import files

    shipped = {p.name[:-3] for p in (files("ipgraph") / "queries").iterdir() if p.name.endswith(".rq")}
    assert {q.name for q in list_queries()} == {n for n in shipped if not n.startswith("_")}
    assert get_query("leads").param("agency").kind == "agency"
    for q in list_queries():
        for p in q.params:
            if p.is_name:  # every name kind has its two resolver queries
                assert {f"_find-{p.kind}", f"_find-{p.kind}-part"} <= shipped


# ---------------------------------------------------------------------------------------------
# Output formats


@pytest.fixture(scope="module")
def sample(engine) -> QueryResult:
    return run_named(engine, "targets")


def test_json_is_sparql_results_json(sample) -> None:
    text = format_result(sample, "json")
    parsed = list(pyoxigraph.parse_query_results(text.encode(), format=pyoxigraph.QueryResultsFormat.JSON))
    assert len(parsed) == len(sample.rows)
    assert json.loads(text)["head"]["vars"] == sample.variables


def test_tsv_is_sparql_results_tsv(sample) -> None:
    text = format_result(sample, "tsv")
    parsed = list(pyoxigraph.parse_query_results(text.encode(), format=pyoxigraph.QueryResultsFormat.TSV))
    assert len(parsed) == len(sample.rows)
    assert text.splitlines()[0].split("\t") == [f"?{v}" for v in sample.variables]


def test_csv_is_plain_values(sample) -> None:
    rows = list(csv.reader(io.StringIO(format_result(sample, "csv"))))
    assert rows[0] == sample.variables and len(rows) == len(sample.rows) + 1
    assert any("每万人口高价值发明专利拥有量" in row for row in rows)


def test_xml_is_sparql_results_xml(sample) -> None:
    from ipgraph.query import results_xml

    parsed = list(
        pyoxigraph.parse_query_results(results_xml(sample).encode(), format=pyoxigraph.QueryResultsFormat.XML)
    )
    assert len(parsed) == len(sample.rows)


def test_table_aligns_chinese_columns() -> None:
    result = QueryResult(
        kind="select",
        variables=["name", "n", "x"],
        rows=[
            (Term.literal("天津市知识产权局", lang="zh"), Term.literal("6"), Term.literal("a")),
            (Term.literal("ab", lang="zh"), Term.literal("12"), Term.literal("b")),
            (Term.literal("沈阳市市场监督管理局"), Term.literal("3"), Term.literal("c")),
        ],
    )
    lines = results_table(result).splitlines()
    starts = {display_width(line[: line.rindex(mark)]) for line, mark in zip(lines[2:], "abc", strict=True)}
    assert len(starts) == 1  # the third column starts at the same screen column on every row
    assert display_width("天津") == 4 and display_width("ab") == 2


def test_ask_and_construct_results(engine) -> None:
    assert format_result(run_sparql(engine, "ASK { ?a a ipg:Agency }"), "table") == "true\n"
    graph = run_sparql(engine, "CONSTRUCT { ?a rdfs:label ?l } WHERE { ?a a ipg:Agency ; rdfs:label ?l }")
    turtle = format_result(graph, "table")
    assert len(Graph().parse(data=turtle, format="turtle")) == 4
    assert len(json.loads(format_result(graph, "json"))) == 4  # JSON-LD


# ---------------------------------------------------------------------------------------------
# The shipped corpus: every named query answers what the graph holds


@pytest.fixture(scope="module")
def corpus_engines(built_dir):
    return open_engine(built_dir), open_engine(built_dir, "rdflib"), open_engine(built_dir, "memory")


def label(graph: Graph, node) -> str:
    return str(graph.value(node, RDFS.label))


def test_corpus_leads_match_the_graph(corpus_engines, corpus_graph) -> None:
    g = corpus_graph
    expected: Counter[tuple[str, str]] = Counter()
    for measure, agency in g.subject_objects(IPG.leadAgency):
        expected[(label(g, agency), label(g, g.value(measure, IPG.partOf)))] += 1
    got = run_named(corpus_engines[0], "leads")
    assert {(a, d): n for a, d, n in values(got, "agencyName", "document", "measures")} == {
        k: float(v) for k, v in expected.items()
    }
    assert sum(expected.values()) > 40


def test_corpus_leads_of_tianjin_ip_office(corpus_engines) -> None:
    result = run_named(corpus_engines[0], "leads", {"agency": "天津市知识产权局"})
    # 实施天津市知识产权战略纲要任务分工: the measures the 天津市知识产权局 leads (see data/gold/004…json)
    assert values(result, "document", "measureNumbers") == [
        ("实施天津市知识产权战略纲要任务分工", "23 29 48 49 58 63")
    ]


def test_corpus_ambiguous_agency(corpus_engines) -> None:
    result = run_named(corpus_engines[0], "leads", {"agency": "市场监管局"})
    assert "沈阳市市场监督管理局" in {r[0] for r in values(result, "agencyName")}
    assert (
        result.notes
        and "天津市滨海新区市场监督管理局" in result.notes[0]
        and "沈阳市市场监督管理局" in result.notes[0]
    )


def test_corpus_coresponsible_match_the_graph(corpus_engines, corpus_graph) -> None:
    g = corpus_graph
    agency = agency_iri("天津市知识产权局")
    assert label(g, agency) == "天津市知识产权局"
    shared: Counter[str] = Counter()
    for measure in g.subjects(IPG.responsibleAgency, agency):
        for partner in set(g.objects(measure, IPG.responsibleAgency)) - {agency}:
            shared[label(g, partner)] += 1
    result = run_named(corpus_engines[0], "coresponsible", {"agency": "天津市知识产权局"})
    assert {name: n for name, n in values(result, "partnerName", "sharedMeasures")} == {
        k: float(v) for k, v in shared.items()
    }
    assert "天津市版权局" in shared


def test_corpus_programme(corpus_engines, corpus_graph) -> None:
    result = run_named(corpus_engines[0], "programme", {"name": "专利导航"})
    got = {(d, n) for d, numbers in values(result, "document", "measureNumbers") for n in numbers.split()}
    g = corpus_graph
    programme = next(s for s, o in g.subject_objects(RDFS.label) if str(o) == "专利导航")
    expected = {
        (label(g, g.value(m, IPG.partOf)), str(g.value(m, IPG.number)))
        for m in g.subjects(IPG.mentions, programme)
    }
    assert got == expected
    # gold: 专利导航 is named in documents 000, 001, 002 and 003; 沈阳 leads its two measures
    assert len({d for d, _ in got}) >= 4
    leads = {d: a for d, a in values(result, "document", "leadAgencies")}
    assert leads["沈阳市知识产权运营服务体系建设实施方案(2020-2023年)"] == "沈阳市市场监督管理局"
    assert leads["天津市滨海新区强化专利转化运用专项行动实施方案"] is None  # no lead named: left empty


def test_corpus_targets_2025(corpus_engines, corpus_graph) -> None:
    result = run_named(corpus_engines[0], "targets", {"year": "2025"})
    g = corpus_graph
    expected = {str(t) for t, y in g.subject_objects(IPG.year) if str(y) == "2025"}
    assert {r[0] for r in values(result, "target")} == expected
    assert ("每万人口高价值发明专利拥有量", 55.0, "件") in set(values(result, "indicator", "value", "unit"))


def test_corpus_citations_and_shared_directives(corpus_engines) -> None:
    cites = run_named(corpus_engines[0], "national-citations")
    assert ("天津市滨海新区强化专利转化运用专项行动实施方案", "国办发〔2023〕37号") in set(
        values(cites, "document", "docNumber")
    )
    shared = run_named(corpus_engines[0], "shared-directives")
    by_directive = {}
    for name, cited_by, doc in values(shared, "directiveName", "citedBy", "document"):
        by_directive.setdefault(name, set()).add(doc)
        assert cited_by >= 2
    # gold: documents 000 and 001 both cite GB/T 29490 企业知识产权管理规范
    assert {"西青区国家知识产权示范城区建设工作方案", "宜昌市知识产权保护与运用“十四五”规划"} <= by_directive[
        "企业知识产权管理规范"
    ]


@pytest.mark.parametrize("query", [q.name for q in list_queries()])
def test_corpus_engines_agree(corpus_engines, query: str) -> None:
    params = {
        "leads": {"agency": "天津市知识产权局"},
        "programme": {"name": "专利导航"},
        "targets": {"year": "2025"},
        "coresponsible": {"agency": "天津市知识产权局"},
    }
    oxigraph, rdflib_engine, memory = corpus_engines
    a = run_named(oxigraph, query, params.get(query, {}))
    b = run_named(rdflib_engine, query, params.get(query, {}))
    c = run_named(memory, query, params.get(query, {}))
    assert a.variables == b.variables == c.variables
    assert canonical_rows(a) == canonical_rows(b) == canonical_rows(c)
    assert a.rows, f"{query} answered nothing on the corpus"


# ---------------------------------------------------------------------------------------------
# The command


def test_cli_query_table(built_dir) -> None:
    result = CliRunner().invoke(
        main, ["query", "leads", "--agency", "天津市知识产权局", "--graph", str(built_dir)]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["agencyName", "document", "measures", "measureNumbers"]
    assert lines[2].split() == [
        "天津市知识产权局",
        "实施天津市知识产权战略纲要任务分工",
        "6",
        "23",
        "29",
        "48",
        "49",
        "58",
        "63",
    ]
    assert "1 row(s)" in result.stderr and "IRI columns (agency, doc)" in result.stderr


def test_cli_query_note_goes_to_stderr(built_dir) -> None:
    result = CliRunner().invoke(main, ["query", "leads", "--agency", "市场监管局", "--graph", str(built_dir)])
    assert result.exit_code == 0
    assert "note:" in result.stderr and "note:" not in result.stdout


def test_cli_query_json_and_engines(built_dir) -> None:
    outputs = []
    for engine in ("oxigraph", "memory", "rdflib"):
        result = CliRunner().invoke(
            main,
            [
                "query",
                "targets",
                "--year",
                "2025",
                "--format",
                "json",
                "--engine",
                engine,
                "--graph",
                str(built_dir),
            ],
        )
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.stdout))
    assert len(outputs[0]["results"]["bindings"]) == len(outputs[1]["results"]["bindings"]) > 5
    assert outputs[0] == outputs[1]


def test_cli_query_sparql_text_and_file(built_dir, tmp_path) -> None:
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?m ipg:leadAgency ?a }"
    by_text = CliRunner().invoke(main, ["query", text, "--format", "csv", "--graph", str(built_dir)])
    rq = tmp_path / "q.rq"
    rq.write_text(text, encoding="utf-8")
    by_file = CliRunner().invoke(main, ["query", "-f", str(rq), "--format", "csv", "--graph", str(built_dir)])
    assert by_text.exit_code == by_file.exit_code == 0
    assert by_text.stdout == by_file.stdout and by_text.stdout.splitlines()[0] == "n"


def test_cli_query_list() -> None:
    result = CliRunner().invoke(main, ["query", "--list"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == sorted(q.name for q in list_queries())
    assert "[--agency AGENCY]" in result.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["query", "nope"], "no named query 'nope'"),
        (["query", "leads", "--agency", "不存在"], "no agency"),
        (["query", "SELECT ?x WHERE {"], "SPARQL syntax error"),
        (["query", "leads", "--year", "2025"], "takes --agency"),
        (["query", "SELECT * WHERE { ?s ?p ?o }", "--agency", "x"], "goes with a named query"),
    ],
)
def test_cli_query_errors_are_one_line(built_dir, args, message) -> None:
    result = CliRunner().invoke(main, [*args, "--graph", str(built_dir)])
    assert result.exit_code != 0
    assert message in result.stderr
    # a syntax error adds the query line and a caret under it (tests/test_cli_errors.py)
    most = 4 if "syntax" in message else 2
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) <= most


def test_cli_query_without_a_query_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["query"])
    assert result.exit_code == 2 and "give a query name" in result.stderr


def test_cli_query_without_a_build(tmp_path) -> None:
    result = CliRunner().invoke(main, ["query", "leads", "--graph", str(tmp_path)])
    assert result.exit_code == 1 and "ipgraph build" in result.stderr


def test_query_command_does_not_import_heavy_modules(built_dir) -> None:
    code = (
        "import sys\nfrom ipgraph.cli import main\n"
        f"main(['query', 'leads', '--graph', {str(built_dir)!r}], standalone_mode=False)\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('rdflib', 'jieba', 'pyparsing')"
        " or m.startswith(('ipgraph.extract', 'ipgraph.pipeline', 'ipgraph.graph'))]\n"
        "print('HEAVY', sorted(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY []"


def test_prepare_named_binds_resolved_iris(corpus_engines) -> None:
    text, notes = prepare_named(corpus_engines[0], "leads", {"agency": "天津市知识产权局"})
    assert f"VALUES ?agency {{ <{agency_iri('天津市知识产权局')}> }}" in text
    assert '"天津市知识产权局"' not in text.split("WHERE", 1)[1]  # the name is bound as the node, never as a literal
    assert notes == []


def test_prefixes_are_usable_without_declaration(corpus_engines) -> None:
    for engine in corpus_engines:
        result = run_sparql(engine, "SELECT ?d WHERE { ?d a ipg:PolicyDocument ; dcterms:title ?t }")
        assert len(result.rows) == 5


def test_query_results_are_deterministic(built_dir) -> None:
    first = (
        CliRunner().invoke(main, ["query", "agencies", "--format", "tsv", "--graph", str(built_dir)]).stdout
    )
    second = (
        CliRunner().invoke(main, ["query", "agencies", "--format", "tsv", "--graph", str(built_dir)]).stdout
    )
    assert first == second and first.count("\n") > 50


def test_store_path_is_inside_the_build(built_dir: Path) -> None:
    open_engine(built_dir)
    assert (built_dir / "store").is_dir()
