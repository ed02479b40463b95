"""Lead and responsible agencies from every assignment format the rules know."""
from __future__ import annotations

import pytest

from ipgraph.extract.agencies import extract_assignments
from ipgraph.model import Measure, Span
from ipgraph.resolve import AgencyResolver

RESOLVER = AgencyResolver("天津市", "municipal")


def assign(text: str, resolver: AgencyResolver = RESOLVER):
    measure = Measure(number="1", printed="1.", text=text, span=Span(100, 100 + len(text), text), section=None)
    found = extract_assignments([measure], resolver)
    if not found:
        return None, None, None
    (a,) = found
    return [r.canonical for r in a.lead], [r.canonical for r in a.responsible], a


@pytest.mark.parametrize("text,lead,responsible", [
    ("建设平台。(市知识产权局牵头)", ["天津市知识产权局"], ["天津市知识产权局"]),
    ("建设平台。(市知识产权局负责)", ["天津市知识产权局"], ["天津市知识产权局"]),
    ("建设平台。(市知识产权局、市工商局负责)", [], ["天津市知识产权局", "天津市工商行政管理局"]),
    ("建设平台。(市知识产权局、市工商局按职责分工负责)", [], ["天津市知识产权局", "天津市工商行政管理局"]),
    ("建设平台。(市知识产权局会同市财政局负责)", ["天津市知识产权局"], ["天津市知识产权局", "天津市财政局"]),
    ("建设平台。(滨海新区人民政府会同有关部门负责)", ["天津市滨海新区人民政府"], ["天津市滨海新区人民政府"]),
    ("建设平台。(市知识产权局、市工商局、市版权局牵头)", ["天津市知识产权局", "天津市工商行政管理局", "天津市版权局"],
     ["天津市知识产权局", "天津市工商行政管理局", "天津市版权局"]),
    ("建设平台。(市知识产权局牵头,市科委、财政局配合)", ["天津市知识产权局"],
     ["天津市知识产权局", "天津市科学技术委员会", "天津市财政局"]),
    ("建设平台。[牵头单位:市市场监管局;责任单位:市发展改革委、科技局,各区县政府]", ["天津市市场监督管理局"],
     ["天津市市场监督管理局", "天津市发展和改革委员会", "天津市科学技术局", "天津市各区县人民政府"]),
    ("建设平台。[责任单位:市直有关部门,各区县政府]", [], ["天津市各区县人民政府"]),
    # a bracketed label group ends at its bracket: the item the layout ran on after it names no one of it
    ("建设平台。[责任单位:市直有关部门,各区县政府] (三)促进滨海新区、中心城区和各区县的知识产权资源流动。",
     [], ["天津市各区县人民政府"]),
    ("建设平台。【牵头单位】市知识产权局【配合单位】市财政局", ["天津市知识产权局"],
     ["天津市知识产权局", "天津市财政局"]),
    ("建设平台。\n牵头单位:市知识产权局\n配合单位:市财政局", ["天津市知识产权局"], ["天津市知识产权局", "天津市财政局"]),
    ("建设平台。[责任单位:市知识产权局(牵头),市财政局、科技局]", ["天津市知识产权局"],
     ["天津市知识产权局", "天津市财政局", "天津市科学技术局"]),
    ("建设平台。(市财政局、市知识产权局按职责分工负责,列第一位的为牵头单位)", ["天津市财政局"],
     ["天津市财政局", "天津市知识产权局"]),
])
def test_assignment_formats(text, lead, responsible):
    got_lead, got_responsible, assignment = assign(text)
    assert got_lead == lead
    assert got_responsible == responsible
    assert assignment.evidence.text.strip("([])").strip() in text


def test_national_document_lists_ministries():
    lead, responsible, _ = assign("推进保护。(市场监管总局、农业农村部、知识产权局负责)", AgencyResolver(None, "national"))
    assert lead == []
    assert responsible == ["国家市场监督管理总局", "农业农村部", "国家知识产权局"]


