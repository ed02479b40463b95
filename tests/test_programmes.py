"""Programmes: scheme forms matched through quotes and spaces, 专栏 boxes, discovery, suppression."""
from __future__ import annotations

from ipgraph.extract.programmes import extract_programmes, known_programmes, match_known
from ipgraph.model import Measure, Span


def mentions(text: str, full_text: str | None = None):
    measure = Measure(number="1", printed="1.", text=text, span=Span(0, len(text), text), section=None)
    return {m.canonical: m for m in extract_programmes([measure], full_text or text)}


def test_scheme_loads_with_forms():
    names = {p.canonical for p in known_programmes()}
    assert {"专利导航", "贯标", "“5+n”服务体系", "知识产权质押融资", "中国专利奖"} <= names


def test_forms_match_through_quotes_and_spaces():
    found = match_known("初步建立“5+n”服务体系,推进专利权质押融资和企业贯标,落实“双随机、一公开”。")
    assert {c for c, _, _ in found} == {"“5+n”服务体系", "知识产权质押融资", "贯标", "“双随机、一公开”"}


def test_patterns_and_evidence_sentence():
    found = mentions("完善专利资助政策。对获得国家、天津市专利奖的项目给予奖励。")
    assert set(found) == {"中国专利奖"}
    assert found["中国专利奖"].span.text == "对获得国家、天津市专利奖的项目给予奖励。"


def test_box_reference_names_the_box_programme_and_swallows_forms_inside_it():
    full = "专栏4 地理标志运用促进工程\n围绕特色农业。\n"
    found = mentions("培育地理标志。实施地理标志运用促进工程(见专栏4),提升品牌。", full + "x")
    assert set(found) == {"地理标志运用促进工程"}
    assert found["地理标志运用促进工程"].discovered


def test_discovery_keeps_named_ip_schemes_and_drops_phrases():
    found = mentions("开展知识产权“春雷”专项行动,实施知识产权强企工程,推进新一轮营商环境优化行动。")
    assert "“春雷”专项行动" in found and found["“春雷”专项行动"].discovered
    assert "知识产权强企工程" in found
    assert not any("营商环境" in name for name in found)


def test_nothing_from_plain_text():
    assert mentions("加强组织领导,统筹推进各项工作。") == {}


def test_campaigns_named_without_quotes_and_by_edition():
    found = mentions("开展第十二次剑网行动,制定《打击网络侵权盗版“剑网 2016”专项行动实施方案》,深入推进护航2023专项行动,"
                     "为企业保驾护航。")
    assert set(found) == {"“剑网”专项行动", "“护航”专项行动"}  # 保驾护航 is a phrase, not the campaign


def test_a_list_sharing_a_head_noun_names_each_programme():
    found = mentions("创建国家知识产权示范城市、园区和企业。")
    assert set(found) == {"知识产权示范城市", "知识产权试点示范企业", "国家知识产权示范园区"}
    assert found["国家知识产权示范园区"].discovered and found["国家知识产权示范园区"].surface == "国家知识产权示范园区"
    assert found["知识产权试点示范企业"].surface == "国家知识产权示范企业"
    # a qualifier of its own replaces the name's: 示范县、试点园区
    assert "知识产权强县试点园区" in mentions("推进知识产权强县建设示范县、试点园区建设。")
    # a list of things that are not heads is not read: 示范城市、园区外企业家
    assert set(mentions("建设知识产权示范城市、企业家队伍。")) == {"知识产权示范城市"}


def test_national_schemes_in_the_data():
    found = mentions("以驰名商标、中华老字号为重点,完善重点商标名录保护制度,推进知识产权保护规范化市场培育,"
                     "建设省级高价值专利育成中心。")
    assert set(found) == {"中华老字号", "重点商标保护名录", "知识产权保护规范化市场", "高价值专利培育"}


def test_campaigns_by_their_core_name_where_the_text_shows_a_campaign():
    found = mentions("深入开展护航、铁拳等专项执法行动,持续开展“龙腾”,为企业保驾护航,守护蓝天。")
    assert set(found) == {"“护航”专项行动", "“铁拳”行动", "“龙腾”专项行动"}
    assert mentions("为企业保驾护航,守护蓝天白云。") == {}


def test_the_scheme_names_each_programme_once():
    programmes = known_programmes()
    assert len({p.canonical for p in programmes}) == len(programmes)
    owner: dict[str, str] = {}
    for programme in programmes:
        for form in programme.forms:
            assert owner.setdefault(form, programme.canonical) == programme.canonical, form


def test_a_list_sharing_a_modifier_names_the_known_programmes_it_lists():
    found = mentions("推进知识产权质押、保险、证券化等金融服务,加强知识产权保护、运用和管理。")
    assert set(found) == {"知识产权质押融资", "专利保险", "知识产权证券化"}
    assert found["专利保险"].surface == "知识产权保险"
