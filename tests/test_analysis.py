"""ipgraph.analysis on the shipped corpus: every figure is checked against the gold annotations
(data/gold/*.json, what a reader finds in the documents) or recomputed from the graph another way."""
from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from itertools import combinations

import networkx as nx
import pytest
from click.testing import CliRunner
from conftest import GOLD
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from ipgraph import analysis
from ipgraph.analysis.source import documents
from ipgraph.query import OxigraphEngine, open_engine, run_named

IPG = Namespace("https://w3id.org/ipgraph/ontology#")


@pytest.fixture(scope="module")
def engine(built_dir) -> OxigraphEngine:
    return open_engine(built_dir)


@pytest.fixture(scope="module")
def gold() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(GOLD.glob("*.json"))]


@pytest.fixture(scope="module")
def aliases(engine) -> dict[str, set[str]]:
    """Each agency's label → its label and every skos:altLabel in the graph."""
    found: dict[str, set[str]] = {}
    rows = engine.execute(
        "SELECT ?label ?alt WHERE { ?a a ipg:Agency ; rdfs:label ?label . OPTIONAL { ?a skos:altLabel ?alt } }"
    ).records()
    for row in rows:
        found.setdefault(row["label"], {row["label"]}).update([row["alt"]] if row["alt"] else [])
    return found


GRAPH_ALIASES: dict[str, set[str]] = {}


@pytest.fixture(autouse=True)
def _share_aliases(aliases) -> None:
    GRAPH_ALIASES.clear()
    GRAPH_ALIASES.update(aliases)


def graph_names(doc: dict, gold_name: str) -> set[str]:
    """The graph labels of the agency the gold names: a label one of whose forms (label or
    alias) is a form the gold gives (its canonical name or an alias)."""
    forms = {gold_name, *doc["agencies"].get(gold_name, [])}
    return {label for label, names in GRAPH_ALIASES.items() if names & forms}


def title_of(engine, gold_doc: dict) -> str:
    found = [d for d in documents(engine).values() if d["file"] == gold_doc["file"]]
    assert len(found) == 1, gold_doc["file"]
    return found[0]["title"]


# ---- workload


def test_top_lead_agency_of_each_document_matches_the_gold(engine, gold) -> None:
    frame = analysis.workload(engine)
    checked = 0
    for doc in gold:
        leads = Counter(a for m in doc["measures"] for a in m["lead"])
        if not leads:
            continue
        (top, count), *rest = leads.most_common()
        if rest and rest[0][1] == count:
            continue  # a tie: no single agency leads the most
        rows = frame[frame["title"] == title_of(engine, doc)].sort_values("led", ascending=False)
        assert rows.iloc[0]["agency"] in graph_names(doc, top), (doc["file"], rows.head(3))
        assert rows.iloc[0]["led"] == count
        checked += 1
    assert checked >= 2  # 天津市知识产权局 in 004, 沈阳市市场监督管理局 in 002, …


def test_assigned_counts_match_the_gold_for_every_agency_of_a_task_table(engine, gold) -> None:
    doc = next(d for d in gold if d["document"]["doc_type"] == "任务分工")
    frame = analysis.workload(engine)
    rows = frame[frame["title"] == title_of(engine, doc)]
    assigned = Counter(a for m in doc["measures"] for a in set(m["responsible"]) | set(m["lead"]))
    led = Counter(a for m in doc["measures"] for a in m["lead"])
    for name, count in assigned.items():
        row = rows[rows["agency"].isin(graph_names(doc, name))]
        assert len(row) == 1, name
        assert row.iloc[0]["assigned"] == count, name
        assert row.iloc[0]["led"] == led.get(name, 0), name
        assert row.iloc[0]["supporting"] == count - led.get(name, 0)


def test_workload_totals_add_up(engine) -> None:
    per_doc = analysis.workload(engine)
    per_agency = analysis.workload_by_agency(per_doc)
    by_level = analysis.workload_by_level(per_doc)
    assert per_agency["led"].sum() == per_doc["led"].sum() == by_level["led"].sum()
    leads = engine.execute("SELECT (COUNT(*) AS ?n) WHERE { ?m a ipg:Measure ; ipg:leadAgency ?a }").records()
    assert per_doc["led"].sum() == leads[0]["n"]


