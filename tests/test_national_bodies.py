"""Central bodies as data (ipgraph/data/national_bodies.csv): names across reorganisations, successors."""
from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDFS

from ipgraph import knowledge
from ipgraph.model import AgencyRef
from ipgraph.resolve import AgencyResolver
from ipgraph.vocab import IPG


def test_every_row_has_a_source_and_consistent_years_and_successors():
    bodies = knowledge.national_bodies()
    assert len(bodies) > 100
    for body in bodies.values():
        assert body.source, body.name
        assert body.kind in {"ministry", "commission", "agency", "institution", "party", "judiciary", "mass", "office"}
        if body.since and body.until:
            assert body.since <= body.until, body.name
        if body.successors:
            assert body.until, f"{body.name} has successors but no year it was reorganised"
        for name in body.successors:
            assert name in bodies
            later = bodies[name]
            assert later.until is None or body.until is None or later.until >= body.until, (body.name, name)


def test_successor_chains_end():
    bodies = knowledge.national_bodies()
    for start in bodies:
        seen, todo = set(), [start]
        while todo:
            name = todo.pop()
            seen.add(name)
            assert start not in {s for s in bodies[name].successors}, f"cycle through {start}"
            todo.extend(s for s in bodies[name].successors if s not in seen)


def test_no_short_form_names_two_bodies():
    owner: dict[str, str] = {}
    for body in knowledge.national_bodies().values():
        for form in (body.name, *body.aliases, *body.bare):
            assert owner.setdefault(form, body.name) == body.name, form


@pytest.mark.parametrize("printed,canonical", [
    ("工商总局", "国家工商行政管理总局"), ("质检总局", "国家质量监督检验检疫总局"),
    ("食品药品监管总局", "国家食品药品监督管理总局"), ("新闻出版广电总局", "国家新闻出版广电总局"),
    ("国家林业局", "国家林业局"), ("国家林草局", "国家林业和草原局"), ("国务院国资委", "国务院国有资产监督管理委员会"),
    ("中宣部", "中共中央宣传部"), ("国务院法制办", "国务院法制办公室"), ("银监会", "中国银行业监督管理委员会"),
])
def test_central_bodies_resolve_everywhere(printed, canonical):
    # in a national document, in one that names no place, and in a provincial one alike
    for resolver in (AgencyResolver(None, "national"), AgencyResolver(None, None), AgencyResolver("示例省", "provincial")):
        ref = resolver.resolve(printed)
        assert ref is not None and ref.canonical == canonical and ref.level == "national"


def test_short_forms_a_local_government_shares_are_national_only_in_national_documents():
    assert AgencyResolver(None, "national").resolve("知识产权局").canonical == "国家知识产权局"
    assert AgencyResolver(None, None).resolve("法制办").canonical == "国务院法制办公室"
    local = AgencyResolver("天津市", "municipal").resolve("知识产权局")
    assert local.canonical == "天津市知识产权局" and local.level == "municipal"
    # a bare form is never kept as an alias (GOLD_SPEC: no form without its jurisdiction)
    assert "知识产权局" not in AgencyResolver(None, "national").resolve("知识产权局").aliases


def test_a_prefix_with_no_known_place_is_not_invented():
    ref = AgencyResolver(None, None).resolve("省市场监管局")
    assert ref.canonical == "省市场监管局" and ref.jurisdiction is None
    assert "省市场监督管理局" in ref.aliases
    # a district prefix in a city document names no district the document knows
    ref = AgencyResolver("天津市", "municipal").resolve("区知识产权局")
    assert ref.canonical == "区知识产权局" and ref.jurisdiction is None
    refs = AgencyResolver(None, None).resolve_list("省知识产权局、科技厅")
    assert [r.canonical for r in refs] == ["省知识产权局", "省科技厅"]


@pytest.mark.parametrize("jurisdiction,level,printed,canonical", [
    ("江苏省", "provincial", "省法院", "江苏省高级人民法院"),
    ("示例省", "provincial", "省法院", "示例省高级人民法院"),
    ("南京市", "municipal", "市法院", "南京市中级人民法院"),
    ("天津市滨海新区", "district", "区法院", "天津市滨海新区人民法院"),
])
def test_courts_by_tier(jurisdiction, level, printed, canonical):
    assert AgencyResolver(jurisdiction, level).resolve(printed).canonical == canonical


def _label(graph, node):
    return str(graph.value(node, RDFS.label))


def _agencies(*refs: AgencyRef) -> tuple[Graph, list[URIRef]]:
    """The graph the writer (ipgraph.stream.triples) makes for these agencies, and their nodes."""
    from ipgraph.stream.triples import ClaimTable, DocumentTriples

    out = DocumentTriples("test.txt")
    nodes = [URIRef(out.agency(ref)[1:-1]) for ref in refs]
    table = ClaimTable()
    table.add(out)
    return Graph().parse(data="\n".join(sorted(out.lines | table.lines())), format="nt"), nodes


