"""Stage 4: resolve agency mentions to canonical bodies.

Chinese policy texts name bodies relative to the issuing government: "市知识产权局" in a
天津市 document is 天津市知识产权局, "区教体局" in a 滨海新区 document is 天津市滨海新区教育体育局.
A list shares its first prefix ("市发展改革委、工业和信息化局、科技局" are three 市 bodies).
Abbreviations are expanded from data/agency_names.csv; every form seen is kept as an alias.
Central bodies, under the names they bore before and after each State Council reorganisation,
come from data/national_bodies.csv. A name is a body by its form (ORG_SUFFIX, a collective of a
named type), not because a data file lists it; a prefix whose place the document does not give
keeps the printed name instead of an invented place.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from ipgraph import knowledge
from ipgraph.model import AgencyRef
from ipgraph.structure import is_zone, level_of_place, place_of

_WS = re.compile(r"\s+")  # compiled once: the module-level re functions look it up on every call

# References with no type of body: "有关部门", "市直有关部门", "各有关单位" (GOLD_SPEC: not agencies).
VAGUE = re.compile(
    r"^(?:[省市区县]直?|[省市区县]级|[省市区县]政府)?(?:各|其他)?(?:有关|相关|其他|其它|各)?(?:职能)?(?:部门|单位|方面|机构|成员单位|责任单位)(?:和单位|等)?$"
    r"|^(?:[省市区县])?各(?:有关|相关)?(?:职能)?(?:部门|单位)$"
    r"|^(?:有关|相关)(?:部门|单位|方面)(?:和|及)?(?:单位|部门)?$"
    # whoever the owner, "有关部门" names no type of body: 国务院有关部门, 省直有关单位, 市政府各部门, 区各委办局
    r"|^.{0,12}?(?:有关|相关|其他|其它)(?:职能)?(?:部门|单位|方面|机构|委办局)(?:和单位|等)?$"
    r"|^.{0,12}?各(?:职能)?(?:部门|单位|部委|委办局|直属单位|直属机构)$"
    r"|^(?:各|有关|相关)?(?:地区|地方|各地)$"  # 各地区、各部门: places in general, no body
)
# A collective of a named type of body: 各区县人民政府, 各开发区, 相关区、县(市)政府, 各街镇.
COLLECTIVE = re.compile(r"^(?:各|相关|有关)(?=[\u4e00-\u9fff(（])")
# …and ends with its type: a kind of body or of place (各街镇, 各县市区, 各镇(街道), 各高校), not a verb phrase
COLLECTIVE_TYPE = re.compile(r"(?:[区县市镇乡街旗州]|街道|社区|园区|高校|院校|[)）])$")
# A bare prefix that stands for the issuing government's place.
PREFIX = re.compile(r"^(?P<party>中共)?(?P<p>[省市区县])(?!场|域|属|直有关|级|民)")
# Names that carry their own identity: companies, banks, bodies named with a place or the state.
PROPER_MARKERS = re.compile(r"^(?:中国|中华人民共和国|国家|全国|中共|中央)|(?:公司|集团|银行|分行|支行|大学|学院|研究院|研究所)")
ORG_SUFFIX = re.compile(
    r"(?:人民政府|政府|办公厅|办公室|委员会|管委会|委|局|厅|部|署|院|办|中心|会|所|队|处|室|站|公司|集团|银行|分行|支行|分局|"
    r"海关|法院|检察院|大学|学院|联合会|协会|学会|小组|工作组|专班|联席会议|联盟|科|园区|开发区|新区|街镇|乡镇|街道|单位|机构|部门|区|县|市|联|协)$"
)


@dataclass(frozen=True)
class Abbreviation:
    short: str
    full: str
    scope: str


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, list[Abbreviation]]:
    table: dict[str, list[Abbreviation]] = {}
    for row in knowledge._csv_rows("agency_names.csv"):
        table.setdefault(row["scope"], []).append(Abbreviation(row["short"], row["full"], row["scope"]))
    for rows in table.values():
        rows.sort(key=lambda a: len(a.short), reverse=True)
    return table


@lru_cache(maxsize=1)
def _named_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The "named" rows as compiled patterns: {p}银监局 matches 天津银监局 with p = 天津."""
    return tuple(
        (re.compile("^" + re.escape(abbr.short).replace(r"\{p\}", r"(?P<p>[\u4e00-\u9fff]{2,3})") + "$"), abbr.full)
        for abbr in abbreviations().get("named", [])
    )