# ---- co-responsibility network


def test_network_weights_are_the_measures_two_agencies_share_in_the_gold(engine, gold) -> None:
    graph = analysis.coresponsibility_graph(engine)
    for doc in gold:
        pairs = Counter()
        for m in doc["measures"]:
            for a, b in combinations(sorted(set(m["responsible"]) | set(m["lead"])), 2):
                pairs[a, b] += 1
        if not pairs:
            continue
        (a, b), count = pairs.most_common(1)[0]
        found = [(x, y) for x in graph_names(doc, a) for y in graph_names(doc, b) if graph.has_edge(x, y)]
        assert len(found) == 1, (doc["file"], a, b)
        assert graph.edges[found[0]]["weight"] == count, (doc["file"], a, b)


def test_network_agrees_with_the_coresponsible_named_query(engine) -> None:
    graph = analysis.coresponsibility_graph(engine)
    rows = run_named(engine, "coresponsible").records()
    assert len(rows) == 2 * graph.number_of_edges()
    for row in rows:
        assert graph.edges[row["agencyName"], row["partnerName"]]["weight"] == row["sharedMeasures"]


def test_communities_bridges_and_betweenness_are_consistent(engine) -> None:
    graph = analysis.coresponsibility_graph(engine)
    metrics = analysis.coresponsibility(graph)
    assert sorted(metrics["agency"]) == sorted(graph)
    community = dict(zip(metrics["agency"], metrics["community"], strict=True))
    component = {n: i for i, c in enumerate(nx.connected_components(graph)) for n in c}
    for label in set(community.values()):
        members = [n for n, c in community.items() if c == label]
        assert len({component[n] for n in members}) == 1  # a community never spans unlinked documents
    for _, row in metrics.iterrows():
        others = {community[n] for n in graph[row["agency"]]} - {row["community"]}
        assert row["bridges"] == len(others)
        assert row["partners"] == graph.degree(row["agency"])
    expected = nx.betweenness_centrality(graph, weight=lambda a, b, d: 1 / d["weight"])
    top = metrics.iloc[0]
    assert top["betweenness"] == pytest.approx(max(expected.values()), abs=1e-6)
    assert set(analysis.bridges(metrics)["agency"]) == {r["agency"] for _, r in metrics.iterrows() if r["bridges"]}
    # the same graph gives the same communities every time (fixed seed)
    assert analysis.coresponsibility(graph).equals(metrics)


# ---- directive chains


def test_national_directives_reach_the_places_of_the_documents_citing_them(engine, gold) -> None:
    chains = analysis.directive_chains(engine)
    checked = 0
    for doc in gold:
        for cite in doc["citations"]:
            if cite["level"] != "national" or cite["kind"] != "cites" or not cite["doc_number"]:
                continue
            rows = chains[(chains["number"] == cite["doc_number"]) & (chains["depth"] == 1)]
            assert doc["document"]["jurisdiction"] in set(rows["place"]), (doc["file"], cite["title"])
            checked += 1
    assert checked >= 3
    reach = analysis.directive_reach(chains)
    for _, row in reach.iterrows():
        rows = chains[chains["directive"] == row["directive"]]
        assert row["places"] == rows["place"].nunique()


