"""Assignment clauses read as a grammar (lists of bodies closed by role verbs), bodies recognised by form."""
from __future__ import annotations

import pytest

from ipgraph.extract.agencies import extract_assignments, parse_phrases, table_header_roles
from ipgraph.model import Measure, Span
from ipgraph.resolve import AgencyResolver

PROVINCE = AgencyResolver("示例省", "provincial")
NATIONAL = AgencyResolver(None, "national")


def assign(text: str, resolver: AgencyResolver = PROVINCE, printed: str = "1.", full_text: str = ""):
    measure = Measure(number="1", printed=printed, text=text, span=Span(0, len(text), text), section=None)
    found = extract_assignments([measure], resolver, full_text)
    if not found:
        return None
    (a,) = found
    return [r.canonical for r in a.lead], [r.canonical for r in a.responsible], a


@pytest.mark.parametrize("marker", ["分别负责", "按职责分别负责", "按职责分工分别负责", "按照职责分工负责",
                                    "各负其责", "共同负责", "根据职责分工负责"])
def test_distribution_means_no_lead(marker):
    lead, responsible, _ = assign(f"1.推进保护。(省知识产权局、省版权局{marker})")
    assert lead == []
    assert responsible == ["示例省知识产权局", "示例省版权局"]


def test_a_body_the_data_does_not_know_is_counted_and_keeps_its_printed_name():
    # the second body is in no data file: it must not vanish and turn the first into the lead
    lead, responsible, _ = assign("1.推进保护。(省知识产权局、省数据资源统筹中心按职责分别负责)")
    assert lead == []
    assert responsible == ["示例省知识产权局", "示例省数据资源统筹中心"]
    lead, responsible, _ = assign("1.推进保护。(省知识产权局、省数据资源统筹中心负责)")
    assert lead == []  # two bodies named with 负责 share the work


def test_one_body_with_fuze_leads():
    assert assign("1.推进保护。(由省统计局负责)")[:2] == (["示例省统计局"], ["示例省统计局"])


@pytest.mark.parametrize("clause,lead,responsible", [
    ("(省市场监管局牵头,省公安厅、省检察院配合)", ["示例省市场监督管理局"],
     ["示例省市场监督管理局", "示例省公安厅", "示例省人民检察院"]),
    ("(省市场监管局牵头、省公安厅参与)", ["示例省市场监督管理局"], ["示例省市场监督管理局", "示例省公安厅"]),
    ("(由省知识产权局牵头,省科技厅、财政厅按职责分工负责)", ["示例省知识产权局"],
     ["示例省知识产权局", "示例省科学技术厅", "示例省财政厅"]),
    ("(省知识产权局会同省科技厅负责,省财政厅配合)", ["示例省知识产权局"],
     ["示例省知识产权局", "示例省科学技术厅", "示例省财政厅"]),
    ("(省知识产权局负责,省财政厅配合)", ["示例省知识产权局"], ["示例省知识产权局", "示例省财政厅"]),
    ("(省知识产权局牵头,有关部门参与)", ["示例省知识产权局"], ["示例省知识产权局"]),
    ("(省知识产权局、省知识产权协同创新中心负责)", [], ["示例省知识产权局", "示例省知识产权协同创新中心"]),
])
def test_lead_markers(clause, lead, responsible):
    got_lead, got_responsible, _ = assign("1.推进保护。" + clause)
    assert got_lead == lead
    assert got_responsible == responsible


def test_phrases_carry_their_roles():
    phrases = parse_phrases("省知识产权局会同省科技厅负责,省财政厅、省商务厅配合", PROVINCE)
    assert [(p.names, p.role) for p in phrases] == [
        (["省知识产权局"], "with"), (["省科技厅"], "job"), (["省财政厅", "省商务厅"], "support")]


def test_collective_of_a_named_group():
    lead, responsible, _ = assign("1.推进保护。(省知识产权战略实施工作联席会议各成员单位按职责分工分别负责)")
    assert (lead, responsible) == ([], ["示例省知识产权战略实施工作联席会议各成员单位"])
    lead, responsible, _ = assign("1.推进保护。(全国示范工作领导小组办公室、各成员单位按职责分工负责)", NATIONAL)
    assert responsible == ["全国示范工作领导小组办公室", "全国示范工作领导小组各成员单位"]
    assert assign("1.推进保护。(各成员单位按职责分工负责)") is None  # no named type: vague


