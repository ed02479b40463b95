"""The IRIs of the graph's own nodes (https://w3id.org/ipgraph/id/…), as plain strings.

IRIs are derived from content only (file name, measure number, canonical name, text offset),
never from processing order, so the same corpus always gives the same graph.

This module imports neither rdflib nor the extraction modules: the query command uses it.
"""
from __future__ import annotations

from pathlib import PurePath
from urllib.parse import quote

DATA = "https://w3id.org/ipgraph/id/"


def slug(text: str) -> str:
    """A path segment for an IRI: the text itself, percent-encoded (stable, readable once decoded)."""
    return quote(text, safe="")


def document_iri(source_name: str) -> str:
    return f"{DATA}document/{slug(PurePath(source_name).stem)}"


def agency_iri(canonical: str) -> str:
    return f"{DATA}agency/{slug(canonical)}"


def programme_iri(canonical: str) -> str:
    return f"{DATA}programme/{slug(canonical)}"


def directive_iri(key: str) -> str:
    return f"{DATA}directive/{slug(key)}"


def place_iri(name: str) -> str:
    return f"{DATA}place/{slug(name)}"


PROGRAMME_SCHEME = f"{DATA}programme-scheme"
