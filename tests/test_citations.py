"""Citations: titles with 文号, drafts versus cites, exclusions, one key per directive, levels."""
from __future__ import annotations

from ipgraph.extract.citations import citation_level, directive_key, extract_citations
from ipgraph.model import SourceDocument
from ipgraph.structure import parse_document


def cite(text: str):
    parsed = parse_document(SourceDocument(name="doc.txt", text=text))
    return {c.title or c.doc_number: c for c in extract_citations(parsed, parsed.background)}


DOC = (
    "某市知识产权实施方案\n\n"
    "为贯彻落实《国务院办公厅关于印发〈专利转化运用专项行动方案(2023—2025年)〉的通知》(国办发〔2023〕37号)"
    "和《天津市知识产权战略纲要》(以下简称《纲要》),制定本方案。\n\n"
    "一、规划背景\n出台《某市知识产权质押融资实施办法》等文件。\n\n"
    "二、重点任务\n1.完善制度。根据《纲要》要求,研究制定《某市专利促进条例》、《某市著作权保护条例》,"
    "贯彻国家标准《企业知识产权管理规范》(GB/T29490-2013),在《中国知识产权报》宣传,落实某发〔2019〕5号文件。\n"
)


def test_titles_numbers_kinds_and_exclusions():
    found = cite(DOC)
    assert set(found) == {"专利转化运用专项行动方案(2023—2025年)", "天津市知识产权战略纲要", "某市知识产权质押融资实施办法",
                          "某市专利促进条例", "某市著作权保护条例", "企业知识产权管理规范", "某发〔2019〕5号"}
    assert found["专利转化运用专项行动方案(2023—2025年)"].doc_number == "国办发〔2023〕37号"
    assert found["专利转化运用专项行动方案(2023—2025年)"].level == "national"
    assert found["企业知识产权管理规范"].doc_number == "GB/T29490-2013"
    assert found["某市专利促进条例"].kind == "drafts"
    assert found["某市著作权保护条例"].kind == "drafts"  # 制定《A》、《B》: the verb governs the list
    assert found["某市知识产权质押融资实施办法"].kind == "cites"  # 出台 in the background tells the past
    assert found["天津市知识产权战略纲要"].kind == "cites"
    assert "纲要" not in found  # the abbreviation folds into the title it stands for
    assert "中国知识产权报" not in found


def test_own_title_is_not_a_citation():
    found = cite("某市实施方案\n\n现将《某市实施方案》印发给你们。\n\n一、重点任务\n1.落实《某市实施方案》。推进。\n")
    assert found == {}


def test_one_key_whichever_way_a_directive_is_written():
    wrapped = directive_key("国务院办公厅关于印发〈专利转化运用专项行动方案(2023—2025年)〉的通知", None)
    assert wrapped == directive_key("专利转化运用专项行动方案(2023-2025年)", None)
    assert directive_key("财政部办公厅关于做好知识产权运营工作的通知", None) == directive_key("关于做好知识产权运营工作的通知", None)


def test_levels():
    assert citation_level("湖北省知识产权“十四五”规划", None, "cites", "municipal") == "provincial"
    assert citation_level("专利合作条约", None, "cites", "municipal") == "international"
    assert citation_level(None, "津政办发〔2024〕14号", "cites", "district") == "municipal"
    assert citation_level(None, "鄂政发〔2021〕3号", "cites", "municipal") == "provincial"
    assert citation_level("产业知识产权联盟服务管理办法", None, "drafts", "municipal") == "municipal"
    assert citation_level("知识产权强国建设纲要(2021-2035年)", None, "cites", "municipal") == "national"


def test_revising_an_instrument_cites_it_making_one_drafts_it():
    found = cite("某市工作要点\n\n一、重点任务\n1.完善制度。推进修订《某市专利条例》《某市商标办法》,推进制定《某市代理办法》。"
                 "完成《某市复议规程》修改。制定发布《某市许可指引》。\n")
    assert {t: c.kind for t, c in found.items()} == {
        "某市专利条例": "cites", "某市商标办法": "cites", "某市代理办法": "drafts", "某市复议规程": "cites",
        "某市许可指引": "drafts"}