def test_bracket_that_is_wholly_bodies():
    lead, responsible, _ = assign("1.推进保护。(省知识产权局、各市、县(市、区)政府)")
    assert (lead, responsible) == ([], ["示例省知识产权局", "示例省各市、县(市、区)人民政府"])
    assert assign("1.推进保护。(详见附件2)") is None


def test_assignment_on_the_line_after_the_item():
    lead, responsible, a = assign("1.建设服务网点。在各设区市布局网点。\n省知识产权局牵头,省科技厅、财政厅配合。")
    assert lead == ["示例省知识产权局"]
    assert responsible == ["示例省知识产权局", "示例省科学技术厅", "示例省财政厅"]
    assert a.evidence.text == "省知识产权局牵头,省科技厅、财政厅配合"
    lead, responsible, _ = assign("1.建设服务网点。在各设区市布局网点。\n省知识产权局、省科技厅")
    assert (lead, responsible) == ([], ["示例省知识产权局", "示例省科学技术厅"])


def test_a_last_sentence_with_an_object_is_not_a_clause():
    # "支持X、Y" names bodies but gives them no role; a bare list ending a sentence is not an assignment
    assert assign("1.建设服务网点。支持省知识产权局、省科技厅。") is None
    _, _, a = assign("1.建设服务网点。省知识产权局负责组织实施。")
    assert a.rule == "lead_agency.prose.v1"


@pytest.mark.parametrize("article,lead,responsible", [
    ("第二条 县知识产权局负责本县专利工作。", ["示例县知识产权局"], ["示例县知识产权局"]),
    ("第三条 县市场监管局应当加强专利执法。", ["示例县市场监督管理局"], ["示例县市场监督管理局"]),
    ("第四条 县知识产权局会同县公安局、县法院建立协作机制。", ["示例县知识产权局"],
     ["示例县知识产权局", "示例县公安局", "示例县人民法院"]),
    ("第五条 县财政局、县科工信局按职责分工做好资金保障。", [], ["示例县财政局", "示例县科工信局"]),
])
def test_regulation_articles_whose_subject_is_a_body(article, lead, responsible):
    got = assign(article, AgencyResolver("示例县", "district"), printed=article.split(" ")[0])
    assert got is not None
    assert got[0] == lead
    assert got[1] == responsible


def test_article_without_a_body_assigns_nothing():
    assert assign("第六条 本办法自发布之日起施行。", AgencyResolver("示例县", "district"), printed="第六条") is None


def test_task_table_with_one_duty_column():
    header = "序号\t工作重点\t工作内容\t具体任务\t成果形式\t责任部门\n"
    assert table_header_roles(header) == ["duty"]
    one = "\t\t加强在线保护\t支持建立版权工作站\t出台实施方案\t省版权局"
    several = "\t\t加强市场保护\t推进规范化市场培育\t遴选培育市场\t省工商局、知识产权局"
    assert assign(one, full_text=header + one, printed="")[:2] == (["示例省版权局"], ["示例省版权局"])
    assert assign(several, full_text=header + several, printed="")[:2] == (
        [], ["示例省工商行政管理局", "示例省知识产权局"])


CITY = AgencyResolver("示例市", "municipal")


@pytest.mark.parametrize("text,lead,responsible", [
    ("1.做好。【牵头单位】市知识产权局【配合单位】市财政局、市商务局", ["示例市知识产权局"],
     ["示例市知识产权局", "示例市财政局", "示例市商务局"]),
    ("1.做好。(市知识产权局为牵头单位,市财政局为责任单位)", ["示例市知识产权局"], ["示例市知识产权局", "示例市财政局"]),
    ("1.做好。(市知识产权局和市财政局负责)", [], ["示例市知识产权局", "示例市财政局"]),
    ("1.做好。(市工业和信息化局负责)", ["示例市工业和信息化局"], ["示例市工业和信息化局"]),
    ("1.做好。(市知识产权局牵头,市政府各部门、区各委办局、国务院有关部门配合)", ["示例市知识产权局"], ["示例市知识产权局"]),
    ("1.做好。由市知识产权局牵头,市财政局、市商务局配合,建立专利转化机制。", ["示例市知识产权局"],
     ["示例市知识产权局", "示例市财政局", "示例市商务局"]),
    ("1.做好。市知识产权局要会同市财政局、市商务局建立专利转化机制。", ["示例市知识产权局"],
     ["示例市知识产权局", "示例市财政局", "示例市商务局"]),
])
def test_more_clause_forms(text, lead, responsible):
    got = assign(text, CITY)
    assert got is not None
    assert got[0] == lead
    assert got[1] == responsible