@lru_cache(maxsize=1)
def _local_shorts() -> tuple[list[int], dict[str, list[Abbreviation]]]:
    """The local abbreviations by short form, and the lengths of the short forms, longest first."""
    by_short: dict[str, list[Abbreviation]] = {}
    for abbr in abbreviations().get("local", []):
        by_short.setdefault(abbr.short, []).append(abbr)
    return sorted({len(k) for k in by_short}, reverse=True), by_short


def _local_by_suffix(body: str) -> list[Abbreviation]:
    """The local abbreviations whose short form ends `body`, in the table's order (longest first):
    the only ones _expand can use, found by the body's suffixes instead of a pass over the table."""
    lengths, by_short = _local_shorts()
    return [abbr for n in lengths if n <= len(body) for abbr in by_short.get(body[len(body) - n:], ())]


def _short_forms(full_template: str) -> list[str]:
    """Other local short forms of the same full name (发展和改革委员会 → 发展改革委, 发改委 …)."""
    return [a.short for a in abbreviations().get("local", []) if a.full == full_template]


@dataclass
class Context:
    """Where a document stands: its place and the places above it."""

    jurisdiction: str | None  # 天津市滨海新区
    level: str | None  # district
    city: str | None = None  # 天津市
    province: str | None = None  # 湖北省 (None for a municipality directly under the state)

    @classmethod
    def of(cls, jurisdiction: str | None, level: str | None) -> Context:
        city = province = None
        if jurisdiction:
            found = knowledge.find_places(jurisdiction)
            for _, name in found:
                place = knowledge.places()[name]
                if place.level == "provincial":
                    province = name
                elif place.level == "municipal":
                    city = name
                    if place.within:
                        province = place.within
            if level == "municipal" and not city:
                city = jurisdiction
            if level == "district" and not city:
                # 示例市示例区: the city a district is named with stands for 市 in its documents
                named_with = re.match(r"^(.{2,6}?市)(?=.{1,8}?(?:新区|区|县|旗)$)", jurisdiction)
                city = named_with.group(1) if named_with else None
            if level == "provincial" and not province:
                province = jurisdiction
        return cls(jurisdiction, level, city, province)

    def place_for(self, prefix: str) -> tuple[str | None, str | None]:
        """The place and level a bare 市/区/县/省 prefix stands for in this document."""
        if prefix == "市":
            if self.city:
                return self.city, "municipal"
            # the document's own city (or county-level city); a county's or a province's 市 is a city the
            # document does not name: no place rather than the county or the province
            own = self.jurisdiction if self.jurisdiction and (
                self.level in ("municipal", None) or (self.level == "district" and self.jurisdiction.endswith("市"))) else None
            return own, "municipal"
        if prefix in "区县":
            # 区 in a district's document, 县 in a county's; a county never calls itself 区
            if self.level == "district" and self.jurisdiction and not (
                    self.jurisdiction.endswith(("区", "县")) and not self.jurisdiction.endswith(prefix)):
                return self.jurisdiction, "district"
            return None, "district"
        if prefix == "省":
            return (self.province or (self.jurisdiction if self.level == "provincial" else None)), "provincial"
        return None, None


