"""Targets from sentences (comparators, counts, lists, years) and from indicator tables."""
from __future__ import annotations

import re

import pytest

from ipgraph.extract.targets import extract_targets, sentence_targets
from ipgraph.model import SourceDocument
from ipgraph.structure import parse_document


def targets(text: str):
    return [(t.indicator, t.value, t.unit, t.year, t.comparator) for t in sentence_targets(text, 0, len(text))]


@pytest.mark.parametrize("text,expected", [
    ("到2025年,每万人口高价值发明专利拥有量达到55件。", ("每万人口高价值发明专利拥有量", 55.0, "件", 2025, ">=")),
    ("专利转让超过6300件。", ("专利转让", 6300.0, "件", None, ">")),
    ("实现知识产权转让、许可数量年均增幅20%以上。", ("知识产权转让、许可数量年均增幅", 20.0, "%", None, ">=")),
    ("每年完成专利权质押融资额不低于5000万元。", ("每年完成专利权质押融资额", 5000.0, "万元", None, ">=")),
    ("到2025年,培育90家国家知识产权优势示范企业。", ("培育国家知识产权优势示范企业", 90.0, "家", 2025, "=")),
    ("引进或扶持成立至少2家专利信息分析利用服务机构。", ("引进或扶持成立专利信息分析利用服务机构", 2.0, "家", None, ">=")),
    ("每年筛选一批(不低于20家)企业。", ("每年筛选一批", 20.0, "家", None, ">=")),
    ("开展产业规划类专利导航6项。", ("开展产业规划类专利导航", 6.0, "项", None, "=")),
])
def test_sentence_patterns(text, expected):
    assert expected in targets(text)


def test_hard_wrapped_list_of_counts():
    found = targets("培育10家\n左右具有国际竞争优势的龙头企业,100家左右参与国际竞争的优势企业,1000家\n左右骨干企业。")
    assert [(v, c) for _, v, _, _, c in found] == [(10.0, "≈"), (100.0, "≈"), (1000.0, "≈")]


def test_conditions_are_not_targets():
    assert targets("放宽知识产权质押融资不良率3%以内的,可不作为扣分因素。") == []


def test_indicator_table_is_the_list_of_targets():
    text = ("某市规划\n二、总体要求\n(三)主要目标\n表1:主要指标\n指标 单位 2020年 2025年 属性\n"
            "年度发明专利授权量 775 1600 预期性\n有效注册商标量年均增长 % 8 预期性\n马德里商标有效注册量③ 76 ≥100 预期性\n"
            "注:①说明。\n1.创造量质齐升。每万人口高价值专利拥有量达到10件。\n三、重点任务\n1.培育专利。认定300个以上专利密集型产品。\n")
    found = extract_targets(parse_document(SourceDocument(name="p.txt", text=text)))
    assert [(t.indicator, t.value, t.unit, t.year, t.comparator) for t in found] == [
        ("年度发明专利授权量", 1600.0, None, 2025, "="), ("有效注册商标量年均增长", 8.0, "%", 2025, "="),
        ("马德里商标有效注册量", 100.0, None, 2025, ">=")]


def test_background_achievements_are_not_targets():
    text = "某市规划\n一、发展现状\n1.实力跨越。专利拥有量达到9件。\n二、重点任务\n1.培育专利。专利拥有量达到20件。\n"
    found = extract_targets(parse_document(SourceDocument(name="p.txt", text=text)))
    assert [t.value for t in found] == [20.0]
    assert found[0].measure == "1"


@pytest.mark.parametrize("text,expected", [
    ("PCT专利申请量达到6万件。", ("PCT专利申请量", 6.0, "万件", None, ">=")),
    ("植物新品种申请总量达到2.5万件。", ("植物新品种申请总量", 2.5, "万件", None, ">=")),
    ("年度知识产权质押融资金额达到1800亿元。", ("年度知识产权质押融资金额", 1800.0, "亿元", None, ">=")),
    ("举办小微企业知识产权培训班15 班次以上。", ("举办小微企业知识产权培训班", 15.0, "班次", None, ">=")),
    ("发明专利审查周期压缩至15个工作日。", ("发明专利审查周期", 15.0, "个工作日", None, "<=")),
    ("专利侵权案件结案率≥90%。", ("专利侵权案件结案率", 90.0, "%", None, ">=")),
    ("有效发明专利增至3000件。", ("有效发明专利", 3000.0, "件", None, ">=")),
])
def test_units_with_magnitudes_and_more_comparators(text, expected):
    assert expected in targets(text)


