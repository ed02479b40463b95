"""Structure of layouts beyond the shipped five (issue 10): prefaces numbered like tasks, task
tables, articles of regulations; metadata in the header forms governments publish; the
jurisdiction from every clue the text gives. Texts are made up (fictional places)."""
from __future__ import annotations

from ipgraph.model import SourceDocument
from ipgraph.structure import parse_document


def parse(text: str, name: str = "doc.txt"):
    return parse_document(SourceDocument(name=name, text=text))


def test_a_preface_numbered_like_tasks_holds_no_measures():
    text = ("云岭省知识产权战略纲要\n为实施知识产权战略,制定本纲要。\n一、序言\n"
            "1. 知识产权制度是开发和利用知识资源的基本制度,日益成为发展的战略性资源。\n"
            "2. 改革开放以来,我省知识产权事业迅速发展,管理体系逐步健全。\n"
            "二、总体思路\n以创新为导向,打通知识产权创造、运用、保护全链条,推动高质量发展。\n"
            "三、战略重点\n4. 促进知识产权创造和运用。支持企业培育核心专利。\n")
    doc = parse(text)
    assert [m.text for m in doc.measures] == ["促进知识产权创造和运用。支持企业培育核心专利。"]
    assert doc.background and text[doc.background[0].start:].startswith("一、序言")


TASK_TABLE = ("序号\t工作重点\t工作内容\t具体任务\t完成时限\t责任部门\n"
              "\t\t加强专业市场知识产权保护\t推进知识产权保护规范化市场培育\t2030年底\t省市场监管局、知识产权局\n"
              "\t\t加强在线创意成果保护\t设立版权工作服务站,开展“清风”专项行动\t\t省版权局\n")


def test_task_table_rows_are_measures_with_their_columns():
    doc = parse(TASK_TABLE)
    assert len(doc.measures) == 2
    first, second = doc.measures
    assert first.text.startswith("加强专业市场知识产权保护\t推进")
    assert first.title == "加强专业市场知识产权保护"
    assert first.assignment is not None and first.assignment.text == "省市场监管局、知识产权局"
    assert second.assignment is not None and second.assignment.text == "省版权局"
    assert "2030年底" not in (first.title or "")
    assert first.number != second.number


def test_task_table_header_repeated_per_page_and_numbered_rows():
    header = "序号|主要任务|牵头单位|配合单位\n"
    text = ("某市重点任务分工\n一、任务分工\n" + header + "1|建设知识产权保护中心,开展快速预审|市知识产权局|市财政局\n"
            + header + "2|推进专利质押融资|市金融局|市知识产权局\n二、保障措施\n(一)加强组织领导。建立联席会议制度,统筹推进各项工作。\n")
    doc = parse(text)
    assert [m.number for m in doc.measures] == ["1.1", "1.2", "1"]
    assert doc.measures[0].title is None  # one task cell: the row has no separate lead phrase
    assert doc.measures[1].assignment is not None and doc.measures[1].assignment.text == "市金融局|市知识产权局"
    assert all("序号" not in m.text for m in doc.measures)


def test_a_table_without_a_role_column_is_no_task_table():
    text = ("某市规划\n一、重点任务\n(一)提高质量。培育高价值专利,支持企业布局。\n"
            "指标\t2025年\t属性\n发明专利拥有量\t5000件\t预期性\n")
    doc = parse(text)
    assert [m.text for m in doc.measures] == ["提高质量。培育高价值专利,支持企业布局。"]


def test_articles_are_measures_only_when_they_give_work():
    text = ("青川市专利促进办法\n第一条 为了促进专利转化运用,根据有关法律法规,结合本市实际,制定本办法。\n"
            "第二条 本办法适用于本市行政区域内的专利创造、运用和保护活动。\n"
            "第三条 本办法所称专利转化,是指专利权人许可或者转让专利的活动。\n"
            "第四条 市知识产权局负责组织实施本办法,市财政局会同市科技局安排专项资金。\n"
            "第五条 鼓励金融机构开展专利质押融资。\n第六条 本办法由市知识产权局负责解释。\n"
            "第七条 本办法自2031年1月1日起施行。\n")
    doc = parse(text)
    assert [m.number for m in doc.measures] == ["4", "5"]
