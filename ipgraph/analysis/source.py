"""Where an analysis reads the graph from, and the few shared helpers."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ipgraph.knowledge import COUNTRY
from ipgraph.query import Engine, OxigraphEngine, RdflibEngine, open_engine, with_prefixes

IPG = "https://w3id.org/ipgraph/ontology#"
# Administrative levels from the top down: a chain goes down this list.
LEVELS = ("international", "national", "provincial", "municipal", "district")
LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}
NATIONAL_PLACE = COUNTRY  # for builds made before national documents stated their place

Source = Any  # a build folder (str/Path), an Engine, an rdflib Graph or a pyoxigraph Store


def as_engine(source: Source) -> Engine:
    """An Engine for `source`: a build folder (its store), an Engine, an rdflib Graph or a pyoxigraph Store."""
    if isinstance(source, (str, Path)):
        return open_engine(source)
    if hasattr(source, "execute"):
        return source
    import pyoxigraph

    if isinstance(source, pyoxigraph.Store):
        return OxigraphEngine(source, name="memory")
    return RdflibEngine(source)  # an rdflib Graph


def select(source: Source, sparql: str) -> list[dict[str, Any]]:
    """The rows of a SELECT as typed records (ipgraph.query.python_value)."""
    return as_engine(source).execute(with_prefixes(sparql)).records()


def text(value: Any) -> str | None:
    """A cell as text, or None for a missing value (None, pandas' NaN/NA, an empty string)."""
    return value if isinstance(value, str) and value else None


def level_name(iri: Any) -> str | None:
    """"national" for ipg:National …; None for no level (None, or pandas' NaN)."""
    if not isinstance(iri, str) or not iri:
        return None
    return iri.rsplit("#", 1)[-1].lower() if iri.startswith(IPG) else iri


def year_of(*values: Any) -> int | None:
    """The earliest year among dates, years and texts that carry one (a title's (2021-2025年))."""
    years = []
    for value in values:
        if value is None:
            continue
        if hasattr(value, "year"):
            years.append(int(value.year))
        elif isinstance(value, int):
            years.append(value)
        else:
            years += [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", str(value))]
    return min(years) if years else None


DOCUMENTS = """
SELECT ?document ?title ?file ?level ?place ?placeLabel ?signed ?published WHERE {
  ?document a ipg:PolicyDocument ; rdfs:label ?title .
  OPTIONAL { ?document ipg:sourceFile ?file }
  OPTIONAL { ?document ipg:level ?level }
  OPTIONAL { ?document ipg:jurisdiction ?place . OPTIONAL { ?place rdfs:label ?placeLabel } }
  OPTIONAL { ?document ipg:dateSigned ?signed }
  OPTIONAL { ?document ipg:datePublished ?published }
}
"""


def documents(source: Source) -> dict[str, dict[str, Any]]:
    """Each document's title, file, level, place and year (the earlier of its dates), by IRI."""
    found: dict[str, dict[str, Any]] = {}
    for row in select(source, DOCUMENTS):
        doc = found.setdefault(row["document"], {"document": row["document"], "title": row["title"]})
        doc.setdefault("file", row["file"])
        doc.setdefault("level", level_name(row["level"]))
        # A national document names no jurisdiction: it governs the whole country.
        place = row["placeLabel"] or row["place"] or (NATIONAL_PLACE if doc["level"] == "national" else None)
        doc.setdefault("place", place)
        # The earlier of its dates; an undated document's title year ("2024年…推进计划") instead.
        year = year_of(row["signed"], row["published"]) or year_of(row["title"])
        if year is not None and (doc.get("year") is None or year < doc["year"]):
            doc["year"] = year
        doc.setdefault("year", None)
    return found
