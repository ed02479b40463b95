"""Structure of layouts beyond the shipped five (issue 10): prefaces numbered like tasks, task
tables, articles of regulations; metadata in the header forms governments publish; the
jurisdiction from every clue the text gives. Texts are made up (fictional places)."""
from __future__ import annotations

import pytest

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
    text = ("某市重点任务分工\n一、任务分工\n" + header + "|---|---|---|---|\n1|建设知识产权保护中心,开展快速预审|市知识产权局|市财政局\n"
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


def test_bracketed_label_block_and_placeholder_dates():
    text = ("【标题】青川市专利转化实施办法\n【发布机关】青川市人民政府\n【发文字号】青政发 〔2031〕 3号\n"
            "【发布日期】1900-01-01\n【实施日期】2031-05-01\n青川市专利转化实施办法\n第一条 市知识产权局负责专利转化工作。\n")
    meta = parse(text).meta
    assert meta.doc_number == "青政发〔2031〕3号"
    assert meta.date_published is None  # a placeholder, not a date
    assert meta.issuers == ["青川市人民政府"]
    assert meta.title == "青川市专利转化实施办法"
    assert meta.jurisdiction == "青川市" and meta.level == "municipal"


def test_portal_labels_and_values_on_separate_lines():
    text = ("发布机构:\n青川市知识产权局\n文号:\n青知发〔2031〕7号\n发布日期:\n2031-04-02\n\n"
            "青川市知识产权局关于开展专利质押融资工作的通知\n各县区知识产权局:\n为推进质押融资,现将有关事项通知如下。\n"
            "一、工作任务\n(一)扩大质押规模。推动银行开展质押融资业务。\n")
    meta = parse(text).meta
    assert (meta.doc_number, meta.date_published) == ("青知发〔2031〕7号", "2031-04-02")
    # a notice that hands nothing on is the document itself
    assert meta.title == "青川市知识产权局关于开展专利质押融资工作的通知"
    assert meta.notice_title is None
    assert meta.issuers == ["青川市知识产权局"]


def test_number_line_with_date_and_bracketed_number():
    text = ("省政府关于印发云岭省知识产权战略纲要的通知\n云政发〔2031〕1号 2031年1月5日\n各市、县人民政府:\n"
            "《云岭省知识产权战略纲要》已经省政府常务会议批准,现予印发,请认真组织实施。\n云岭省知识产权战略纲要\n"
            "一、战略重点\n1. 促进知识产权创造。支持企业培育核心专利。\n")
    meta = parse(text).meta
    assert (meta.doc_number, meta.date_signed) == ("云政发〔2031〕1号", "2031-01-05")
    assert meta.title == "云岭省知识产权战略纲要" and meta.doc_type == "纲要"
    assert meta.issuers == ["省政府"] and meta.jurisdiction == "云岭省" and meta.level == "provincial"
    text2 = ("青川市人民政府办公厅印发青川市知识产权工作分解方案的通知\n(青府办〔2031〕25号)\n各区人民政府:\n"
             "《青川市知识产权工作分解方案》已经市政府同意,现印发给你们。\n青川市人民政府办公厅\n二○三一年六月三十日\n")
    meta = parse(text2).meta
    assert meta.notice_title == "青川市人民政府办公厅印发青川市知识产权工作分解方案的通知"
    assert meta.title == "青川市知识产权工作分解方案" and meta.doc_type == "任务分工"
    assert (meta.doc_number, meta.date_signed) == ("青府办〔2031〕25号", "2031-06-30")
    assert meta.issuers == ["青川市人民政府办公厅"]


def test_repost_without_the_notice():
    text = ("青川印发2031年青川市打击侵权假冒工作要点\n\n"
            "青川市打击侵权假冒工作领导小组于2031年7月7日印发《2031年青川市打击侵权假冒工作要点》,全文如下:\n\n"
            "2031年青川市打击侵权假冒工作要点\n\n一、加大行政保护力度\n(一)加大商标权保护力度。严厉打击商标侵权行为。\n")
    meta = parse(text).meta
    assert meta.title == "2031年青川市打击侵权假冒工作要点"
    assert meta.issuers == ["青川市打击侵权假冒工作领导小组"]
    assert (meta.date_published, meta.date_signed) == ("2031-07-07", None)


def test_signature_block_of_several_bodies_and_a_collective_issuer():
    text = ("国知发运字〔2031〕5号\n各有关单位:\n国家知识产权局、教育部、科技部、工业和信息化部联合制定了《高校专利盘活工作方案》,"
            "现印发给你们,请遵照执行。\n特此通知。\n国家知识产权局 教育部\n科技部 工业和信息化部\n高校专利盘活工作方案\n"
            "一、总体要求\n坚持全面盘点。\n")
    meta = parse(text).meta
    assert meta.title == "高校专利盘活工作方案"
    assert meta.issuers == ["国家知识产权局", "教育部", "科技部", "工业和信息化部"]
    assert meta.level == "national" and meta.jurisdiction is None
    text2 = ("云岭省知识产权局等四部门关于印发《高校专利盘活实施方案》的通知\n各市知识产权局:\n"
             "为贯彻落实国家知识产权局等八部委印发的《高校专利盘活工作方案》有关部署,省知识产权局、省教育厅、省科学技术厅和"
             "省工业和信息化厅联合制定了《高校专利盘活实施方案》,现印发给你们,请遵照执行。\n特此通知。\n")
    meta = parse(text2).meta
    assert meta.issuers == ["省知识产权局", "省教育厅", "省科学技术厅", "省工业和信息化厅"]
    assert meta.title == "高校专利盘活实施方案"


def test_jurisdiction_from_the_clues_the_text_gives():
    # the district the title starts with, named in full by the signature
    text = ("区政府关于印发通州区云岭省知识产权保护示范区建设工作方案的通知\n各镇人民政府:\n"
            "《通州区云岭省知识产权保护示范区建设工作方案》已经区政府同意,现印发给你们。\n南通市通州区人民政府\n2031年2月17日\n")
    meta = parse(text).meta
    assert meta.jurisdiction == "南通市通州区" and meta.level == "district"
    assert meta.issuers == ["南通市通州区人民政府"]
    # a page that names its province only in cited titles; bodies written 省X局
    table = ("序号\t工作内容\t责任部门\n1\t推进专利保护,落实《浙江省专利条例》\t省知识产权局\n"
             "2\t开展《浙江省打击侵权专项行动方案》\t省市场监管局、公安厅\n")
    meta = parse(table).meta
    assert meta.jurisdiction == "浙江省" and meta.level == "provincial"
    # no clue: no guess
    assert parse("序号\t工作内容\t责任部门\n1\t推进专利保护工作\t有关部门\n").meta.jurisdiction is None


def test_county_level_city_is_district_level():
    text = ("市政府办公室关于印发《太仓市知识产权强县建设工作方案》的通知\n各镇人民政府:\n"
            "现将《太仓市知识产权强县建设工作方案》印发给你们。\n太仓市人民政府办公室\n2031年12月23日\n")
    meta = parse(text).meta
    assert meta.jurisdiction == "太仓市" and meta.level == "district"
    assert parse("沈阳市知识产权工作方案\n").meta.level == "municipal"


def test_pdf_text_items_run_on_and_page_numbers():
    text = ("青川市知识产权工作方案\n一、重点任务(一)提升专利质量。实施高价值专利培育计划,支持企业布局核\n- 3 -\n"
            "心专利。(市市场监管局负责)(二)强化保护协作。建设保护工作站,开展快速维权。(市公安局负责)二、保障措施"
            "(一)加强组织领导。建立联席会议制度,统筹推进。增长3.5倍。\n")
    doc = parse(text)
    assert [m.number for m in doc.measures] == ["1.1", "1.2", "2.1"]
    assert doc.measures[0].text == "提升专利质量。实施高价值专利培育计划,支持企业布局核心专利。(市市场监管局负责)"
    assert doc.measures[2].text.endswith("增长3.5倍。")


def test_task_table_group_column_is_no_task():
    text = ("序号\t工作重点\t工作内容\t责任单位\n1\t强化保护\t建设知识产权保护中心,开展快速预审\t市知识产权局\n"
            "\t强化保护\t\t\n2\t\t完善纠纷调解机制\t市司法局、市知识产权局\n")
    doc = parse(text)
    assert [m.text for m in doc.measures] == ["建设知识产权保护中心,开展快速预审\t市知识产权局", "完善纠纷调解机制\t市司法局、市知识产权局"]
    assert [m.number for m in doc.measures] == ["1", "2"]


def test_red_header_names_the_issuer():
    text = ("青川市人民政府文件\n青政发〔2031〕9号\n市政府关于印发加快知识产权强市建设实施方案的通知\n各县区人民政府:\n"
            "现将《加快知识产权强市建设实施方案》印发给你们,请认真贯彻执行。\n2031年3月1日\n加快知识产权强市建设实施方案\n")
    meta = parse(text).meta
    assert meta.issuers == ["青川市人民政府"]
    assert meta.jurisdiction == "青川市" and meta.title == "加快知识产权强市建设实施方案"
    assert meta.doc_number == "青政发〔2031〕9号" and meta.date_signed == "2031-03-01"


def test_a_body_sentence_about_an_earlier_issue_is_no_repost():
    text = ("青川市知识产权强市建设实施方案\n为贯彻落实有关部署,制定本方案。\n一、总体要求\n坚持创新驱动。\n"
            "国务院于2008年6月5日发布《国家知识产权战略纲要》以来,我市知识产权事业快速发展。\n二、重点任务\n"
            "(一)提升专利质量。实施高价值专利培育计划。\n")
    meta = parse(text).meta
    assert meta.title == "青川市知识产权强市建设实施方案"
    assert meta.date_published is None and meta.issuers == []


def test_title_in_brackets_and_issuers_side_by_side_in_the_notice():
    text = ("国家知识产权局 教育部关于印发《高校专利转化行动方案》的通知\n各有关单位:\n现将《高校专利转化行动方案》印发给你们。\n")
    meta = parse(text).meta
    assert meta.issuers == ["国家知识产权局", "教育部"] and meta.level == "national"
    assert meta.notice_title == "国家知识产权局教育部关于印发《高校专利转化行动方案》的通知"
    meta = parse("《青川市专利导航工作方案》\n一、重点任务\n(一)开展产业专利导航。建设导航服务基地。\n").meta
    assert meta.title == "青川市专利导航工作方案"


def test_a_district_named_alone_gets_its_city():
    # one city has a 浑南区; two have a 通州区, and the text names 南通 (南通高新区)
    assert parse("浑南区知识产权强区建设工作方案\n一、重点任务\n(一)提升质量。培育高价值专利。\n").meta.jurisdiction == "沈阳市浑南区"
    text = "通州区知识产权保护工作方案\n南通高新区管委会,各镇人民政府:\n一、重点任务\n(一)提升质量。培育高价值专利。\n"
    assert parse(text).meta.jurisdiction == "南通市通州区"
    assert parse("通州区知识产权保护工作方案\n一、重点任务\n(一)提升质量。培育高价值专利。\n").meta.jurisdiction == "通州区"


def test_an_attached_task_table_repeating_the_items_adds_no_measures():
    text = ("青川市专利转化工作方案\n一、重点任务\n(一)建设知识产权保护中心。开展快速预审,缩短审查周期。\n"
            "(二)推进专利质押融资。扩大质押规模,降低融资成本。\n二、保障措施\n(一)加强组织领导。建立联席会议制度。\n"
            "附件:重点任务分工表\n序号\t重点任务\t牵头单位\t配合单位\n1\t建设知识产权保护中心\t市知识产权局\t市财政局\n"
            "2\t推进专利质押融资\t市金融局\t市知识产权局\n3\t开展专利导航服务\t市科技局\t市知识产权局\n")
    doc = parse(text)
    assert [m.text.split("。")[0].split("\t")[0] for m in doc.measures] == [
        "建设知识产权保护中心", "推进专利质押融资", "加强组织领导", "开展专利导航服务"]
    assert doc.measures[0].assignment is not None and doc.measures[0].assignment.text == "市知识产权局\t市财政局"


def test_number_printed_after_the_notice_title():
    text = ("青川市人民政府办公厅关于印发青川市专利导航工作方案的通知(青府办发〔2031〕5号)\n各区人民政府:\n"
            "现将《青川市专利导航工作方案》印发给你们。\n")
    meta = parse(text).meta
    assert meta.notice_title == "青川市人民政府办公厅关于印发青川市专利导航工作方案的通知"
    assert meta.doc_number == "青府办发〔2031〕5号" and meta.issuers == ["青川市人民政府办公厅"]


def test_counties_with_long_names_and_a_district_only_implied():
    text = "长阳土家族自治县知识产权工作要点\n一、重点任务\n(一)提升质量。培育高价值专利。(县市场监管局负责)\n"
    meta = parse(text).meta
    assert meta.jurisdiction == "宜昌市长阳土家族自治县" and meta.level == "district"
    assert parse("宜昌市长阳土家族自治县知识产权工作要点\n").meta.jurisdiction == "宜昌市长阳土家族自治县"
    # no title, no issuer: bodies written 区X局, and the district the text names
    table = ("序号\t工作内容\t责任单位\n1\t建设浑南区知识产权保护工作站\t区市场监管局\n2\t开展专利导航\t区科技局、区财政局\n")
    assert parse(table).meta.jurisdiction == "沈阳市浑南区"


def test_issuers_printed_above_the_title():
    text = ("中共青川市委办公室 青川市人民政府办公室\n关于强化知识产权保护的实施意见\n(2031年3月5日)\n"
            "为强化知识产权保护,提出如下实施意见。\n一、加大惩戒力度\n1.加大刑事打击力度。(市公安局负责)\n")
    meta = parse(text).meta
    assert meta.title == "关于强化知识产权保护的实施意见"
    assert meta.issuers == ["中共青川市委办公室", "青川市人民政府办公室"]
    assert meta.jurisdiction == "青川市" and meta.date_signed == "2031-03-05"
    text = "青川县人民政府办公室文件\n青政办发〔2031〕12号\n县政府办公室关于印发青川县知识产权工作方案的通知\n各乡镇人民政府:\n"
    meta = parse(text).meta
    assert meta.notice_title == "县政府办公室关于印发青川县知识产权工作方案的通知"
    assert meta.issuers == ["青川县人民政府办公室"] and meta.doc_number == "青政办发〔2031〕12号"


def test_task_table_rows_that_lost_their_empty_cells_align_from_the_right():
    text = ("序号\t工作重点\t工作内容\t具体任务\t责任部门\n将恶意侵权纳入信用记录\t健全信用监督机制\t省信用办、知识产权局\n")
    (measure,) = parse(text).measures
    assert measure.title == "将恶意侵权纳入信用记录"
    assert measure.assignment is not None and measure.assignment.text == "省信用办、知识产权局"


def test_sentences_of_the_body_are_no_wrapper():
    text = ("青川市专利奖评选工作方案\n一、评选程序\n(一)组织评审。按照《青川市专利奖评选办法》组织评审,评选结果予以公布。\n"
            "(二)总结推广。市知识产权局、市财政局联合制定了《专利奖励细则》,现印发各单位执行。\n")
    meta = parse(text).meta
    assert meta.title == "青川市专利奖评选工作方案" and meta.issuers == []


def test_a_forwarded_notice_hands_on_the_plan_inside():
    text = ("青川市人民政府办公室关于转发《云川省人民政府办公厅关于印发云川省专利转化行动方案的通知》的通知\n各区人民政府:\n"
            "现将《云川省人民政府办公厅关于印发云川省专利转化行动方案的通知》转发给你们,请认真贯彻执行。\n")
    meta = parse(text).meta
    assert meta.title == "云川省专利转化行动方案"
    # the forwarding body issues it; the plan it hands on governs the province (its 省X厅 are that province's)
    assert meta.issuers == ["青川市人民政府办公室"] and meta.jurisdiction == "云川省"


def test_parts_that_look_back_hold_no_measures():
    text = ("青川市知识产权“十五五”规划\n一、“十四五”时期发展回顾\n(一)创造质量提升。发明专利拥有量达到5000件。\n"
            "二、面临的机遇与挑战\n(一)国际竞争加剧。知识产权成为竞争焦点。\n三、重点任务\n(一)提升专利质量。实施高价值专利培育计划。\n")
    doc = parse(text)
    assert [m.text for m in doc.measures] == ["提升专利质量。实施高价值专利培育计划。"]
    assert len(doc.background) == 2


def test_a_list_inside_an_item_is_not_split_off():
    text = ("青川市规划\n一、重点任务\n(一)完善保护体系。重点支持以下方向。1.专利;2.商标;3.版权。\n(二)提升运用效益。推动转化。\n")
    doc = parse(text)
    assert [m.text for m in doc.measures] == ["完善保护体系。重点支持以下方向。1.专利;2.商标;3.版权。", "提升运用效益。推动转化。"]


def test_a_long_run_on_line_restarts_numbering_per_section():
    body = "建立工作机制,明确责任分工,加强统筹协调,形成工作合力,确保各项任务落到实处。"
    text = ("青川市知识产权工作方案\n一、重点任务(一)提升专利质量。" + body + "(二)强化保护。" + body + "二、保障措施。"
            "(一)加强组织领导。" + body + "(二)强化考核。" + body + "\n")
    doc = parse(text)
    assert [m.number for m in doc.measures] == ["1.1", "1.2", "2.1", "2.2"]


def test_wiki_infobox_labels():
    text = "文号:青政发〔2031〕3号\n日期:2031年3月25日\n发布机关:青川市人民政府\n实施日期:2031-05-01\n青川市专利促进办法\n"
    meta = parse(text).meta
    assert (meta.doc_number, meta.date_signed, meta.issuers) == ("青政发〔2031〕3号", "2031-03-25", ["青川市人民政府"])
    assert parse("实施日期:2031-05-01\n青川市专利促进办法\n").meta.date_signed is None  # entry into force is no date of issue


def test_docx_task_table_end_to_end(tmp_path):
    docx = pytest.importorskip("docx")
    from ipgraph.pipeline import build_graph

    document = docx.Document()
    document.add_paragraph("青川市知识产权重点任务分工方案")
    table = document.add_table(rows=4, cols=5)
    rows = [["序号", "工作重点", "工作内容", "牵头单位", "配合单位"],
            ["1", "强化保护", "建设知识产权保护中心", "市知识产权局", "市财政局"],
            ["2", "", "推进快速维权", "市市场监管局", "市公安局"],
            ["3", "促进运用", "推进专利质押融资", "市金融局", "市知识产权局"]]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(1, 1).merge(table.cell(2, 1))  # a group cell merged down two rows
    document.save(tmp_path / "plan.docx")
    (record,) = build_graph([tmp_path / "plan.docx"]).records
    assert [m.text.split("\t")[0] for m in record.parsed.measures] == ["建设知识产权保护中心", "推进快速维权", "推进专利质押融资"]
    assert record.parsed.meta.jurisdiction == "青川市"
    got = {a.measure: ([r.canonical for r in a.lead], [r.canonical for r in a.responsible]) for a in record.assignments}
    assert got["2"] == (["青川市市场监督管理局"], ["青川市市场监督管理局", "青川市公安局"])


def test_attachment_label_is_not_part_of_the_title():
    text = ("青川市专利导航工作方案\n一、重点任务\n(一)开展专利导航。建设导航服务基地。\n")
    assert parse("附件1\n" + text).meta.title == "青川市专利导航工作方案"


def test_national_level_from_the_issuer_never_from_a_local_department():
    text = "市场监管总局 海关总署\n关于加强地理标志保护的意见\n一、重点任务\n(一)加强执法。查处侵权行为。\n"
    meta = parse(text).meta
    assert meta.issuers == ["市场监管总局", "海关总署"] and meta.level == "national" and meta.jurisdiction is None
    text = "中共青川市委宣传部\n关于加强版权保护的意见\n一、重点任务\n(一)加强执法。查处侵权行为。(市版权局负责)\n"
    meta = parse(text).meta
    assert meta.level == "municipal" and meta.jurisdiction == "青川市"
    assert meta.title == "关于加强版权保护的意见" and meta.issuers == ["中共青川市委宣传部"]


def test_a_goal_heading_that_also_names_the_tasks_holds_measures():
    text = ("青川市知识产权工作方案\n一、指导思想\n坚持创新驱动。\n二、工作目标和重点任务\n(一)提升专利质量。实施高价值专利培育计划。\n")
    assert [m.text for m in parse(text).measures] == ["提升专利质量。实施高价值专利培育计划。"]


def test_general_provisions_give_measures_only_where_they_give_work():
    text = ("青川市专利促进条例\n第一章 总则\n第一条 为了促进专利创造和运用,制定本条例。\n"
            "第二条 专利工作坚持激励创造、有效运用、依法保护的原则。\n"
            "第三条 市知识产权局负责本市专利工作的统一管理;各区人民政府应当加强专利工作。\n"
            "第二章 专利运用\n第四条 鼓励企业开展专利质押融资。\n第三章 附则\n第五条 本条例自2031年1月1日起施行。\n")
    assert [m.number for m in parse(text).measures] == ["3", "4"]


def test_the_printed_line_at_the_end_is_the_publication_date():
    text = ("青川市专利导航工作方案\n一、重点任务\n(一)开展专利导航。建设导航服务基地。\n"
            "抄送:市委办公室,市人大常委会办公室。\n青川市人民政府办公室 2031年5月28日印发\n")
    meta = parse(text).meta
    assert meta.date_published == "2031-05-28" and meta.date_signed is None


def test_an_indicator_table_without_a_title_is_a_table_for_the_targets():
    from ipgraph.extract.targets import extract_targets

    text = ("青川市知识产权规划\n一、主要目标\n到2030年,知识产权强市基本建成。\n"
            "指标\t单位\t2025年\t2030年\t属性\n每万人口高价值发明专利拥有量\t件\t10\t15\t预期性\n"
            "二、重点任务\n(一)提升质量。培育高价值专利。\n")
    doc = parse(text)
    assert [m.text for m in doc.measures] == ["提升质量。培育高价值专利。"]
    assert len(doc.tables) == 1 and len(doc.tables[0]) == 3
    (target,) = extract_targets(doc)
    assert (target.indicator, target.value, target.year) == ("每万人口高价值发明专利拥有量", 15.0, 2030)


def test_text_after_an_indicator_table_goes_on_with_its_item():
    text = ("青川市知识产权规划\n一、重点任务\n(一)提升质量。培育高价值专利,指标如下:\n"
            "指标\t2025年\t2030年\n发明专利拥有量\t10\t15\n力争专利质量明显提升。\n(二)强化保护。完善执法机制。\n")
    doc = parse(text)
    assert [m.text for m in doc.measures] == ["提升质量。培育高价值专利,指标如下:\n力争专利质量明显提升。", "强化保护。完善执法机制。"]


def test_task_table_row_broken_over_lines():
    text = ("序号\t工作内容\t具体任务\t责任部门\n1\t加强专业市场知识产权\n保护\t推进知识产权保护规范化\n市场培育工作\t省市场监管局\n"
            "2\t加强在线创意成果保护\t设立版权工作服务站\t省版权局\n")
    doc = parse(text)
    assert [m.title for m in doc.measures] == ["加强专业市场知识产权保护", "加强在线创意成果保护"]
    first = doc.measures[0]
    assert first.assignment is not None and first.assignment.text == "省市场监管局"
    assert "市场培育工作" in first.text
