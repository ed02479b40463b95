"""The IRIs of the graph's own nodes (https://w3id.org/ipgraph/id/…), as plain strings.

IRIs are derived from content only (file name, measure number, canonical name, text offset),
never from processing order, so the same corpus always gives the same graph.

One IRI form for the whole graph (issue 11): a name is kept as it is written — Chinese and every
other character RFC 3987 allows raw in a path segment (`ipchar`) — and only what a segment cannot
carry is percent-encoded (`/ ? # % [ ] < > " { } | \\ ^` `, spaces, controls). RDF 1.1, SPARQL and
Turtle IRIREFs allow such IRIs, so what ipgraph prints can be pasted back into any SPARQL tool.
`canonical_iri` turns any other spelling of one of our IRIs (a browser's fully percent-encoded
path, the graph's old form) into this one; `prefixed_name` writes an IRI as a SPARQL/Turtle
prefixed name (agency:天津市知识产权局) when its local part is a PN_LOCAL without escapes.

This module imports neither rdflib nor the extraction modules: the query command uses it.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import PurePath
from urllib.parse import quote, unquote

DATA = "https://w3id.org/ipgraph/id/"
# The kinds of node with a namespace of their own: `agency:天津市知识产权局` (ipgraph/queries/_prefixes.rq).
KINDS = ("agency", "directive", "document", "echo", "evidence", "place", "programme")
KIND_PREFIXES = {kind: f"{DATA}{kind}/" for kind in KINDS}
PROGRAMME_SCHEME = f"{DATA}programme-scheme"

# RFC 3987 ipchar, less pct-encoded: iunreserved (ALPHA DIGIT - . _ ~ ucschar), sub-delims, ":" and "@"
_ASCII_RAW = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@")
_UCSCHAR = ((0xA0, 0xD7FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFEF), *((p << 16, (p << 16) + 0xFFFD) for p in range(1, 14)),
            (0xE1000, 0xEFFFD))


def _raw(ch: str) -> bool:
    if ch < "\x80":
        return ch in _ASCII_RAW
    cp = ord(ch)
    if not any(lo <= cp <= hi for lo, hi in _UCSCHAR):
        return False
    # allowed by RFC 3987 but invisible (U+3000 ideographic space, U+200B, bidi marks): a pasted copy
    # would silently lose them, so they are percent-encoded like an ASCII space
    return unicodedata.category(ch)[0] not in "ZC"


def slug(text: str) -> str:
    """A path segment for an IRI: the text itself, percent-encoding only what a segment cannot carry raw."""
    return "".join(ch if _raw(ch) else quote(ch, safe="") for ch in text)


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


_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def canonical_iri(iri: str) -> str:
    """One of our IRIs in the graph's form, however it was percent-encoded; any other IRI unchanged.

    Each path segment is decoded and encoded again by `slug`, so `agency/%E5%A4%A9…` and
    `agency/天…` give the same IRI. A segment whose escapes are not UTF-8 (or a lone %) is not
    a spelling of any name: the IRI is left as it is.
    """
    if not iri.startswith(DATA) or "?" in iri or "#" in iri:
        return iri
    out = []
    for segment in iri[len(DATA):].split("/"):
        if "%" not in segment:
            out.append(slug(segment))
            continue
        if _BAD_PERCENT.search(segment):
            return iri
        try:
            out.append(slug(unquote(segment, errors="strict")))
        except UnicodeDecodeError:
            return iri
    return DATA + "/".join(out)


# SPARQL 1.1 / Turtle 1.1 PN_CHARS_BASE ranges (above ASCII); PN_CHARS adds - 0-9 U+00B7 U+0300-036F U+203F-2040
_PN_BASE = ((0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x2FF), (0x370, 0x37D), (0x37F, 0x1FFF), (0x200C, 0x200D),
            (0x2070, 0x218F), (0x2C00, 0x2FEF), (0x3001, 0xD7FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFFD),
            (0x10000, 0xEFFFF))
_PN_EXTRA = ((0xB7, 0xB7), (0x300, 0x36F), (0x203F, 0x2040))
_HEX = frozenset("0123456789abcdefABCDEF")


def _pn_chars_u(ch: str) -> bool:
    if ch < "\x80":
        return ch.isalpha() or ch == "_"
    return any(lo <= ord(ch) <= hi for lo, hi in _PN_BASE)


def _pn_chars(ch: str) -> bool:
    return _pn_chars_u(ch) or ch == "-" or "0" <= ch <= "9" or any(lo <= ord(ch) <= hi for lo, hi in _PN_EXTRA)


def local_name(text: str) -> str | None:
    """`text` when it is a SPARQL/Turtle PN_LOCAL as it stands, else None.

    Backslash escapes (`document:x\\/measure\\/3`) are valid PN_LOCAL but not used: rdflib's
    SPARQL parser keeps the backslash in the IRI and its Turtle parser refuses `\\.` at the
    end, so such an IRI is printed whole (<…>), which every tool reads alike.
    """
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            i += 3  # PERCENT: the same three characters in the IRI
            continue
        ok = (_pn_chars_u(ch) or ch == ":" or "0" <= ch <= "9"
              or (i > 0 and (_pn_chars(ch) or (ch == "." and i < n - 1))))
        if not ok:
            return None  # e.g. “ ” ( ) / — fine raw in an IRI, not in a prefixed name
        i += 1
    return text


def pn_local_pattern() -> str:
    """`local_name`'s test as a JavaScript regular expression (flag u), for the query page's table."""

    def cls(ranges: tuple[tuple[int, int], ...], extra: str) -> str:
        return "[" + extra + "".join(f"\\u{{{lo:X}}}-\\u{{{hi:X}}}" for lo, hi in ranges) + "]"

    first = cls(_PN_BASE, "A-Za-z_:0-9")
    last = cls(_PN_BASE + _PN_EXTRA, "A-Za-z_:0-9\\-")
    middle = cls(_PN_BASE + _PN_EXTRA, "A-Za-z_:0-9\\-.")
    pct = "%[0-9A-Fa-f]{2}"
    return f"^(?:{first}|{pct})(?:(?:{middle}|{pct})*(?:{last}|{pct}))?$"


def prefixed_name(iri: str, prefixes: Mapping[str, str]) -> str | None:
    """`iri` as prefix:local with the longest matching namespace, or None when none fits."""
    for prefix, ns in sorted(prefixes.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if iri.startswith(ns) and len(iri) > len(ns):
            local = local_name(iri[len(ns) :])
            if local is not None:
                return f"{prefix}:{local}"
    return None


def compact_iri(iri: str, prefixes: Mapping[str, str]) -> str:
    """What ipgraph prints for an IRI: a prefixed name when it can be one, else <iri>; both paste back."""
    return prefixed_name(iri, prefixes) or f"<{iri}>"
