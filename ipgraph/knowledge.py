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


@lru_cache(maxsize=1)
def places() -> dict[str, Place]:
    return {r["name"]: Place(r["name"], r["short"], r["level"], r["within"] or None) for r in _csv_rows("places.csv")}


@lru_cache(maxsize=1)
def _place_pattern() -> re.Pattern[str]:
    names = sorted(places(), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, names)))


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