def test_a_chain_runs_through_a_cited_corpus_document(corpus_dir, tmp_path) -> None:
    """A district plan citing a municipal plan of the corpus is reached, at depth 2, by what that plan cites."""
    from ipgraph.pipeline import build_graph

    source = (corpus_dir / "002_842afa8849cffd08.txt").read_text(encoding="utf-8")
    title = "沈阳市知识产权运营服务体系建设实施方案(2020-2023年)"
    assert title in source
    district = (
        "沈阳市浑南区知识产权运营工作方案\n为落实《" + title + "》,结合本区实际,制定本方案。\n"
        "一、主要任务\n1.建设知识产权运营平台。培育知识产权运营机构,推动专利转化运用。(区市场监管局牵头)\n"
        "2.推进专利导航。开展产业专利导航项目,服务重点产业发展。(区科技局牵头)\n"
    )
    (tmp_path / "002_842afa8849cffd08.txt").write_text(source, encoding="utf-8")
    (tmp_path / "district.txt").write_text(district, encoding="utf-8")
    graph = build_graph([tmp_path]).graph
    chains = analysis.directive_chains(graph)
    municipal = chains[(chains["number"] == "财办建〔2020〕40号")]
    assert set(municipal["depth"]) == {1, 2}
    assert "沈阳市知识产权运营服务体系建设实施方案(2020-2023年)" in set(municipal[municipal["depth"] == 1]["document"])
    assert "沈阳市浑南区知识产权运营工作方案" in set(municipal[municipal["depth"] == 2]["document"])


# ---- programme diffusion


def test_programmes_reach_the_places_the_gold_marks(engine, gold) -> None:
    diffusion = analysis.programme_diffusion(engine)
    labels = set(diffusion["programme"])
    expected: dict[str, set[str]] = {}
    for doc in gold:
        for m in doc["measures"]:
            for p in m["programmes"]:
                expected.setdefault(p, set()).add(doc["document"]["jurisdiction"])
    checked = 0
    for programme, places in expected.items():
        if programme not in labels:
            continue
        assert places <= set(diffusion[diffusion["programme"] == programme]["place"]), programme
        checked += 1
    assert checked >= 0.9 * len(expected)  # programme recall is 0.993 (README): nearly all are found by name
    spread = analysis.diffusion.programme_spread(diffusion)
    assert spread.iloc[0]["places"] == diffusion.groupby("programme")["place"].nunique().max()


def test_first_year_is_the_earliest_dated_document_naming_the_programme(engine) -> None:
    diffusion = analysis.programme_diffusion(engine)
    docs = {d["title"]: d for d in documents(engine).values()}
    for _, row in diffusion.iterrows():
        assert row["firstYear"] == docs[row["firstDocument"]]["year"]
    matrix = analysis.programme_matrix(diffusion, top=None)
    assert int(matrix.to_numpy().sum()) == int(diffusion["measures"].sum())


# ---- targets


def test_targets_carry_the_gold_values_units_and_years(engine, gold) -> None:
    frame = analysis.targets(engine)
    found = total = 0
    for doc in gold:
        rows = frame[frame["place"] == doc["document"]["jurisdiction"]]
        for t in doc["targets"]:
            total += 1
            hit = rows[(rows["value"] == Decimal(str(t["value"]))) & (rows["unit"] == (t["unit"] or ""))]
            if t["year"] is not None:
                hit = hit[hit["year"] == t["year"]]
            found += bool(len(hit))
    assert total and found / total >= 0.9  # the README's target recall is 0.988
    assert all(isinstance(v, Decimal) for v in frame["value"].dropna())
    summary = analysis.target_summary(frame)
    assert summary["targets"].sum() == len(frame)
    for _, row in summary.iterrows():
        assert row["min"] <= row["max"]


def test_outliers_are_values_far_from_the_median_of_their_indicator() -> None:
    graph = Graph()
    doc = URIRef("https://example.org/doc")
    graph.add((doc, RDF.type, IPG.PolicyDocument))
    graph.add((doc, RDFS.label, Literal("某市规划", lang="zh")))
    for i, value in enumerate(["10", "12", "11", "200", "3"]):
        target = URIRef(f"https://example.org/t{i}")
        graph.add((doc, IPG.hasTarget, target))
        graph.add((target, IPG.indicator, Literal("专利导航项目" if i < 4 else "其他指标")))
        graph.add((target, IPG.value, Literal(value, datatype=XSD.decimal)))
        graph.add((target, IPG.unit, Literal("个")))
    outliers = analysis.target_outliers(graph)
    assert list(outliers["value"]) == [Decimal("200")]
    assert outliers.iloc[0]["median"] == 11.0 and outliers.iloc[0]["group"] == 4


# ---- typed results for notebooks


