"""Structure: layouts (one long line, hard line breaks, restarting numbers, 专栏 boxes, a table
of contents, footnotes) and document metadata, on hand-made texts and on the shipped corpus."""
from __future__ import annotations

import json

import pytest
from conftest import CORPUS, GOLD

from ipgraph.model import SourceDocument
from ipgraph.structure import parse_document, place_of, split_paragraphs
from ipgraph.textutil import cn_to_int, compare_form, parse_date


def parse(text: str, name: str = "doc.txt"):
    return parse_document(SourceDocument(name=name, text=text))


@pytest.mark.parametrize("numeral,value", [("一", 1), ("十", 10), ("十一", 11), ("三十四", 34), ("六十九", 69),
                                           ("一百零五", 105), ("二〇一〇", 2010), ("12", 12), ("甲", None)])
def test_cn_to_int(numeral, value):
    assert cn_to_int(numeral) == value


@pytest.mark.parametrize("text,iso", [("2020年9月28日", "2020-09-28"), ("发布日期:2020.07.06", "2020-07-06"),
                                      ("二〇一〇年三月十五日", "2010-03-15"), ("2024-09-25", "2024-09-25"), ("无日期", None)])
def test_parse_date(text, iso):
    assert parse_date(text) == iso


def test_one_long_line_is_split_into_paragraphs():
    text = "关于印发某市方案的通知 各区政府: 现将《某市方案》印发给你们。 某市人民政府 2020年9月28日 某市方案 一、重点任务 1.培育高价值专利。制定扶持政策,支持产业发展。[牵头单位:市市场监管局] 2.培育商标品牌。支持产业集群发展。[牵头单位:市市场监管局]" + " 补充" * 60
    paragraphs = [p.text for p in split_paragraphs(text)]
    assert "一、重点任务" in paragraphs
    assert any(p.startswith("2.培育商标品牌") for p in paragraphs)
    doc = parse(text)
    assert [m.number for m in doc.measures] == ["1", "2"]
    assert doc.measures[0].text.startswith("培育高价值专利。")


def test_hard_line_breaks_inside_sentences_are_joined():
    text = "某市任务分工\n一、打造龙头\n(一)创新行政管理体制,建立新型知\n识产权发展模式。(市知识产权局牵头)\n(二)加快基地建设,提高\n区域创新能力。(市科委负责)\n"
    doc = parse(text)
    assert [m.number for m in doc.measures] == ["1", "2"]
    assert doc.measures[0].text == "创新行政管理体制,建立新型知识产权发展模式。(市知识产权局牵头)"
    assert doc.measures[0].title is None  # a wrapped first line is no heading


def test_numbering_restarting_per_section_gets_qualified_numbers():
    text = ("某市规划\n\n三、重点任务\n\n(一)提高质量\n\n1.培育专利。支持企业。\n\n2.培育商标。支持品牌。\n\n"
            "(二)增进运用\n\n1.培育产业。制定目录。\n\n四、保障措施\n\n(一)加强组织领导\n\n坚持党的领导,压实责任。\n")
    doc = parse(text)
    assert [m.number for m in doc.measures] == ["3.1.1", "3.1.2", "3.2.1", "4.1"]
    assert doc.measures[-1].title == "加强组织领导"
    assert "坚持党的领导" in doc.measures[-1].text
    assert {s.number for s in doc.sections} >= {"3", "3.1", "3.2", "4"}


def test_background_principles_and_goals_hold_no_measures():
    text = ("某区工作方案\n一、总体要求\n全面贯彻落实。\n二、基本原则\n(一)突出改革创新\n积极开展改革。\n"
            "三、主要目标\n1.专利数量提升。达到100件。\n四、重点任务\n1.建立工作体系。与专利导航衔接。\n")
    doc = parse(text)
    assert [m.text for m in doc.measures] == ["建立工作体系。与专利导航衔接。"]


