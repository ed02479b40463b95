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
    ("建设平台。\n牵头单位:市知识产权局\n配合单位:市财政局", ["天津市知识产权局"], ["天津市知识产权局", "天津市财政局"]),
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