def test_level_from_the_body_written_before_the_title():
    found = cite("青禾区工作方案\n\n为落实中共中央办公厅、国务院办公厅印发的《关于加强保护的意见》及省委、省政府"
                 "《关于加强保护的实施意见》和市政府《关于加强保护的若干措施》,制定本方案。\n\n一、重点任务\n1.推进。\n")
    assert found["关于加强保护的意见"].level == "national"
    assert found["关于加强保护的实施意见"].level == "provincial"
    assert found["关于加强保护的若干措施"].level == "municipal"


def test_levels_of_places_and_numbers():
    # 自治区 ends in 区 but is a province; a city's own 文号 abbreviation (穗 is 广州) is municipal
    assert citation_level("内蒙古自治区人民政府关于加快知识产权强区建设的实施意见", None, "cites", "municipal") == "provincial"
    assert citation_level("关于加强知识产权工作的意见", "穗府〔2006〕58号", "cites", "municipal") == "municipal"
    assert citation_level("印发广州创建知识产权示范城市工作方案的通知", None, "cites", "municipal") == "municipal"
    assert citation_level(None, "苏知发〔2021〕3号", "cites", "district") == "provincial"
    assert citation_level(None, "津滨政办发〔2024〕9号", "cites", "district") == "district"
    assert citation_level(None, "打假发〔2022〕1号", "cites", "municipal") == "national"


def test_the_title_a_notice_transmits_is_the_document_itself():
    # metadata may miss the title; the notice's own words still show which title is the document
    found = cite("关于印发的通知\n各单位:\n《青禾市知识产权工作分解方案》已经市政府同意,现印发给你们,请认真贯彻执行。\n\n"
                 "领导小组印发《青禾市打假工作要点》,全文如下:\n\n青禾市保护工作方案\n\n一、重点任务\n"
                 "1.落实《青禾市保护工作方案》。《青禾市专利办法》印发以来,成效明显。\n")
    assert set(found) == {"青禾市专利办法"}


def test_levels_relative_to_the_document():
    # 《市知识产权局关于…》 names the document's own city; 市场监管总局 is no city
    assert citation_level("市知识产权局关于印发专利资助办法的通知", None, "cites", "municipal") == "municipal"
    assert citation_level("省知识产权局关于加强保护的意见", None, "cites", "municipal") == "provincial"
    assert citation_level("市场监管总局关于加强保护的意见", None, "cites", "municipal") == "national"
    # an abbreviation the data does not know, shared with the document's own 文号
    assert citation_level(None, "禾政发〔2020〕3号", "cites", "municipal", own_number="禾政办发〔2024〕1号") == "municipal"


def test_level_from_departments_and_named_places_before_the_title():
    found = cite("某县实施方案\n\n为落实省知识产权局《关于甲的通知》、江苏省人民政府《关于乙的意见》、市市场监管局"
                 "《关于丙的办法》和市场监管总局《关于丁的规定》,按照县委、县政府《关于戊的决定》,制定本方案。\n\n"
                 "一、重点任务\n1.推进。\n")
    assert {t: c.level for t, c in found.items()} == {
        "关于甲的通知": "provincial", "关于乙的意见": "provincial", "关于丙的办法": "municipal",
        "关于丁的规定": "national", "关于戊的决定": "district"}


def test_level_of_a_named_province_or_city_before_the_title():
    found = cite("某市方案\n\n根据内蒙古自治区人民政府《关于甲的意见》和南京市江宁区人民政府《关于乙的意见》及教育部"
                 "《关于丙的通知》,制定本方案。\n\n一、重点任务\n1.推进。\n")
    assert {t: c.level for t, c in found.items()} == {
        "关于甲的意见": "provincial", "关于乙的意见": "district", "关于丙的通知": "national"}


def test_every_citation_has_a_level():
    # a document whose own level is unknown still gives its drafts a level (the shapes require one)
    assert citation_level("某办法", None, "drafts", None) == "national"
    # a local government's 文号 the data does not know is not national
    assert citation_level(None, "宁政发〔2020〕3号", "cites", "district") == "district"
    assert citation_level(None, "宁政发〔2020〕3号", "cites", "national") == "provincial"
    assert citation_level(None, "国发〔2020〕3号", "cites", "district") == "national"


def test_rules_made_under_a_title_cite_the_title():
    found = cite("某市方案\n\n一、重点任务\n1.完善制度。制定《某市专利条例》实施细则,制定《某市商标办法》。\n")
    assert {t: c.kind for t, c in found.items()} == {"某市专利条例": "cites", "某市商标办法": "drafts"}