def test_prose_assignment_needs_a_body_as_subject():
    lead, responsible, a = assign("强化监督考评。宜昌市知识产权强市建设领导小组办公室会同相关部门开展督促指导。各县市区、各部门加强动态监测。",
                                  AgencyResolver("宜昌市", "municipal"))
    assert lead == ["宜昌市知识产权强市建设领导小组办公室"]
    assert responsible == ["宜昌市知识产权强市建设领导小组办公室", "宜昌市各县市区"]
    assert a.rule == "lead_agency.prose.v1"
    assert assign("增强支撑作用。指导各街镇、开发区加强宣传,建立沟通机制。") == (None, None, None)


@pytest.mark.parametrize("text", ["加强宣传。(见专栏1)", "开展专利导航(2021-2025年)。", "推动发展。"])
def test_no_assignment_no_agencies(text):
    assert assign(text) == (None, None, None)


def test_task_table_columns_with_header():
    from ipgraph.model import SourceDocument
    from ipgraph.pipeline import extract_document

    text = ("沈阳市知识产权工作任务分工\n一、重点任务\n序号 工作任务 牵头单位 配合单位\n"
            "1 实施专利导航工程,开展产业规划类专利导航 市市场监管局 市工业和信息化局、科技局\n"
            "2 推进知识产权质押融资 市金融发展局 市市场监管局\n")
    record = extract_document(SourceDocument(name="t.txt", text=text))
    got = {a.measure: ([r.canonical for r in a.lead], [r.canonical for r in a.responsible], a.rule) for a in record.assignments}
    assert got == {
        "1": (["沈阳市市场监督管理局"], ["沈阳市市场监督管理局", "沈阳市工业和信息化局", "沈阳市科学技术局"], "lead_agency.table.v1"),
        "2": (["沈阳市金融发展局"], ["沈阳市金融发展局", "沈阳市市场监督管理局"], "lead_agency.table.v1"),
    }


def test_provincial_document_full_width_brackets_and_collectives():
    from ipgraph.model import SourceDocument
    from ipgraph.pipeline import extract_document

    text = ("湖北省专利质押融资工作方案\n一、重点任务\n"
            "（一）扩大规模。推动银行开展质押融资。（省知识产权局、省财政厅、人民银行武汉分行按职责分工负责）\n"
            "（二）完善风险补偿。设立风险补偿资金。（省财政厅牵头，省知识产权局配合）\n"
            "二、保障措施\n１．加强组织领导。建立工作机制。（各市、州、县人民政府负责）\n")
    record = extract_document(SourceDocument(name="p.txt", text=text))
    assert record.parsed.meta.level == "provincial"
    got = {a.measure: ([r.canonical for r in a.lead], [r.canonical for r in a.responsible]) for a in record.assignments}
    assert got["1"] == ([], ["湖北省知识产权局", "湖北省财政厅", "人民银行武汉分行"])
    assert got["2"] == (["湖北省财政厅"], ["湖北省财政厅", "湖北省知识产权局"])
    assert got["2.1"] == (["湖北省各市、州、县人民政府"], ["湖北省各市、州、县人民政府"])


def test_articles_of_a_regulation_assign_in_prose():
    from ipgraph.model import SourceDocument
    from ipgraph.pipeline import extract_document

    text = ("苏州市知识产权促进办法\n第一章 总则\n第一条 为了促进知识产权创造运用,制定本办法。\n第二章 创造与运用\n"
            "第三条 市知识产权局负责组织实施专利导航工作。市财政局会同市科技局安排资金。\n第四条 鼓励企业开展质押融资。\n")
    record = extract_document(SourceDocument(name="r.txt", text=text))
    assert [m.number for m in record.parsed.measures] == ["3", "4"]
    (assignment,) = record.assignments
    assert assignment.rule == "lead_agency.prose.v1"
    assert [r.canonical for r in assignment.lead] == ["苏州市知识产权局", "苏州市财政局"]
    assert [r.canonical for r in assignment.responsible] == ["苏州市知识产权局", "苏州市财政局", "苏州市科学技术局"]
    assert assignment.evidence.text.startswith("市知识产权局负责") and assignment.evidence.text.endswith("安排资金。")