# the kinds of place a collective lists before its type: 各省、自治区、直辖市人民政府; 各区、县(市)政府
_UNIT = r"(?:[省区县市州盟旗乡镇街]|自治区|直辖市|自治州|自治县|计划单列市|副省级城市|设区市)"
# 和/及/与 join two bodies only where both sides are whole names: 市知识产权局和市财政局, not 工业和信息化局
_JOINED = re.compile(r"以及|和|及|与")


def _split_joined(part: str) -> list[str]:
    for m in _JOINED.finditer(part):
        left, right = part[:m.start()], part[m.end():]
        if (len(left) >= 3 and len(right) >= 3 and ORG_SUFFIX.search(left) and not re.search(r"[区县市]$", left)
                and (ORG_SUFFIX.search(right) or COLLECTIVE.match(right))):
            return [left, *_split_joined(right)]
    return [part]


_SEPARATORS = "、,，;； \u3000\n\t"
_SEPARATOR_RUN = re.compile(f"([{_SEPARATORS}]+)")
_BRACKETS = re.compile(r"[(（)）]")
_PLACE_WORDS = re.compile(rf"(?:各|相关|有关)?{_UNIT}(?:、{_UNIT})*")


def split_agency_list(text: str) -> list[str]:
    """Split "市发展改革委、工业和信息化局,各区、县(市)政府" into names.

    Separators are 、 , ， ; ； and spaces; "和/与/及" are not, since they occur inside names
    (工业和信息化局, 创新与转化中心). "各区、县(市)政府" is one collective body, not two.
    """
    # each part with the separators written before it: a place word joins the next item only where
    # the text lists them with list punctuation (各区、县(市)政府), never across a line or a semicolon
    parts: list[tuple[str, str]] = []
    if not _BRACKETS.search(text):  # no bracket: every separator run splits (in C)
        pieces = _SEPARATOR_RUN.split(text)
        gap = ""
        for k, piece in enumerate(pieces):
            if k % 2:
                gap += piece
            elif piece:
                parts.append((piece, gap))
                gap = ""
        text = ""  # nothing left for the loop below
    depth = 0
    current = gap = ""
    for ch in text:
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth = max(0, depth - 1)
        if depth == 0 and ch in _SEPARATORS:
            if current.strip():
                parts.append((current.strip(), gap))
                current, gap = "", ""
            gap += ch
        else:
            current += ch
    if current.strip():
        parts.append((current.strip(), gap))
    merged: list[str] = []
    for part, before in parts:
        joint = before.strip(" \u3000\t")
        # "各区" + "县(市)政府": a one-character place word joins the next item
        if (merged and joint in ("、", ",", "，") and _PLACE_WORDS.fullmatch(merged[-1])
                and not COLLECTIVE.match(part)):  # 各区、各开发区 are two collectives
            merged[-1] = merged[-1] + joint + part
        elif _JOINED.search(part):
            merged.extend(_split_joined(part))
        else:
            merged.append(part)
    return merged


# the patterns resolve_list and resolve try on every name, compiled once
_TRAILING_DENG = re.compile(r"(?:等)?(?:单位|部门)?$")
_DENG_COUNT = re.compile(r"(?<=[\u4e00-\u9fff])等(?:[一二三四五六七八九十两\d]+个?)?(?:部门|单位|机构)$")
_MEMBER_UNITS = re.compile(r"各?成员单位")
_NAMED_GROUP = re.compile(r"^(.+?(?:领导小组|联席会议|委员会))(?:办公室)?$")
_SECOND_NAME = re.compile(r"^(.+?)[(（]([^()（）]*(?:局|委|办|院|厅|部))[)）]$")

_MEMO_SIZE = 20000  # answers kept per place


@lru_cache(maxsize=8)
def _memo(context: tuple) -> tuple[dict[str, tuple[AgencyRef, ...]], dict[tuple[str, str | None], AgencyRef | None]]:
    """The answers of the resolvers of one place: (list text → refs, (name, prefix) → ref)."""
    return {}, {}