def test_collective_of_the_kinds_of_place():
    refs = NATIONAL.resolve_list("各省、自治区、直辖市人民政府")
    assert [r.canonical for r in refs] == ["各省、自治区、直辖市人民政府"]


def test_several_bodies_each_in_charge_of_their_own_part_lead_nothing():
    lead, responsible, _ = assign("1.做好衔接。(工业和信息化部、商务部会同相关部门负责各自领域工作)", NATIONAL)
    assert lead == []
    assert responsible == ["工业和信息化部", "商务部"]  # "相关部门负责各自领域工作" is no body
    lead, _, _ = assign("1.做好衔接。(法制办会同相关部门负责)", NATIONAL)
    assert lead == ["国务院法制办公室"]


def test_a_collective_names_its_type():
    assert CITY.resolve("各镇(街道)") is not None and CITY.resolve("各高校") is not None
    assert CITY.resolve("相关部门负责各自领域工作") is None
    assert CITY.resolve("各地加强") is None


def test_task_table_with_columns_after_the_roles():
    header = "序号\t重点任务\t牵头单位\t配合单位\t完成时限\n"
    row = "1\t建设知识产权保护中心\t市知识产权局\t市财政局、市商务局\t2032年底前"
    lead, responsible, a = assign(row, CITY, full_text=header + row, printed="1")
    assert lead == ["示例市知识产权局"]
    assert responsible == ["示例市知识产权局", "示例市财政局", "示例市商务局"]
    assert a.evidence.text == "市知识产权局\t市财政局、市商务局"


def test_places_in_general_are_vague_and_collectives_stay_apart():
    assert [r.canonical for r in NATIONAL.resolve_list("各地区、各部门、地方各级人民政府")] == ["地方各级人民政府"]
    assert [r.canonical for r in CITY.resolve_list("各区、各开发区")] == ["示例市各区", "示例市各开发区"]
    assert [r.canonical for r in CITY.resolve_list("各区、县(市)政府")] == ["示例市各区、县(市)人民政府"]


@pytest.mark.parametrize("clause", ["［责任单位：市知识产权局］", "［市知识产权局负责]", "（市知识产权局负责)", "【市知识产权局负责］"])
def test_full_width_brackets(clause):
    lead, responsible, _ = assign("1.做好。" + clause, CITY)
    assert responsible == ["示例市知识产权局"]
    assert lead == ([] if "责任单位" in clause else ["示例市知识产权局"])


def test_a_bracket_inside_the_item():
    lead, responsible, a = assign("1.做好。加强保护(市知识产权局牵头,市财政局配合),2032年底前完成。", CITY)
    assert (lead, responsible) == (["示例市知识产权局"], ["示例市知识产权局", "示例市财政局"])
    assert a.evidence.text == "(市知识产权局牵头,市财政局配合)"
    # brackets that are not assignments: a period, an abbreviation
    assert assign("1.做好(2031—2033年)。建设市知识产权保护中心(以下简称保护中心)。加强保护。", CITY) is None


def test_prose_lead_then_bodies_sharing_the_work():
    district = AgencyResolver("示例市示例区", "district")
    lead, responsible, a = assign("1.做好。区市场监管局牵头,区委宣传部、区法院等部门按职责分工负责,建立转化机制。", district)
    assert lead == ["示例市示例区市场监督管理局"]
    assert responsible == ["示例市示例区市场监督管理局", "中共示例市示例区委员会宣传部", "示例市示例区人民法院"]
    assert a.rule == "lead_agency.prose.v1"