def test_a_year_line_dates_the_list_under_it():
    text = ("某省分工方案\n一、主要指标\n到2020年:\n1.每万人口发明专利拥有量达到12件。(某局负责)\n"
            "2.作品登记数量达到22万件。(某局负责)\n二、重点任务\n(一)推进。新增专利导航项目5个以上。\n")
    found = extract_targets(parse_document(SourceDocument(name="p.txt", text=text)))
    assert [(t.value, t.unit, t.year) for t in found] == [(12.0, "件", 2020), (22.0, "万件", 2020), (5.0, "个", None)]


def test_a_table_cell_ends_the_indicator():
    found = targets("提高企业保护能力\t举办企业知识产权培训班15班次以上\t某局")
    assert [(i, v) for i, v, *_ in found] == [("举办企业知识产权培训班", 15.0)]


@pytest.mark.parametrize("text,expected", [
    ("专利授权量年均增长10%。", ("专利授权量", 10.0, "%", None, ">=")),
    ("专利密集型产业增加值占比提高2个百分点。", ("专利密集型产业增加值占比", 2.0, "个百分点", None, ">=")),
    ("培育100余家知识产权优势企业。", ("培育知识产权优势企业", 100.0, "家", None, ">")),
])
def test_rates_and_more_than(text, expected):
    assert expected in targets(text)


def test_a_clause_that_goes_on_about_the_last_indicator():
    found = targets("知识产权质押融资额年均增长20%,累计突破5亿元。")
    assert ("知识产权质押融资额累计", 5.0, "亿元", None, ">") in found


# Issue 11, item 8: a 、-list of counts gave one target whose indicator ran on over the next counts
# ("创建市级专利试点、500家区级专利试点、100家示范单位、10家"). Sentences as the corpus prints them.
def test_a_list_of_counts_is_one_target_per_count():
    text = ("完成创建300家市级专利试点、\n500家区级专利试点、100家示范单位、10家优势创建单位,建立\n"
            "一批知识产权战略试点单位。")
    found = sentence_targets(text, 0, len(text))
    assert [(t.indicator, t.value, t.unit) for t in found] == [
        ("创建市级专利试点", 300.0, "家"), ("区级专利试点", 500.0, "家"),
        ("示范单位", 100.0, "家"), ("优势创建单位", 10.0, "家")]
    # each quotes its own count and object, and no other count
    assert [t.span.text.replace("\n", "") for t in found] == [
        "创建300家市级专利试点", "500家区级专利试点", "100家示范单位", "10家优势创建单位"]


def test_a_list_after_at_least_keeps_each_object_to_its_count():
    text = ("培育至少2家专利信息分析服务机构、2家贯标辅导能力突出的咨询服务机构、1家知识产权运营机构、"
            "1家专利诉讼维权能力突出的法律服务机构,建立至少1家示范城市知识产权培训基地。")
    assert sorted(targets(text)) == sorted([
        ("培育专利信息分析服务机构", 2.0, "家", None, ">="),
        ("贯标辅导能力突出的咨询服务机构", 2.0, "家", None, ">="),
        ("知识产权运营机构", 1.0, "家", None, ">="),
        ("专利诉讼维权能力突出的法律服务机构", 1.0, "家", None, ">="),
        ("建立示范城市知识产权培训基地", 1.0, "家", None, ">=")])


def test_a_list_takes_its_year_from_the_sentence():
    text = "到2025年,完成创建300家市级专利试点、500家区级专利试点。"
    assert [(v, u, y) for _, v, u, y, _ in targets(text)] == [(300.0, "家", 2025), (500.0, "家", 2025)]


def test_no_shipped_indicator_runs_into_another_count(corpus_dir):
    from ipgraph.read import read_document

    for path in sorted(corpus_dir.glob("*.txt")):
        for t in extract_targets(parse_document(read_document(path))):
            assert not re.search(r"、\d", t.indicator), (path.name, t.indicator)
            assert str(int(t.value)) in t.span.text.replace(" ", ""), (path.name, t.span.text)
