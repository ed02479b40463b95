"""SPARQL errors a person can act on: where (line, column, a caret under the line), what is
there (the offending token) and why, instead of the parser's list of expected characters.

One function, `explain_sparql_error`, serves `ipgraph query` (Oxigraph's messages, `error at
L:C: expected …`) and `ipgraph serve`'s 400 answers (rdflib's pyparsing messages, `… (at char
N), (line:L, col:C)`). It runs only after a parser has refused a query: a valid query never
comes here, and this module imports nothing heavy (rdflib is asked only to tell an update
from a broken query, through ipgraph.sparqlguard, once the query has failed).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

_OXIGRAPH_AT = re.compile(r"error at (\d+):(\d+)")
_PYPARSING_AT = re.compile(r"\(at char (\d+)\), \(line:(\d+), col:(\d+)\)")
_RDFLIB_PREFIX = re.compile(r"Unknown namespace prefix\s*:\s*([\w.-]*)")
# The prefixed name (or bare `prefix:`) that ends where the parser stopped.
_PNAME_BEFORE = re.compile(r"(?:^|[^\w:.-])([^\W\d_][\w.-]*)?:[\w.%-]*$")
_TOKEN = re.compile(r"\s*(\S+?)(?=[\s{}()\[\],;.]|$)|\s*(\S)")
_ALTERNATIVE = re.compile(r'"[^"]+"|\b[A-Z][A-Z_]+\b')
READ_FORMS = "SELECT, ASK, CONSTRUCT or DESCRIBE"


@dataclass(frozen=True)
class SparqlProblem:
    """Where a query failed and why; `text()` is what a person reads."""

    reason: str
    line: int = 0  # 1-based; 0: the parser gave no place
    column: int = 0  # 1-based, in characters
    token: str = ""  # what stands at that place ("" at the end of the query)
    source_line: str = ""

    def text(self) -> str:
        """`SPARQL syntax error at line L, column C (near `tok`): reason`, then the line and a caret."""
        if not self.line:
            return f"SPARQL error: {self.reason}"
        near = f" near `{self.token}`" if self.token else " at the end of the query"
        head = f"SPARQL syntax error at line {self.line}, column {self.column}{near}: {self.reason}"
        shown = self.source_line.expandtabs(1)
        pad = _width(shown[: self.column - 1])
        return f"{head}\n  {shown}\n  {' ' * pad}^"

    def one_line(self) -> str:
        """The same without the caret lines (for a log or an HTTP reason)."""
        return self.text().split("\n", 1)[0]


def _width(text: str) -> int:
    """Terminal columns of `text`: CJK characters take two (the caret must sit under the token)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _place(sparql: str, message: str) -> tuple[int, int]:
    """(line, column), 1-based in characters, from an Oxigraph or pyparsing message; (0, 0) if none."""
    m = _OXIGRAPH_AT.search(message)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = _PYPARSING_AT.search(message)
    if m:
        return int(m.group(2)), int(m.group(3))
    return 0, 0


def _token_at(line_text: str, column: int) -> str:
    m = _TOKEN.match(line_text, max(0, column - 1))
    if not m:
        return ""
    return (m.group(1) or m.group(2) or "")[:40]


def _pname_before(line_text: str, column: int) -> tuple[str, int] | None:
    """The prefix of the prefixed name ending at `column` and the column where it starts."""
    m = _PNAME_BEFORE.search(line_text[: max(0, column - 1)].rstrip())
    if not m:
        return None
    start = m.start(1) if m.group(1) is not None else m.end() - len(m.group(0).lstrip(" \t{(;,"))
    return m.group(1) or "", start + 1


def _second_opinion(sparql: str, prefixes: Mapping[str, str] | None) -> str:
    """rdflib's verdict on a query Oxigraph refused (through sparqlguard, as `ipgraph serve` asks):
    it tells SPARQL Update from a broken query and names an unknown prefix wherever it is."""
    from ipgraph.sparqlguard import inspect_query

    verdict = inspect_query(sparql, prefixes)
    if verdict.status == 403 and "Update" in verdict.reason:
        return "update"
    return verdict.reason