def test_each_leading_its_part():
    lead, responsible, _ = assign("1.做好。(市知识产权局、市版权局分别牵头,市财政局配合)", CITY)
    assert lead == ["示例市知识产权局", "示例市版权局"]
    assert responsible == ["示例市知识产权局", "示例市版权局", "示例市财政局"]


def test_regulation_subject_that_is_a_tier_of_government():
    got = assign("第五条 县级以上人民政府知识产权主管部门负责本行政区域内的专利管理工作。", PROVINCE, printed="第五条")
    assert got is not None and got[1] == ["示例省县级以上人民政府知识产权主管部门"]
    assert assign("第六条 任何单位和个人不得侵犯专利权。", PROVINCE, printed="第六条") is None


def test_huitong_partners_end_where_the_work_begins():
    lead, responsible, _ = assign("1.做好。由国家知识产权局会同教育部建设高校知识产权信息服务中心。", NATIONAL)
    assert (lead, responsible) == (["国家知识产权局"], ["国家知识产权局", "教育部"])


def test_each_sentence_with_its_own_bracket():
    lead, responsible, a = assign("1.推进修订商标法(市场监管总局负责)。加强版权执法(中央宣传部负责)。"
                                  "完善地理标志制度(知识产权局、农业农村部按职责分工负责)", NATIONAL)
    assert lead == ["国家市场监督管理总局", "中共中央宣传部"]
    assert responsible == ["国家市场监督管理总局", "中共中央宣传部", "国家知识产权局", "农业农村部"]
    assert a.evidence.text.startswith("(市场监管总局负责)") and a.evidence.text.endswith("按职责分工负责)")
    # a bracket that is no assignment adds nothing
    lead, responsible, _ = assign("1.推进修订(2031年)。加强执法(中央宣传部负责)", NATIONAL)
    assert (lead, responsible) == (["中共中央宣传部"], ["中共中央宣传部"])


def test_a_line_of_enterprises_is_not_an_assignment():
    assert assign("1.培育示范企业。遴选一批示范企业。\n示例甲科技有限公司、示例乙集团", CITY) is None


@pytest.mark.parametrize("text,lead", [
    ("1.做好。(牵头责任单位:市知识产权局;配合责任单位:市财政局)", ["示例市知识产权局"]),
    ("1.做好。\n主办单位:市知识产权局\n协办单位:市财政局", ["示例市知识产权局"]),
    ("1.做好。(责任主体:市知识产权局、市财政局)", []),
])
def test_more_role_labels(text, lead):
    got = assign(text, CITY)
    assert got is not None and got[0] == lead and got[1] == ["示例市知识产权局", "示例市财政局"]


def test_the_coordinating_body_leads():
    lead, responsible, _ = assign("1.做好。(市知识产权局统筹,各区县负责)", CITY)
    assert (lead, responsible) == (["示例市知识产权局"], ["示例市知识产权局", "示例市各区县"])


def test_short_role_labels_with_a_colon():
    lead, responsible, _ = assign("1.做好。\n牵头：市知识产权局\n配合：市财政局、各区县", CITY)
    assert lead == ["示例市知识产权局"]
    assert responsible == ["示例市知识产权局", "示例市财政局", "示例市各区县"]


def test_a_lead_marked_in_a_last_line():
    lead, responsible, _ = assign("1.做好。\n市知识产权局(牵头)、市财政局", CITY)
    assert (lead, responsible) == (["示例市知识产权局"], ["示例市知识产权局", "示例市财政局"])


def test_a_labelled_line_followed_by_other_fields():
    lead, responsible, _ = assign("1.做好。\n责任单位：市知识产权局、市财政局\n完成时限：2032年底", CITY)
    assert (lead, responsible) == ([], ["示例市知识产权局", "示例市财政局"])


def test_task_table_cell_with_a_marked_lead():
    header = "序号\t重点任务\t责任单位\n"
    row = "2\t建设知识产权保护中心\t市财政局、市知识产权局(牵头)"
    lead, responsible, _ = assign(row, CITY, full_text=header + row, printed="2")
    assert lead == ["示例市知识产权局"]
    assert responsible == ["示例市知识产权局", "示例市财政局"]
