"""Loads the knowledge that lives in data files (ipgraph/data): places, agency names, programmes, issuers.

Every file is versioned with the code and read through importlib.resources, so an installed
wheel finds it as well as a checkout. Each entry says where it was seen (a `source` column).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from ipgraph.textutil import longest_first


def data_text(name: str) -> str:
    return (files("ipgraph") / "data" / name).read_text(encoding="utf-8")


def _csv_rows(name: str) -> list[dict[str, str]]:
    text = "\n".join(line for line in data_text(name).splitlines() if not line.startswith("#"))
    return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


@dataclass(frozen=True)
class Place:
    name: str  # 天津市
    short: str  # 天津
    level: str  # provincial | municipal | district
    within: str | None  # 天津市 for 滨海新区


# The place a national document governs: the whole country, named as GB/T 2260 names it (code 100000).
COUNTRY = "中华人民共和国"


@lru_cache(maxsize=1)
def places() -> dict[str, Place]:
    return {r["name"]: Place(r["name"], r["short"], r["level"], r["within"] or None) for r in _csv_rows("places.csv")}


@lru_cache(maxsize=1)
def _place_pattern() -> re.Pattern[str]:
    return re.compile(longest_first(places()))  # the longest name where one starts


@lru_cache(maxsize=1)
def _short_pattern() -> re.Pattern[str] | None:
    """Any place's short form (天津, 滨海); None when one is empty (it stands in every text)."""
    shorts = [p.short for p in places().values()]
    return None if any(not s for s in shorts) else re.compile(longest_first(shorts))


def names_a_place_short(text: str) -> bool:
    """Does a place's short form stand in the text (one search instead of a test per place)?"""
    pattern = _short_pattern()
    return pattern is None or pattern.search(text) is not None


def find_places(text: str) -> list[tuple[int, str]]:
    """Every known place name in the text with its offset, leftmost-longest."""
    return [(m.start(), m.group(0)) for m in _place_pattern().finditer(text)]


def full_place(name: str) -> str:
    """滨海新区 → 天津市滨海新区: prefix the enclosing places the gazetteer knows."""
    chain = [name]
    place = places().get(name)
    while place and place.within and place.within not in chain:
        chain.insert(0, place.within)
        place = places().get(place.within)
    return "".join(chain)


@dataclass(frozen=True)
class NationalBody:
    """One central body under one of its names (data/national_bodies.csv)."""

    name: str  # 国家工商行政管理总局
    aliases: tuple[str, ...]  # 工商总局, 国家工商总局: name only this body, wherever printed
    bare: tuple[str, ...]  # 知识产权局: a local government may have one too, so national only in national documents
    since: int | None
    until: int | None  # the year it was reorganised away
    successors: tuple[str, ...]  # 国家市场监督管理总局
    plates: tuple[str, ...]  # 国家版权局 for 国家新闻出版广电总局: one body, two nameplates
    kind: str
    source: str


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split("|") if part.strip())


def _year(cell: str) -> int | None:
    return int(cell) if cell.isdigit() else None


@lru_cache(maxsize=1)
def national_bodies() -> dict[str, NationalBody]:
    """The central bodies by official name, current and former (successors name rows of the same file)."""
    rows = {
        r["name"]: NationalBody(r["name"], _split(r["aliases"]), _split(r["bare"]), _year(r["from"]), _year(r["until"]),
                                _split(r["successor"]), _split(r["plates"]), r["kind"], r["source"])
        for r in _csv_rows("national_bodies.csv")
    }
    for body in rows.values():
        for successor in body.successors:
            if successor not in rows:
                raise ValueError(f"national_bodies.csv: successor {successor} of {body.name} has no row of its own")
    return rows


@lru_cache(maxsize=1)
def _national_forms() -> tuple[dict[str, str], dict[str, str]]:
    """(full name or unambiguous alias → name, bare short form → name)."""
    exact: dict[str, str] = {}
    bare: dict[str, str] = {}
    for body in national_bodies().values():
        exact[body.name] = body.name
        for alias in body.aliases:
            exact.setdefault(alias, body.name)
        for form in body.bare:
            bare.setdefault(form, body.name)
    return exact, bare


def national_body(form: str, bare: bool = False) -> NationalBody | None:
    """The central body a printed form names: its full name or an unambiguous alias, and with
    bare=True also a short form a local government could share (知识产权局, 林业局)."""
    exact, bare_forms = _national_forms()
    name = exact.get(form) or (bare_forms.get(form) if bare else None)
    return national_bodies()[name] if name else None


@lru_cache(maxsize=1)
def _leading_place_pattern() -> re.Pattern[str]:
    return re.compile(longest_first({form for p in places().values() for form in (p.name, p.short)}))


@lru_cache(maxsize=1)
def _place_by_form() -> dict[str, str]:
    by_form: dict[str, str] = {}
    for p in places().values():
        if p.short:
            by_form.setdefault(p.short, p.name)  # two places with one short form: the first listed
    by_form.update({name: name for name in places()})
    return by_form


def leading_place(name: str) -> str | None:
    """The place a name begins with, in full and innermost: 天津市滨海新区知识产权局 → 天津市滨海新区,
    天津知识产权局 → 天津市; None for a name that does not begin with a known place (国家知识产权局)."""
    pattern, by_form = _leading_place_pattern(), _place_by_form()
    pos, inner = 0, None
    while (m := pattern.match(name, pos)) is not None and m.end() < len(name):
        inner, pos = by_form[m.group(0)], m.end()
    return full_place(inner) if inner else None


def same_place(first: str | None, second: str | None) -> bool:
    """Whether two full place names are one place or one lies within the other (天津市 / 天津市滨海新区)."""
    if first is None or second is None:
        return True  # a name without a place (a national body) is not somewhere else
    return first.startswith(second) or second.startswith(first)