def test_former_bodies_point_at_their_successors_in_the_graph():
    g, (node, other) = _agencies(AgencyResolver(None, "national").resolve("银监会"),
                                 AgencyResolver(None, None).resolve("质检总局"))
    chain = []
    while (nxt := g.value(node, IPG.reorganisedAs)) is not None:
        chain.append(_label(g, nxt))
        node = nxt
    assert chain == ["中国银行保险监督管理委员会", "国家金融监督管理总局"]
    both = {_label(g, o) for o in g.objects(other, IPG.reorganisedAs)}
    assert both == {"国家市场监督管理总局", "海关总署"}


def test_a_current_body_points_nowhere():
    g, (node,) = _agencies(AgencyRef(canonical="国家知识产权局", surface="国家知识产权局",
                                     with_jurisdiction="国家知识产权局", level="national"))
    assert (node, RDFS.label, None) in g
    assert g.value(node, IPG.reorganisedAs) is None


def test_a_local_document_without_its_place_keeps_printed_local_names():
    # the level is known (provincial) but not the province: 知识产权局 is that province's, not the state's
    refs = AgencyResolver(None, "provincial").resolve_list("知识产权局、国家知识产权局")
    assert [(r.canonical, r.level) for r in refs] == [("知识产权局", "provincial"), ("国家知识产权局", "national")]


@pytest.mark.parametrize("jurisdiction,level,expected", [
    ("示例市示例区", "district", ["示例市知识产权局", "示例市示例区科学技术局"]),  # the city the district is named with
    ("太仓市", "district", ["太仓市知识产权局", "太仓市科学技术局"]),  # a county-level city is its own 市
    ("示例县", "district", ["市知识产权局", "区科技局"]),  # a county's city is not named, nor is it a 区: not invented
    ("示例省", "provincial", ["市知识产权局", "区科技局"]),  # nor a province's cities and districts
])
def test_which_place_a_prefix_stands_for(jurisdiction, level, expected):
    refs = AgencyResolver(jurisdiction, level).resolve_list("市知识产权局、区科技局")
    assert [r.canonical for r in refs] == expected


def test_a_place_without_its_level_gets_the_level_its_name_shows():
    assert AgencyResolver("示例省", None).resolve("省财政厅").canonical == "示例省财政厅"
    assert AgencyResolver("示例市示例区", None).resolve("区科技局").canonical == "示例市示例区科学技术局"


def test_a_second_nameplate_is_also_named_not_reorganised():
    g, (node, local) = _agencies(AgencyResolver(None, "national").resolve("新闻出版广电总局(版权局)"),
                                 AgencyResolver("示例市", "municipal").resolve("市市场监管局(知识产权局)"))
    plate = next(g.objects(node, IPG.alsoNamed))
    assert _label(g, plate) == "国家版权局"
    assert (plate, IPG.alsoNamed, node) in g
    assert (plate, IPG.reorganisedAs, node) not in g
    # a local bracketed name stays a reorganisation
    assert {_label(g, s) for s in g.subjects(IPG.reorganisedAs, local)} == {"示例市知识产权局"}


def test_data_rows_are_well_formed():
    # a stray comma in a source note would shift every column after it
    for name, columns in (("agency_names.csv", 4), ("national_bodies.csv", 9)):
        rows = knowledge._csv_rows(name)
        assert rows and all(len(row) == columns and all(isinstance(v, str) for v in row.values()) for row in rows), name
    assert {r["scope"] for r in knowledge._csv_rows("agency_names.csv")} <= {"local", "provincial", "prefecture", "named"}


def test_customs_are_named_by_their_seat():
    ref = AgencyResolver("示例市", "municipal").resolve("拱北海关")
    assert ref.canonical == "拱北海关" and ref.jurisdiction is None


def test_central_bodies_printed_without_separators_are_split():
    refs = AgencyResolver(None, "national").resolve_list("国家知识产权局教育部科技部")
    assert [r.canonical for r in refs] == ["国家知识产权局", "教育部", "科学技术部"]
    # a name that only starts with a central body is one body
    assert [r.canonical for r in AgencyResolver(None, "national").resolve_list("国家知识产权局办公室")] == ["国家知识产权局办公室"]


def test_a_districts_police_is_a_branch_of_the_citys_bureau():
    district = AgencyResolver("示例市示例区", "district")
    assert district.resolve("公安示例分局").canonical == "示例市公安局示例分局"
    assert district.resolve("区公安分局").canonical == "示例市公安局示例分局"
    assert district.resolve("区公安局").canonical == "示例市示例区公安局"  # as printed: no branch named
    assert AgencyResolver("示例市", "municipal").resolve("公安示例分局").canonical == "示例市公安示例分局"
