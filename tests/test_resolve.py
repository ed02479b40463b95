"""Agency name resolution: jurisdiction prefixes, distributed prefixes, abbreviations, collectives."""
from __future__ import annotations

import pytest

from ipgraph.resolve import AgencyResolver, split_agency_list

TIANJIN = AgencyResolver("天津市", "municipal")
BINHAI = AgencyResolver("天津市滨海新区", "district")
SHENYANG = AgencyResolver("沈阳市", "municipal")
NATIONAL = AgencyResolver(None, "national")


def canon(resolver: AgencyResolver, text: str) -> list[str]:
    return [ref.canonical for ref in resolver.resolve_list(text)]


@pytest.mark.parametrize("resolver,surface,canonical", [
    (TIANJIN, "市发展改革委", "天津市发展和改革委员会"),
    (TIANJIN, "市工商局", "天津市工商行政管理局"),
    (TIANJIN, "市国资委", "天津市人民政府国有资产监督管理委员会"),
    (TIANJIN, "市委宣传部", "中共天津市委员会宣传部"),
    (TIANJIN, "市高法院", "天津市高级人民法院"),
    (TIANJIN, "市妇联", "天津市妇女联合会"),
    (TIANJIN, "各区县人民政府", "天津市各区县人民政府"),
    (TIANJIN, "天津检验检疫局", "天津出入境检验检疫局"),
    (TIANJIN, "滨海新区人民政府", "天津市滨海新区人民政府"),
    (BINHAI, "区教体局", "天津市滨海新区教育体育局"),
    (BINHAI, "区委宣传部", "中共天津市滨海新区委员会宣传部"),
    (BINHAI, "各开发区", "天津市滨海新区各开发区"),
    (BINHAI, "区外办", "天津市滨海新区外事办公室"),
    (SHENYANG, "浑南区政府", "沈阳市浑南区人民政府"),
    (SHENYANG, "相关区、县(市)政府", "沈阳市相关区、县(市)人民政府"),
    (NATIONAL, "市场监管总局", "国家市场监督管理总局"),
    (NATIONAL, "知识产权局", "国家知识产权局"),
    (NATIONAL, "人民银行", "中国人民银行"),
])
def test_canonical_names(resolver, surface, canonical):
    assert canon(resolver, surface) == [canonical]


def test_jurisdiction_form_and_short_forms_are_aliases():
    (ref,) = TIANJIN.resolve_list("市发展改革委")
    assert ref.with_jurisdiction == "天津市发展改革委"
    assert "天津市发改委" in ref.aliases
    assert not any(a.startswith("市") for a in ref.aliases)  # never a bare form without the place


def test_distributed_prefix_carries_over_a_list():
    assert canon(SHENYANG, "市发展改革委、工业和信息化局、科技局,各区、县(市)政府") == [
        "沈阳市发展和改革委员会", "沈阳市工业和信息化局", "沈阳市科学技术局", "沈阳市各区、县(市)人民政府"]
    # 市场监管局 starts with 市场 (market), not with the prefix 市
    assert canon(SHENYANG, "市创新与转化中心、市场监管局") == ["沈阳市创新与转化中心", "沈阳市市场监督管理局"]


@pytest.mark.parametrize("vague", ["有关部门", "市直有关部门", "相关部门", "各有关部门", "各单位", "市各有关职能部门"])
def test_vague_references_are_not_agencies(vague):
    assert TIANJIN.resolve_list(vague) == []


def test_split_keeps_collective_bodies_and_names_with_he():
    assert split_agency_list("市工业和信息化局、各区、县(市)政府,市创新与转化中心") == [
        "市工业和信息化局", "各区、县(市)政府", "市创新与转化中心"]


def test_reorganised_body_keeps_both_names():
    (ref,) = AgencyResolver("宜昌市", "municipal").resolve_list("市市场监管局(知识产权局)")
    assert ref.canonical == "宜昌市市场监督管理局"
    assert ref.later_name == "宜昌市知识产权局"


def test_anchored_names():
    assert BINHAI.is_anchored("区知识产权局")
    assert BINHAI.is_anchored("各开发区")
    assert not BINHAI.is_anchored("指导各街镇")


def test_a_place_word_joins_the_next_item_only_across_list_punctuation() -> None:
    # 各区、县(市)政府 is one collective; a truncated list whose 各区 ends a line is not joined to the
    # next line (the joined name, 各区、发文机构:…, was written nowhere in the text)
    assert split_agency_list("科技局,各区、县(市)政府") == ["科技局", "各区、县(市)政府"]
    assert split_agency_list("科技局,各区、 县市政府") == ["科技局", "各区、县市政府"]
    for text in ("科技局,各区\n\n发文机构:沈阳市人民政府", "科技局,各区(市)\n\n发文机构:沈阳市人民政府",
                 "各区;县(市)政府"):
        names = split_agency_list(text)
        assert len(names) >= 2 and not any("、" in n for n in names), names
