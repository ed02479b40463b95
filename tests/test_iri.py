"""One IRI form for the whole graph (issue 11 item 1): what ipgraph prints pastes back.

The graph's IRIs keep Chinese raw (ipgraph.iri); tables print them as prefixed names
(agency:天津市知识产权局) or <IRI>; a query that spells one of our IRIs percent-encoded is
normalised before it runs, and the /id/ resolver takes both spellings.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from urllib.parse import quote, unquote

import pyoxigraph
import pytest
from click.testing import CliRunner
from rdflib import Graph, URIRef

from ipgraph.cli import main
from ipgraph.iri import (
    DATA,
    KIND_PREFIXES,
    agency_iri,
    canonical_iri,
    compact_iri,
    directive_iri,
    document_iri,
    local_name,
    place_iri,
    programme_iri,
    slug,
)
from ipgraph.query import Term, canonical_query, compact, default_prefixes, open_engine, run_sparql
from ipgraph.serve import App, InlineExecutor, ServeLimits

TJ = "天津市知识产权局"
ALL_IRIS = "SELECT DISTINCT ?x WHERE { { ?x ?p ?o } UNION { ?s ?p ?x FILTER(isIRI(?x)) } }"


def percent_encoded(iri: str) -> str:
    """The spelling of one of our IRIs that a browser sends and the graph once stored."""
    rest = iri[len(DATA) :]
    return DATA + "/".join(quote(unquote(seg), safe="") for seg in rest.split("/"))


@pytest.fixture(scope="module")
def corpus_iris(built_dir: Path) -> list[str]:
    nt = (built_dir / "ipgraph.nt").read_bytes()
    found = {t.value for triple in pyoxigraph.parse(nt, format=pyoxigraph.RdfFormat.N_TRIPLES)
             for t in (triple.subject, triple.object) if isinstance(t, pyoxigraph.NamedNode)}
    return sorted(found)


# ---------------------------------------------------------------- the form itself


def test_names_stay_readable_and_only_what_a_segment_cannot_carry_is_encoded() -> None:
    assert agency_iri(TJ) == DATA + "agency/" + TJ
    assert programme_iri("“5+n”服务体系") == DATA + "programme/“5+n”服务体系"
    assert document_iri("gbk 方案.txt") == DATA + "document/gbk%20方案"
    assert slug("a/b?c#d%e") == "a%2Fb%3Fc%23d%25e"
    assert slug('<>"{}|\\^`') == "%3C%3E%22%7B%7D%7C%5C%5E%60"
    assert slug("\u3000\u200b\t") == "%E3%80%80%E2%80%8B%09"  # invisible: would not survive copy and paste
    assert slug("(一)、国发〔2021〕20号") == "(一)、国发〔2021〕20号"
    for name in (TJ, "a b", "x/y", "100%", "“护航”"):
        for mint in (agency_iri, programme_iri, directive_iri, place_iri):
            iri = mint(name)
            pyoxigraph.NamedNode(iri)  # a valid IRI
            assert canonical_iri(iri) == iri == canonical_iri(percent_encoded(iri))


def test_canonical_iri_leaves_other_iris_and_non_names_alone() -> None:
    assert canonical_iri("https://example.org/%E5%A4%A9") == "https://example.org/%E5%A4%A9"
    assert canonical_iri(DATA + "agency/%FF") == DATA + "agency/%FF"  # not UTF-8: no name's spelling
    assert canonical_iri(DATA + "agency/50%") == DATA + "agency/50%"
    assert canonical_iri(DATA + "agency/%e5%a4%a9") == DATA + "agency/天"


@pytest.mark.parametrize("local", ["天津市知识产权局", "a%20b", "a:b", "_x", "3rd", "a.b", "a-b", "x·y"])
def test_local_names_read_alike_in_every_parser(local: str) -> None:
    assert local_name(local) == local
    iri = DATA + "agency/" + local
    ttl = f"@prefix agency: <{DATA}agency/> .\nagency:{local} a agency:{local} .\n"
    assert {t.subject.value for t in pyoxigraph.parse(ttl.encode(), format=pyoxigraph.RdfFormat.TURTLE)} == {iri}
    assert {str(s) for s in Graph().parse(data=ttl, format="turtle").subjects()} == {iri}
    query = f"PREFIX agency: <{DATA}agency/> SELECT ?x WHERE {{ VALUES ?x {{ agency:{local} }} }}"
    assert [str(row[0]) for row in Graph().query(query)] == [iri]
    assert [s["x"].value for s in pyoxigraph.Store().query(query)] == [iri]


@pytest.mark.parametrize("local", ["x/measure/3", "-a", "a.", ".a", "(一)", "“护航”"])
def test_local_names_that_need_escapes_are_printed_whole(local: str) -> None:
    assert local_name(local) is None
    iri = DATA + "agency/" + local
    assert compact_iri(iri, default_prefixes()) == f"<{iri}>"


def test_an_escaped_prefixed_name_reads_alike_on_every_engine(built_dir: Path) -> None:
    # pyoxigraph's Turtle writes document:…\/measure\/23; rdflib's SPARQL would keep the backslashes
    measure = document_iri("004_fd40c90dbaa4972a.txt") + "/measure/23"
    escaped = "document:004_fd40c90dbaa4972a\\/measure\\/23"
    assert canonical_query(f"ASK {{ {escaped} ?p ?o }}") == f"ASK {{ <{measure}> ?p ?o }}"
    for engine in ("oxigraph", "rdflib"):
        assert run_sparql(open_engine(built_dir, engine), f"ASK {{ {escaped} ?p ?o }}").boolean is True


def test_a_name_no_prefixed_name_can_hold_is_printed_whole() -> None:
    iri = programme_iri("“5+n”服务体系")
    assert local_name("“5+n”服务体系") is None
    assert compact_iri(iri, default_prefixes()) == f"<{iri}>"
    assert compact_iri(agency_iri(TJ), default_prefixes()) == "agency:" + TJ


def test_every_kind_has_its_prefix_everywhere() -> None:
    from ipgraph.graph import bind_prefixes
    from ipgraph.pipeline import TURTLE_PREFIXES

    prefixes = default_prefixes()
    graph = Graph()
    bind_prefixes(graph)
    bound = {p: str(ns) for p, ns in graph.namespaces()}
    for kind, ns in KIND_PREFIXES.items():
        assert prefixes[kind] == TURTLE_PREFIXES[kind] == bound[kind] == ns


# ---------------------------------------------------------------- the query's other spellings


def test_canonical_query_rewrites_our_iris_outside_strings_and_comments() -> None:
    enc = percent_encoded(agency_iri(TJ))
    query = (f'SELECT * WHERE {{ ?m ?p <{enc}> . ?m ?q agency:{enc[len(DATA) + 7:]} '
             f'FILTER(?x != "<{enc}>") }} # <{enc}>\n')
    out = canonical_query(query)
    assert out == (f'SELECT * WHERE {{ ?m ?p <{agency_iri(TJ)}> . ?m ?q agency:{TJ} '
                   f'FILTER(?x != "<{enc}>") }} # <{enc}>\n')
    foreign = "SELECT * WHERE { <https://example.org/%E5%A4%A9> ?p ?o }"
    assert canonical_query(foreign) == foreign
    # a prefix the query declares itself is the one used
    mine = f"PREFIX a: <{DATA}agency/>\nASK {{ a:%E5%A4%A9 ?p ?o }}"
    assert canonical_query(mine) == f"PREFIX a: <{DATA}agency/>\nASK {{ a:天 ?p ?o }}"


def _counts(engine, forms: list[str]) -> list[int]:
    """Per form (as written in a query), how many triples name that IRI as subject or object."""
    counts: list[int] = []
    for start in range(0, len(forms), 400):
        chunk = forms[start : start + 400]
        values = " ".join(f"({i} {form})" for i, form in enumerate(chunk))
        result = run_sparql(engine, "SELECT ?i (COUNT(?p) AS ?n) WHERE { VALUES (?i ?x) { " + values + " } "
                                    "OPTIONAL { { ?x ?p ?o } UNION { ?s ?p ?x } } } GROUP BY ?i")
        got = {int(row[0].value): int(row[1].value) for row in result.rows}
        counts += [got.get(i, 0) for i in range(len(chunk))]
    return counts


def test_every_printed_iri_of_the_corpus_pastes_back(built_dir: Path, corpus_iris: list[str]) -> None:
    runner = CliRunner()
    printed = {}
    for fmt in ("table", "csv", "json"):
        out = runner.invoke(main, ["query", ALL_IRIS, "--graph", str(built_dir), "--format", fmt])
        assert out.exit_code == 0, out.output
        printed[fmt] = out.stdout
    table = [line.rstrip() for line in printed["table"].splitlines()[2:]]
    csv_values = [row[0] for row in csv.reader(io.StringIO(printed["csv"]))][1:]
    json_values = [b["x"]["value"] for b in json.loads(printed["json"])["results"]["bindings"]]
    assert sorted(csv_values) == sorted(json_values) == corpus_iris  # CSV and JSON: the IRIs themselves
    assert sorted(table) == sorted(compact_iri(i, default_prefixes()) for i in corpus_iris)
    assert any(cell == "agency:" + TJ for cell in table) and not any("%E5" in cell for cell in table)
    ours = [i for i in corpus_iris if i.startswith(DATA)]
    assert len(ours) > 1000
    shown = {i: compact(Term.iri(i)) for i in ours}
    engine = open_engine(built_dir)
    raw = _counts(engine, [f"<{i}>" for i in ours])
    assert all(n > 0 for n in raw)
    assert _counts(engine, [shown[i] for i in ours]) == raw  # the table's form
    assert _counts(engine, [f"<{percent_encoded(i)}>" for i in ours]) == raw  # a browser's form
    # and a prefixed name with the percent-encoded local part (agency:%E5%A4%A9…)
    raw_of = dict(zip(ours, raw, strict=True))
    simple = [i for i in ours if i[len(DATA):].split("/")[0] in KIND_PREFIXES and i.count("/") == DATA.count("/") + 1]
    pnames = [f"{kind}:{local_name(percent_encoded(i)[len(KIND_PREFIXES[kind]):])}"
              for i in simple for kind in [i[len(DATA):].split("/")[0]]]
    assert len(simple) > 500 and _counts(engine, pnames) == [raw_of[i] for i in simple]


@pytest.mark.parametrize("engine", ["oxigraph", "memory", "rdflib"])
def test_cli_query_answers_every_spelling_alike(built_dir: Path, engine: str) -> None:
    runner = CliRunner()
    tj = agency_iri(TJ)
    enc = percent_encoded(tj)
    answers = set()
    for form in (f"agency:{TJ}", f"<{tj}>", f"<{enc}>", "agency:" + enc[len(DATA) + 7 :]):
        out = runner.invoke(main, ["query", f"SELECT (COUNT(*) AS ?n) WHERE {{ ?m ipg:leadAgency {form} }}",
                                   "--graph", str(built_dir), "--engine", engine, "--format", "csv"])
        assert out.exit_code == 0, out.output
        answers.add(out.stdout.splitlines()[1])
    assert answers == {"6"}  # data/gold: the 天津市知识产权局 leads six measures


def test_a_pasted_measure_iri_from_the_table_works(built_dir: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["query", f"SELECT ?m WHERE {{ ?m ipg:leadAgency agency:{TJ} }} ORDER BY ?m LIMIT 1",
                               "--graph", str(built_dir)])
    cell = out.stdout.splitlines()[2].strip()
    assert cell.startswith(f"<{DATA}document/") and "/measure/" in cell  # printed whole: the / needs no escape
    again = runner.invoke(main, ["query", f"SELECT ?l WHERE {{ {cell} rdfs:label ?l }}", "--graph", str(built_dir),
                                 "--format", "csv"])
    assert again.exit_code == 0 and len(again.stdout.splitlines()) == 2, again.output


# ---------------------------------------------------------------- files and the server


def test_turtle_and_jsonld_carry_readable_iris(built_dir: Path) -> None:
    from ipgraph.export import export_graph
    from ipgraph.store import load_graph

    ttl = (built_dir / "ipgraph.ttl").read_bytes()
    nt = (built_dir / "ipgraph.nt").read_bytes()
    text = ttl.decode("utf-8")
    assert f"agency:{TJ} " in text and "%E5" not in text
    from_nt = set(pyoxigraph.parse(nt, format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert set(pyoxigraph.parse(ttl, format=pyoxigraph.RdfFormat.TURTLE)) == from_nt
    graph = Graph().parse(data=ttl, format="turtle")
    assert len(graph) == len(from_nt) and (URIRef(agency_iri(TJ)), None, None) in graph
    jsonld = json.loads(export_graph(load_graph(built_dir), "jsonld"))
    assert jsonld["@context"]["agency"] == KIND_PREFIXES["agency"]
    assert len(Graph().parse(data=json.dumps(jsonld), format="json-ld")) == len(from_nt)


@pytest.fixture(scope="module")
def app(built_dir: Path) -> App:
    return App(InlineExecutor(built_dir), ServeLimits(max_rows=5000))


def test_resolver_takes_both_spellings(app: App) -> None:
    tj = agency_iri(TJ)
    raw = app.handle("GET", "/id/agency/" + TJ, {"Accept": "text/turtle"})
    enc = app.handle("GET", percent_encoded(tj).replace(DATA, "/id/"), {"Accept": "text/turtle"})
    assert raw.status == enc.status == 200 and raw.body == enc.body
    triples = set(pyoxigraph.parse(raw.body, format=pyoxigraph.RdfFormat.TURTLE))
    assert pyoxigraph.NamedNode(tj) in {t.subject for t in triples}
    page = app.handle("GET", percent_encoded(tj).replace(DATA, "/id/"), {"Accept": "text/html"})
    assert page.status == 200 and TJ in page.body.decode("utf-8")


def test_endpoint_answers_the_percent_encoded_iri(app: App) -> None:
    from urllib.parse import urlencode

    answers = []
    for form in (f"<{agency_iri(TJ)}>", f"<{percent_encoded(agency_iri(TJ))}>", f"agency:{TJ}"):
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?m ipg:leadAgency {form} }}"
        r = app.handle("GET", "/sparql?" + urlencode({"query": query}), {"Accept": "application/sparql-results+json"})
        assert r.status == 200, r.body
        answers.append(json.loads(r.body)["results"]["bindings"][0]["n"]["value"])
    assert answers == ["6", "6", "6"]