def test_boxes_footnotes_and_table_of_contents_are_not_measure_text():
    text = ("某市规划\n一、规划背景\n(一)发展现状\n二、重点任务\n(一)提高创造质量\n"
            "为贯彻落实有关部署,制定本规划。\n"
            "一、规划背景\n(一)发展现状\n1.实力跨越。专利增长。\n二、重点任务\n(一)提高创造质量\n"
            "1.培育高价值专利。开展专利导航①工作。\n①专利导航:指以专利信息资源利用为基础的工作。\n"
            "专栏1 高价值专利培育工程\n支持企业开展高价值专利培育。\n"
            "2.发展种业知识产权。支持种质创新。\n")
    doc = parse(text)
    assert [m.number for m in doc.measures] == ["1", "2"]
    first, second = doc.measures
    assert "专利导航:指" not in first.text and "专栏" not in first.text and "支持企业开展" not in first.text
    assert second.text == "发展种业知识产权。支持种质创新。"


def test_page_furniture_after_the_last_measure_is_dropped():
    text = "某区方案\n二、重点任务\n1.加强组织领导。统筹推进。(区知识产权局负责)\n扫一扫在手机打开当前页\n全国各省市政府网站\n"
    doc = parse(text)
    assert doc.measures[0].text.endswith("(区知识产权局负责)")


def test_notice_metadata_and_header_table():
    text = ("名  称: 某市某区人民政府办公室关于印发某区专利行动实施方案的通知\n文  号: 某区政办发〔2024〕9号\n成文日期: 2024-09-02\n"
            "发文日期: 2024-09-25\n\n某市某区人民政府办公室关于印发\n\n某区专利行动实施方案的通知\n\n各单位:\n\n"
            "现将《某区专利行动实施方案》印发给你们,请照此执行。\n\n某市某区人民政府办公室\n\n2024年9月10日\n\n"
            "某区专利行动实施方案\n\n一、重点任务\n1.推动专利转化。建立机制。(区知识产权局负责)\n")
    meta = parse(text).meta
    assert meta.title == "某区专利行动实施方案"
    assert meta.notice_title == "某市某区人民政府办公室关于印发某区专利行动实施方案的通知"
    assert meta.doc_number == "某区政办发〔2024〕9号"
    assert meta.date_signed == "2024-09-10"  # the signature date in the text, not the header's 成文日期
    assert meta.date_published == "2024-09-25"
    assert meta.issuers == ["某市某区人民政府办公室"]
    assert meta.doc_type == "实施方案"


@pytest.mark.parametrize("name,place", [("天津市滨海新区强化专利转化运用专项行动实施方案", "天津市滨海新区"),
                                         ("沈阳市知识产权运营服务体系建设实施方案", "沈阳市"),
                                         ("湖北省知识产权“十四五”规划", "湖北省"), ("宜都市知识产权工作要点", "宜都市"),
                                         ("实施天津市知识产权战略纲要任务分工", "天津市"), ("关于加快发展的意见", None),
                                         ("市场监管工作方案", None)])
def test_place_of(name, place):
    assert place_of(name) == place


GOLD_FILES = sorted(GOLD.glob("*.json"))


@pytest.mark.parametrize("gold_file", GOLD_FILES, ids=[g.stem[:3] for g in GOLD_FILES])
def test_corpus_measures_and_metadata_match_gold(gold_file):
    gold = json.loads(gold_file.read_text(encoding="utf-8"))
    text = (CORPUS / gold["file"]).read_text(encoding="utf-8")
    doc = parse(text, gold["file"])
    texts = [compare_form(m.text) for m in doc.measures]
    for measure in gold["measures"]:
        anchor = compare_form(measure["anchor"])
        assert sum(anchor in t for t in texts) == 1, measure["anchor"]
    assert len(doc.measures) == len(gold["measures"])
    meta = gold["document"]
    for field in ("title", "notice_title", "doc_number", "date_signed", "date_published", "jurisdiction", "level", "doc_type"):
        assert getattr(doc.meta, field) == meta[field], field


def test_sentence_around_spans_hard_line_breaks_but_not_blank_lines():
    from ipgraph.textutil import sentence_around

    text = "上一句。开展知识产权\n质押融资工作,扩大规模。\n\n下一段"
    start = text.index("质押")
    a, b = sentence_around(text, start, start + 2)
    assert text[a:b] == "开展知识产权\n质押融资工作,扩大规模。"
    a, b = sentence_around(text, text.index("下一段"), len(text))
    assert text[a:b] == "下一段"