def test_records_and_to_pandas_are_typed(engine) -> None:
    result = run_named(engine, "targets")
    records = result.records()
    assert any(isinstance(r["value"], Decimal) for r in records)
    frame = result.to_pandas()
    assert list(frame.columns) == result.variables
    years = [r["year"] for r in records if r["year"] is not None]
    assert years and all(isinstance(y, int) for y in years)
    assert str(frame["year"].dtype) == "Int64"
    counts = run_named(engine, "leads").to_pandas()
    assert str(counts["measures"].dtype) == "Int64"
    docs = engine.execute("SELECT ?d ?date WHERE { ?d ipg:datePublished ?date }").to_pandas()
    assert str(docs["date"].dtype).startswith("datetime64")
    assert all(isinstance(v, str) and v.startswith("https://") for v in docs["d"])
    asked = engine.execute("ASK { ?m a ipg:Measure }").to_pandas()
    assert asked["boolean"].tolist() == [True]
    built = engine.execute("CONSTRUCT { ?m ipg:number ?n } WHERE { ?m a ipg:Measure ; ipg:number ?n }").to_pandas()
    measures = engine.execute("SELECT (COUNT(*) AS ?n) WHERE { ?m a ipg:Measure ; ipg:number ?x }").records()[0]["n"]
    assert list(built.columns) == ["subject", "predicate", "object"] and len(built) == measures


# ---- the command


def test_analyze_json_and_csv(built_dir, tmp_path) -> None:
    from ipgraph.cli import main

    runner = CliRunner()
    done = runner.invoke(main, ["analyze", "--graph", str(built_dir), "--format", "json"])
    assert done.exit_code == 0, done.output
    tables = json.loads(done.stdout)
    again = runner.invoke(main, ["analyze", "--graph", str(built_dir), "--format", "json"])
    assert again.stdout == done.stdout  # deterministic: sorted rows, Louvain with a fixed seed
    assert {"workload", "network", "network-bridges", "chains", "diffusion", "targets", "targets-outliers"} <= set(tables)
    assert tables["workload"] == analysis.report.records(analysis.workload_by_agency(open_engine(built_dir)))
    done = runner.invoke(main, ["analyze", "network", "--graph", str(built_dir), "--format", "csv",
                                "-o", str(tmp_path / "csv")])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == ["network-bridges.csv", "network-edges.csv",
                                                                     "network.csv"]
    done = runner.invoke(main, ["analyze", "workload", "--graph", str(built_dir), "--top", "3"])
    assert done.exit_code == 0 and "Agency workload" in done.stdout
    done = runner.invoke(main, ["analyze", "--graph", str(tmp_path / "nothing")])
    assert done.exit_code == 1 and "Traceback" not in done.output


def test_an_undated_national_document_is_placed_and_dated_from_what_it_says() -> None:
    graph = Graph()
    doc = URIRef("https://example.org/plan")
    graph.add((doc, RDF.type, IPG.PolicyDocument))
    graph.add((doc, RDFS.label, Literal("2024年知识产权强国建设推进计划", lang="zh")))
    graph.add((doc, IPG.level, IPG.National))
    dated = URIRef("https://example.org/dated")
    graph.add((dated, RDF.type, IPG.PolicyDocument))
    graph.add((dated, RDFS.label, Literal("某市规划(2021-2025年)", lang="zh")))
    graph.add((dated, IPG.datePublished, Literal("2022-03-01", datatype=XSD.date)))
    docs = documents(graph)
    assert (docs[str(doc)]["place"], docs[str(doc)]["year"]) == ("中华人民共和国", 2024)
    assert (docs[str(dated)]["place"], docs[str(dated)]["year"]) == (None, 2022)  # the date wins over the title


def test_the_analysis_package_is_importable_without_the_command_line() -> None:
    import subprocess
    import sys

    from conftest import REPO

    code = ("import sys, ipgraph.analysis as a; "
            "assert callable(a.workload) and callable(a.directive_chains); "
            "loaded = [m for m in ('ipgraph.cli', 'click', 'matplotlib') if m in sys.modules]; "
            "assert not loaded, loaded")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