@lru_cache(maxsize=2)
def _national_names(bare: bool) -> tuple[frozenset[str], frozenset[int]]:
    """Every form knowledge.national_body(form, bare) knows, and their lengths."""
    exact, bare_forms = knowledge._national_forms()
    forms = frozenset(exact) | (frozenset(bare_forms) if bare else frozenset())
    return forms, frozenset(len(f) for f in forms)


class AgencyResolver:
    """Resolves agency mentions within one document."""

    def __init__(self, jurisdiction: str | None, level: str | None) -> None:
        if jurisdiction and not level:  # a place given without its level: the level its name shows
            known = knowledge.places().get(jurisdiction)
            level = known.level if known else level_of_place(jurisdiction)
        self.context = Context.of(jurisdiction, level)
        ctx = self.context
        # the extractors and the quality report ask again about the same names: each answer is kept,
        # shared by the resolvers of one place (it depends on nothing else)
        self._lists, self._names = _memo((ctx.jurisdiction, ctx.level, ctx.city, ctx.province))

    def resolve_list(self, text: str) -> list[AgencyRef]:
        """Resolve every body in a list; a bare prefix carries over to the items after it."""
        found = self._lists.get(text)
        if found is None:
            if len(self._lists) >= _MEMO_SIZE:
                self._lists.clear()  # bounded: a long build of one place starts afresh
            found = self._lists[text] = tuple(self._resolve_list(text))
        return list(found)

    def resolve(self, surface: str, carried_prefix: str | None = None) -> AgencyRef | None:
        """One name → AgencyRef, or None for vague references and non-names."""
        key = (surface, carried_prefix)
        if key in self._names:
            return self._names[key]
        if len(self._names) >= _MEMO_SIZE:
            self._names.clear()
        ref = self._names[key] = self._resolve(surface, carried_prefix)
        return ref

    def _resolve_list(self, text: str) -> list[AgencyRef]:
        refs: list[AgencyRef] = []
        carried: str | None = None
        group: str | None = None
        for name in (part for item in split_agency_list(text) for part in self._segment_known(item)):
            name = _TRAILING_DENG.sub("", name) if name.endswith("等") else name
            # "河北省知识产权局等八部门": the body named, not a body called "…等八部门"
            name = _DENG_COUNT.sub("", name)
            if group and _MEMBER_UNITS.fullmatch(name):
                # "领导小组办公室、各成员单位": the member units of the group just named, a collective of a named type
                name = group + "各成员单位"
            named_group = _NAMED_GROUP.match(name)
            group = named_group.group(1) if named_group else None
            prefix_match = PREFIX.match(name)
            if prefix_match and not VAGUE.match(name):
                carried = prefix_match.group("p")
            ref = self.resolve(name, carried)
            if ref is not None and all(r.canonical != ref.canonical for r in refs):
                refs.append(ref)
        return refs

    def _resolve(self, surface: str, carried_prefix: str | None = None) -> AgencyRef | None:
        surface = surface.strip(" \u3000。.;；:：")
        name = _WS.sub("", surface)
        later_name = None
        m = _SECOND_NAME.match(name)
        if m:  # 市市场监管局(知识产权局): one body that also carries another name
            name, later_name = m.group(1), m.group(2)
        if not name or VAGUE.match(name) or len(name) < 2:
            return None
        ctx = self.context
        # a central body by its full name or an alias only it has (工商总局, 中宣部); a short form a local
        # government shares (知识产权局) only where the document is national or names no place
        national = knowledge.national_body(name, bare=carried_prefix is None and self._national_context())
        if national is not None:
            return self._national_ref(national, surface, name, later_name)
        if not ORG_SUFFIX.search(name) and not (COLLECTIVE.match(name) and COLLECTIVE_TYPE.search(name)):
            return None
        youth = re.fullmatch(r"团([省市区县])委", name)
        if youth:  # 团市委: the Communist Youth League committee of the place
            place, level = ctx.place_for(youth.group(1))
            return self._ref(surface, place, "团委", "共青团{place}委员会", level, later=later_name, bare=True)
        if COLLECTIVE.match(name):
            place, level = ctx.jurisdiction, ctx.level
            full = self._expand_suffix(name)
            return self._ref(surface, place, name, full, level, collective=True, later=later_name)
        branch = self._police_branch(name)
        if branch is not None:
            return AgencyRef(canonical=branch, surface=surface, with_jurisdiction=(ctx.jurisdiction or "") + name,
                             aliases=[(ctx.jurisdiction or "") + name], jurisdiction=ctx.jurisdiction, level="district",
                             later_name=later_name)
        prefix = PREFIX.match(name)
        if prefix:
            body = name[prefix.end():]
            place, level = ctx.place_for(prefix.group("p"))
            party = prefix.group("party") or ""
            if place is None:  # 省/区 with no known place: keep the name as printed rather than invent one
                return self._unplaced(surface, name, prefix.group("p"), body, level, later_name)
            return self._ref(surface, place, party + body, self._expand(body), level, later=later_name, bare=True)
        # a name that starts with a place of its own
        found = knowledge.find_places(name)
        if found and found[0][0] == 0:
            place_name = found[0][1]
            # a district is named with its city (滨海新区 → 天津市滨海新区); a city stands alone
            is_district = knowledge.places()[place_name].level == "district"
            full_place = knowledge.full_place(place_name) if is_district else place_name
            body = name[len(place_name):]
            district = re.match(r"^[\u4e00-\u9fff]{2,4}?(?:新区|区|县)(?=[\u4e00-\u9fff])", body)
            if district and knowledge.places()[place_name].level != "district" and not is_zone(district.group(0)):
                full_place += district.group(0)
                body = body[district.end():]
            level = knowledge.places()[place_name].level
            if full_place != place_name and not name.startswith(full_place):
                level = "district" if full_place.endswith(("区", "县")) else level
            return self._ref(surface, full_place, body, self._expand(body), level, later=later_name, own_place=True)
        district = re.match(r"^([\u4e00-\u9fff]{2,4}?(?:新区|区|县))(?=[\u4e00-\u9fff]{2})", name)
        if district and not is_zone(district.group(1)) and ctx.city:
            place = ctx.city + district.group(1)
            body = name[district.end():]
            return self._ref(surface, place, body, self._expand(body), "district", later=later_name, own_place=True)
        own = place_of(name)
        if own and name.startswith(own) and len(name) > len(own) + 1 and not is_zone(own):
            # a place the gazetteer does not list: 宜都市市场监管局, 示例市人民政府办公室
            body = name[len(own):]
            return self._ref(surface, own, body, self._expand(body), level_of_place(own), later=later_name, own_place=True)
        named = self._expand_named(name)
        if named or PROPER_MARKERS.search(name) or knowledge.names_a_place_short(name):
            return AgencyRef(canonical=named or name, surface=surface, with_jurisdiction=name,
                             aliases=[name], level="national" if ctx.level == "national" and not named else None,
                             later_name=self._later(later_name, None))
        if ctx.level == "national" or (carried_prefix is None and ctx.jurisdiction is None and ctx.level is None):
            # a central body the data does not list keeps its printed name
            return AgencyRef(canonical=name, surface=surface, with_jurisdiction=name, aliases=[], level="national",
                             later_name=self._national_later(later_name))
        if carried_prefix is None and ctx.jurisdiction is None:
            # a local document that does not say where it governs: the printed name, at the document's level
            return AgencyRef(canonical=name, surface=surface, with_jurisdiction=name, aliases=[], level=ctx.level,
                             later_name=later_name)
        # an unprefixed generic body: the carried prefix, else the document's own place
        if carried_prefix:
            place, level = ctx.place_for(carried_prefix)
            if place is None:
                return self._unplaced(surface, carried_prefix + name, carried_prefix, name, level, later_name)
        else:
            place, level = ctx.jurisdiction, ctx.level
        return self._ref(surface, place, name, self._expand(name), level, later=later_name, bare=True)

    def is_anchored(self, name: str) -> bool:
        """Does the name start like a body's name (a place prefix, 各/相关, a place, a proper name)?

        Used where a name must stand on its own, e.g. as the subject of a sentence, to tell
        "市知识产权局…" from "指导各街镇…".
        """
        name = _WS.sub("", name)
        return bool(
            (PREFIX.match(name) and not VAGUE.match(name))
            or COLLECTIVE.match(name)
            or re.fullmatch(r"团[省市区县]委", name)
            or (knowledge.find_places(name) and knowledge.find_places(name)[0][0] == 0)
            or self._expand_named(name)
            or PROPER_MARKERS.match(name)
            or knowledge.national_body(name, bare=self._national_context()) is not None
            # a regulation's collective subject: the governments (or their departments) of a tier of the place
            or (re.match(r"^(?:县级以上|设区的市|县级|乡镇)(?:地方)?(?:各级)?人民政府", name) and ORG_SUFFIX.search(name))
        )

    # ---- helpers

    def _police_branch(self, name: str) -> str | None:
        """公安通州分局 / 区公安分局 in a district's document: the city's public security bureau runs the
        district's police as its branch, officially 南通市公安局通州分局."""
        ctx = self.context
        if ctx.level != "district" or not ctx.city or not ctx.jurisdiction or not ctx.jurisdiction.startswith(ctx.city):
            return None
        district = ctx.jurisdiction[len(ctx.city):]
        short = re.sub(r"(?:新区|区|县)$", "", district) or district
        m = re.fullmatch(r"(?:区|县)?公安(?P<d>[\u4e00-\u9fff]{0,4}?)分局", name)
        if not m or m.group("d") not in ("", short):
            return None
        return f"{ctx.city}公安局{short}分局"

    def _segment_known(self, name: str) -> list[str]:
        """"国家知识产权局教育部科技部" (issuers printed without separators): the central bodies it is
        made of, when it is wholly a run of two or more of their names; otherwise the name itself."""
        bare = self._national_context()
        if len(name) < 6 or knowledge.national_body(name, bare=bare) is not None:
            return [name]
        forms, lengths = _national_names(bare)  # national_body(x, bare) is not None: x in forms
        fits = [n for n in lengths if n < len(name)]
        if not any(name[:n] in forms for n in fits) or not any(name[-n:] in forms for n in fits):
            return [name]  # a run of names opens with one and closes with one (most names do neither)
        best: dict[int, list[str]] = {0: []}
        reached = [0]  # the keys of best, ascending: only they can start the next name
        for end in range(1, len(name) + 1):
            for start in reached[bisect_left(reached, end - 20):]:
                if end - start in lengths and name[start:end] in forms:
                    best[end] = best[start] + [name[start:end]]
                    reached.append(end)
                    break
        parts = best.get(len(name))
        return parts if parts and len(parts) >= 2 else [name]

    def _national_context(self) -> bool:
        """A national document, or one that says neither its place nor its level."""
        return self.context.level == "national" or (self.context.jurisdiction is None and self.context.level is None)

    def _national_ref(self, body: knowledge.NationalBody, surface: str, name: str, later: str | None) -> AgencyRef:
        aliases = [a for a in body.aliases if a != body.name]
        if name != body.name and name not in body.bare and name not in aliases:
            aliases.append(name)
        return AgencyRef(canonical=body.name, surface=surface, with_jurisdiction=body.name, aliases=aliases,
                         level="national", later_name=self._national_later(later))

    @staticmethod
    def _national_later(later: str | None) -> str | None:
        """新闻出版广电总局(版权局): the bracketed name of a central body, by its full name where known."""
        if not later:
            return None
        body = knowledge.national_body(later, bare=True)
        return body.name if body else later

    def _unplaced(self, surface: str, name: str, prefix: str, body: str, level: str | None,
                  later: str | None) -> AgencyRef:
        """A body whose 省/市/区 prefix names no place this document knows: the printed name, unresolved."""
        template = self._expand(body)
        expanded = prefix + template.replace("{place}", "")
        aliases = [expanded] if template.startswith("{place}") and expanded != name else []
        return AgencyRef(canonical=name, surface=surface, with_jurisdiction=name, aliases=aliases, level=level,
                         later_name=later)

    def _ref(self, surface: str, place: str | None, body: str, full_template: str, level: str | None,
             collective: bool = False, later: str | None = None, bare: bool = False,
             own_place: bool = False) -> AgencyRef:
        tier = self._tier(place)
        for abbr in abbreviations().get(tier, []) if tier != "local" else []:
            if body == abbr.short:  # 省法院 is the province's 高级人民法院
                full_template = abbr.full
        place_text = place or ""
        canonical = full_template.replace("{place}", place_text) if "{place}" in full_template else place_text + full_template
        if body.startswith("中共") and "{place}" not in full_template:
            canonical = "中共" + place_text + body[2:]
        with_jurisdiction = (("中共" + place_text + body[2:]) if body.startswith("中共") else place_text + body)
        aliases = [with_jurisdiction]
        if not bare and not collective:
            aliases.append(_WS.sub("", surface))
        if "{place}" in full_template:
            for short in _short_forms(full_template):
                aliases.append(place_text + short)
        if place and place.startswith("中共"):
            aliases.append(place[2:] + body)
        ordered = list(dict.fromkeys(a for a in aliases if a and a != canonical))
        return AgencyRef(canonical=canonical, surface=surface, with_jurisdiction=with_jurisdiction, aliases=ordered,
                         jurisdiction=place, level=level, collective=collective,
                         later_name=self._later(later, place))

    @staticmethod
    def _tier(place: str | None) -> str:
        """provincial for a province, prefecture for a city that has a province above it, else local."""
        known = knowledge.places().get(place or "")
        if (known and known.level == "provincial") or (not known and level_of_place(place) == "provincial"):
            return "provincial"
        if known and known.level == "municipal" and known.within:
            return "prefecture"
        return "local"

    def _later(self, later: str | None, place: str | None) -> str | None:
        if not later:
            return None
        expanded = self._expand(later)
        return expanded.replace("{place}", place or "") if "{place}" in expanded else (place or "") + expanded

    @staticmethod
    def _expand(body: str) -> str:
        """The full form template of a local body ("发展改革委" → "{place}发展和改革委员会")."""
        for abbr in _local_by_suffix(body):
            # a one-character head is part of another abbreviation (科工信局), not a name before one
            if body == abbr.short or (body.endswith(abbr.short) and len(abbr.short) >= 2 and
                                      len(body) - len(abbr.short) >= 2 and
                                      not body.endswith(abbr.full.replace("{place}", ""))):
                head = body[: len(body) - len(abbr.short)]
                if head.endswith("人民") and abbr.short == "政府":
                    continue
                full = abbr.full.replace("{place}", "")
                if abbr.full.startswith("{place}"):
                    return "{place}" + head + full
                return abbr.full.replace("{place}", "{place}" + head) if head else abbr.full
        return body

    @staticmethod
    def _expand_suffix(name: str) -> str:
        """Collective bodies keep their wording; only a trailing 政府 becomes 人民政府."""
        if name.endswith("政府") and not name.endswith("人民政府"):
            return name[:-2] + "人民政府"
        return name

    @staticmethod
    def _expand_named(name: str) -> str | None:
        for pattern, full in _named_patterns():
            m = pattern.match(name)
            if m:
                return full.replace("{p}", m.group("p"))
        return None