_UPDATE_VERB = re.compile(r"\b(INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH)\b", re.IGNORECASE)


def _expected(message: str) -> str:
    """The keywords and punctuation the parser would have taken (its character classes left out)."""
    tail = message.split("expected", 1)[1] if "expected" in message else ""
    seen: list[str] = []
    for alt in _ALTERNATIVE.findall(tail):
        word = alt.strip('"')
        if word not in seen:
            seen.append(word)
    return ", ".join(seen[:10])


def explain_sparql_error(
    sparql: str, message: str, prefixes: Mapping[str, str] | None = None, check_update: bool = True
) -> SparqlProblem:
    """What went wrong with `sparql`, from the parser's `message` (Oxigraph or rdflib).

    `prefixes` are the prefixes the query could use undeclared (named in an unknown-prefix
    reason); with `check_update`, a query that parses as SPARQL Update is told so.
    """
    known = ", ".join(f"{p}:" for p in sorted(prefixes or {}))
    line, column = _place(sparql, message)
    lines = sparql.split("\n")
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    token = _token_at(source, column) if line else ""
    declared_hint = f"; known without a PREFIX line: {known}" if known else ""
    second = _second_opinion(sparql, prefixes) if check_update and "Prefix not found" not in message else ""
    if second == "update":
        verb = _UPDATE_VERB.search(sparql)  # the caret goes under the operation the parse found
        if verb:
            line = sparql.count("\n", 0, verb.start()) + 1
            column = verb.start() - (sparql.rfind("\n", 0, verb.start()) + 1) + 1
            source, token = lines[line - 1], verb.group(1)
        return SparqlProblem(f"updates ({verb.group(1).upper() if verb else 'INSERT, DELETE …'}) are not supported "
                             f"here: the graph is read-only; ask with {READ_FORMS}", line, column, token, source)
    m = _RDFLIB_PREFIX.search(message) or _RDFLIB_PREFIX.search(second)
    if m:  # rdflib names the prefix but not the place: the first use of it
        use = re.search(rf"(?<![\w:]){re.escape(m.group(1))}:", sparql)
        if use:
            line = sparql.count("\n", 0, use.start()) + 1
            column = use.start() - (sparql.rfind("\n", 0, use.start()) + 1) + 1
            source, token = lines[line - 1], _token_at(lines[line - 1], column)
        return SparqlProblem(f"unknown prefix `{m.group(1)}:` (declare it: PREFIX {m.group(1)}: <…>"
                             f"{declared_hint})", line, column, token, source)
    if "Prefix not found" in message:
        found = _pname_before(source, column)
        if found:
            prefix, start = found
            return SparqlProblem(f"unknown prefix `{prefix}:` (declare it: PREFIX {prefix}: <…>{declared_hint})",
                                 line, start, _token_at(source, start), source)
    if "variable that is unbound" in message:
        return SparqlProblem("SELECT names a variable that GROUP BY does not group: group it too, or aggregate it "
                             "(SAMPLE(?x), COUNT(?x) …)", line, column, token, source)
    if not line:
        return SparqlProblem(" ".join(message.split())[:300])
    if not token and _PYPARSING_AT.search(second):
        # Oxigraph went on to the end before failing; rdflib's parse points at the start of the
        # group it could not read, which is nearer to the slip (when it is not the end as well)
        at_line, at_column = _place(sparql, second)
        at_source = lines[at_line - 1] if 0 < at_line <= len(lines) else ""
        if _token_at(at_source, at_column):
            return SparqlProblem("this part cannot be read: the parser reached the end of the query without "
                                 "making sense of what starts here", at_line, at_column,
                                 _token_at(at_source, at_column), at_source)
    what = f"unexpected `{token}`" if token else "the query is incomplete where it ends"
    expected = _expected(message)
    return SparqlProblem(f"{what}{'; the parser expected ' + expected if expected else ''}",
                         line, column, token, source)
