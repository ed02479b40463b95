"""Named SPARQL queries and the engines that answer them.

The questions of the ontology contract ship as `ipgraph/queries/<name>.rq`. Each file starts
with comment lines that give its name, a one-line description and its parameters::

    # name: leads
    # description: Which agency leads what: …
    # param: agency ipg:Agency ?agency the agency: any of its names or aliases, or part of one

and marks where a parameter is bound with a comment line ``# @bind ?agency``. Unbound, the
file is a plain SPARQL query (it runs as is in any SPARQL tool and answers for everything).
Bound, that line becomes ``VALUES ?agency { … }`` whose terms are made and escaped by
pyoxigraph from the resolved nodes or from a typed value; user input is never pasted into
the query text. A parameter whose kind is a class (``ipg:Agency``) is resolved by name first:
an exact label or alias, else every node one of whose names contains the text; several
matches all answer, with a note saying so.

Three engines answer the same text: the embedded Oxigraph store (default), rdflib's in-memory
engine (the baseline) and any SPARQL 1.1 endpoint (ipgraph.remote). This module imports
neither rdflib nor the extraction modules: `ipgraph query` must start fast.

    from ipgraph.query import open_engine, run_named, format_result
    engine = open_engine("build")
    result = run_named(engine, "leads", {"agency": "天津市知识产权局"})
    print(format_result(result, "table"))
"""

from __future__ import annotations

import csv
import datetime
import decimal
import html
import io
import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ipgraph.errors import QueryError

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

ENGINES = ("oxigraph", "memory", "rdflib")
T = TypeVar("T")
FORMATS = ("table", "csv", "tsv", "json")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"

# ---------------------------------------------------------------------------------------------
# Terms and results, independent of the engine that produced them


@dataclass(frozen=True, order=True)
class Term:
    """One RDF term of a result, as in SPARQL 1.1 JSON results.

    kind is "uri", "literal" or "bnode"; a literal has a language or a datatype, never both,
    and a simple (xsd:string) literal has neither.
    """

    kind: str
    value: str
    lang: str | None = None
    datatype: str | None = None

    @classmethod
    def iri(cls, value: str) -> Term:
        return cls("uri", value)

    @classmethod
    def literal(cls, value: str, lang: str | None = None, datatype: str | None = None) -> Term:
        if lang:
            return cls("literal", value, lang=lang.lower())
        return cls("literal", value, datatype=None if datatype in (None, XSD_STRING) else datatype)

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Term:
        """A term of SPARQL JSON results ("typed-literal", an older spelling, is accepted)."""
        kind = data["type"]
        if kind in ("literal", "typed-literal"):
            return cls.literal(data["value"], lang=data.get("xml:lang"), datatype=data.get("datatype"))
        if kind == "bnode":
            return cls("bnode", data["value"])
        return cls("uri", data["value"])

    @classmethod
    def from_oxigraph(cls, term: Any) -> Term:
        import pyoxigraph

        if isinstance(term, pyoxigraph.NamedNode):
            return cls("uri", term.value)
        if isinstance(term, pyoxigraph.BlankNode):
            return cls("bnode", term.value)
        if isinstance(term, pyoxigraph.Literal):
            datatype = term.datatype.value
            return cls.literal(
                term.value, lang=term.language, datatype=None if datatype == RDF_LANGSTRING else datatype
            )
        return cls("literal", str(term))  # an RDF-star triple term: shown as text

    @classmethod
    def from_rdflib(cls, term: Any) -> Term:
        from rdflib import BNode, Literal

        if isinstance(term, Literal):
            return cls.literal(
                str(term), lang=term.language, datatype=str(term.datatype) if term.datatype else None
            )
        if isinstance(term, BNode):
            return cls("bnode", str(term))
        return cls("uri", str(term))

    def to_json(self) -> dict[str, str]:
        data = {"type": self.kind, "value": self.value}
        if self.lang:
            data["xml:lang"] = self.lang
        elif self.datatype:
            data["datatype"] = self.datatype
        return data

    def to_oxigraph(self) -> Any:
        import pyoxigraph

        if self.kind == "uri":
            return pyoxigraph.NamedNode(self.value)
        if self.kind == "bnode":
            return pyoxigraph.BlankNode(self.value)
        if self.lang:
            return pyoxigraph.Literal(self.value, language=self.lang)
        if self.datatype:
            return pyoxigraph.Literal(self.value, datatype=pyoxigraph.NamedNode(self.datatype))
        return pyoxigraph.Literal(self.value)

    def n3(self) -> str:
        """The term in N-Triples/Turtle/SPARQL syntax, escaped by pyoxigraph."""
        return str(self.to_oxigraph())


Row = tuple[Term | None, ...]

XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER_TYPES = {
    XSD + t
    for t in (
        "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
        "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong", "unsignedShort",
        "unsignedByte",
    )
}


def python_value(term: Term | None) -> Any:
    """A result term as a Python value: xsd integers and xsd:gYear as int, xsd:decimal as
    Decimal, xsd:double/float as float, xsd:boolean as bool, xsd:date as datetime.date,
    xsd:dateTime as datetime.datetime; IRIs, labels and other literals as their string. A
    literal whose text does not fit its datatype stays a string (nothing is lost)."""
    if term is None:
        return None
    if term.kind == "bnode":
        return f"_:{term.value}"
    if term.kind != "literal" or not term.datatype:
        return term.value
    text, datatype = term.value.strip(), term.datatype
    try:
        if datatype in _INTEGER_TYPES:
            return int(text)
        if datatype == XSD + "gYear" and re.fullmatch(r"-?\d{4,}", text):
            return int(text)
        if datatype == XSD + "decimal":
            return decimal.Decimal(text)
        if datatype in (XSD + "double", XSD + "float"):
            return float(text)
        if datatype == XSD + "boolean" and text in ("true", "false", "1", "0"):
            return text in ("true", "1")
        if datatype == XSD + "date":
            return datetime.date.fromisoformat(text[:10])
        if datatype == XSD + "dateTime":
            return datetime.datetime.fromisoformat(text)
    except (ValueError, decimal.InvalidOperation):
        pass  # an ill-typed literal: keep its text
    return term.value


@dataclass
class QueryResult:
    """What a query returned: rows (SELECT), a boolean (ASK) or triples (CONSTRUCT/DESCRIBE)."""

    kind: str  # "select" | "ask" | "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[tuple[Term, Term, Term]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    hidden: list[str] = field(default_factory=list)  # columns the table format leaves out (IRIs)

    def column(self, name: str) -> list[str | None]:
        """The values (lexical forms / IRIs) of one column."""
        i = self.variables.index(name)
        return [t.value if (t := row[i]) is not None else None for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts of typed values (see python_value): ints, Decimals, dates, years as
        ints, IRIs and labels as strings; an unbound variable is None."""
        return [
            {v: python_value(t) for v, t in zip(self.variables, row, strict=True)}
            for row in self.rows
        ]

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame with typed columns: integers and years as Int64
        (nullable), xsd:date as datetime64, decimals as Decimal objects (exact), IRIs and
        labels as strings. Needs pandas (imported here, so `ipgraph query` never loads it)."""
        import pandas as pd

        if self.kind == "ask":
            return pd.DataFrame({"boolean": [bool(self.boolean)]})
        if self.kind == "graph":  # CONSTRUCT/DESCRIBE: one row per triple
            return pd.DataFrame(
                [tuple(python_value(t) for t in triple) for triple in self.triples],
                columns=["subject", "predicate", "object"],
            )
        records = self.records()
        columns: dict[str, Any] = {}
        for name in self.variables:
            values = [r[name] for r in records]
            kinds = {type(v) for v in values if v is not None}
            if kinds == {int}:
                columns[name] = pd.array(values, dtype="Int64")
            elif kinds == {datetime.date}:
                columns[name] = pd.to_datetime(pd.Series(values, dtype=object))
            elif kinds == {float}:
                columns[name] = pd.array([float("nan") if v is None else v for v in values], dtype="float64")
            else:
                columns[name] = pd.Series(values, dtype=object)
        return pd.DataFrame(columns, columns=self.variables)

    def __len__(self) -> int:
        return len(self.rows) if self.kind == "select" else len(self.triples)


class Engine(Protocol):
    """Something that answers SPARQL text: the embedded store, rdflib, a remote endpoint."""

    name: str

    def execute(self, sparql: str) -> QueryResult:
        """Run one query; raise QueryError on a syntax or evaluation error."""
        ...


# ---------------------------------------------------------------------------------------------
# Named queries


@dataclass(frozen=True)
class Param:
    """A parameter of a named query: `--option VALUE` binds ?variable after resolving VALUE.

    kind "year" takes a four-digit year, "text" any text; any other kind names a resolver
    pair of queries, _find-KIND.rq (exact name) and _find-KIND-part.rq (part of a name),
    which turn the value into the nodes it names.
    """

    option: str
    kind: str
    variable: str
    description: str

    @property
    def is_name(self) -> bool:
        return self.kind not in ("year", "text")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    params: tuple[Param, ...]
    text: str

    @property
    def prefixes(self) -> dict[str, str]:
        return parse_prefixes(self.text)

    def param(self, option: str) -> Param | None:
        return next((p for p in self.params if p.option == option), None)


_HEADER = re.compile(r"^#\s*(name|description|param):\s*(.*?)\s*$")
_PARAM = re.compile(r"^(?P<option>[\w-]+)\s+(?P<kind>[\w:-]+)\s+\?(?P<var>\w+)\s+(?P<desc>.+)$")
_BIND = re.compile(r"^(?P<indent>[ \t]*)#\s*@bind\s+\?(?P<var>\w+)\s*$", re.MULTILINE)
_PREFIX = re.compile(r"^\s*PREFIX\s+([\w-]*):\s*<([^>]*)>", re.MULTILINE | re.IGNORECASE)


def parse_prefixes(text: str) -> dict[str, str]:
    """The PREFIX declarations of a query text."""
    return {m.group(1): m.group(2) for m in _PREFIX.finditer(text)}


def parse_named_query(name: str, text: str) -> NamedQuery:
    """Read the header comments of a .rq file (raises QueryError when they are malformed)."""
    meta: dict[str, str] = {}
    params: list[Param] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        m = _HEADER.match(line)
        if not m:
            continue
        key, value = m.groups()
        if key == "param":
            pm = _PARAM.match(value)
            if not pm:
                raise QueryError(
                    f"{name}.rq: malformed param line {line!r}; expected `# param: OPTION KIND ?VAR description`"
                )
            params.append(Param(pm["option"], pm["kind"], pm["var"], pm["desc"]))
        else:
            meta[key] = value
    if meta.get("name") != name:
        raise QueryError(f"{name}.rq: the header must start with `# name: {name}`")
    if not meta.get("description"):
        raise QueryError(f"{name}.rq: a `# description:` line is missing")
    marked = {m.group("var") for m in _BIND.finditer(text)}
    for p in params:
        if p.variable not in marked:
            raise QueryError(f"{name}.rq: parameter --{p.option} has no `# @bind ?{p.variable}` line")
    return NamedQuery(name=name, description=meta["description"], params=tuple(params), text=text)


@cache
def _all_queries() -> dict[str, NamedQuery]:
    folder = files("ipgraph") / "queries"
    found: dict[str, NamedQuery] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".rq"):
            name = entry.name[: -len(".rq")]
            found[name] = parse_named_query(name, entry.read_text(encoding="utf-8"))
    return dict(sorted(found.items()))


def list_queries() -> list[NamedQuery]:
    """The named queries users run (internal helpers, whose names start with _, left out)."""
    return [q for name, q in _all_queries().items() if not name.startswith("_")]


def get_query(name: str) -> NamedQuery:
    """The named query `name`; QueryError lists the known names when there is none."""
    queries = _all_queries()
    if name not in queries or name.startswith("_"):
        names = [q.name for q in list_queries()]
        close = closest_names(name, {n: [n] for n in names})
        if close:
            guess = close[0]
            others = f" (or {', '.join(c.label for c in close[1:])})" if len(close) > 1 else ""
            raise QueryError(
                f"no named query '{name}'; did you mean '{guess.label}'{others}? "
                f"({guess.why}; see `ipgraph query --list`)"
            )
        raise QueryError(
            f"no named query '{name}'; the named queries are: {', '.join(names)} (see `ipgraph query --list`)"
        )
    return queries[name]


def default_prefixes() -> dict[str, str]:
    """Prefixes a user query may use without declaring them (ipgraph/queries/_prefixes.rq)."""
    return _all_queries()["_prefixes"].prefixes


def bind(text: str, values: Mapping[str, Sequence[Term]]) -> str:
    """Replace each `# @bind ?var` line of `text` by `VALUES ?var { … }` for the given terms.

    Terms are written by pyoxigraph (escaped, validated); a variable without values keeps its
    comment line, so it stays unbound. An empty sequence binds nothing, so the query answers
    with no rows.
    """

    def replace(m: re.Match[str]) -> str:
        var = m.group("var")
        if var not in values:
            return m.group(0)
        terms = " ".join(t.n3() for t in values[var])
        return f"{m.group('indent')}VALUES ?{var} {{ {terms} }}"

    return _BIND.sub(replace, text)


def resolve_name(engine: Engine, kind: str, name: str) -> tuple[list[Term], list[str]]:
    """The nodes a user's name for an agency, programme or document stands for.

    An exact label or alias first (_find-KIND.rq); failing that, every node one of whose names
    contains the text (_find-KIND-part.rq). Returns the nodes and notes for the user (several
    matches, a match by part of a name). Raises QueryError when nothing matches.
    """
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise QueryError(f"an empty {kind} name was given")
    queries = _all_queries()
    if f"_find-{kind}" not in queries or f"_find-{kind}-part" not in queries:
        raise QueryError(f"no resolver for parameters of kind {kind!r} (_find-{kind}.rq)")
    # Labels carry @zh; file names and 文号 are plain literals: ask for both forms.
    exact = engine.execute(
        bind(queries[f"_find-{kind}"].text, {"name": [Term.literal(name, lang="zh"), Term.literal(name)]})
    )
    matched = _nodes(exact)
    how = "is named"
    if not matched:
        part = engine.execute(bind(queries[f"_find-{kind}-part"].text, {"part": [Term.literal(name)]}))
        matched = _nodes(part)
        how = "is part of the name of"
    plural = "agencies" if kind == "agency" else f"{kind}s"
    if not matched:
        missing = f"no {kind} is named or has a name containing “{name}”"
        close = closest_names(name, _names_by_node(engine, kind)) if f"_names-{kind}" in queries else []
        if close and close[0].elsewhere:  # only bodies of other places come close: say so, do not guess
            from ipgraph.knowledge import leading_place

            raise QueryError(
                f"{missing}; the graph has no {kind} of {leading_place(name)} named like it "
                f"(names like it elsewhere: {'、'.join(c.label for c in close)}; "
                f"list them with `ipgraph query {plural}`)"
            )
        close = [c for c in close if not c.elsewhere]
        if close:
            guess = close[0]
            others = f"; or {'、'.join(c.label for c in close[1:])}" if len(close) > 1 else ""
            raise QueryError(
                f"{missing}; did you mean {guess.label}? ({guess.why}{others}; "
                f"list them with `ipgraph query {plural}`)"
            )
        raise QueryError(f"{missing}; list them with `ipgraph query {plural}`")
    nodes = [node for node, _ in matched]
    notes = []
    if len(matched) > 1:
        labels = "、".join(label for _, label in matched[:12]) + ("…" if len(matched) > 12 else "")
        notes.append(
            f"note: “{name}” {how} {len(matched)} {plural} ({labels}); rows for all of them are shown, "
            f"give a full name to choose one"
        )
    elif how != "is named":
        notes.append(f"note: “{name}” matched {matched[0][1]} by part of its name")
    return nodes, notes


@dataclass(frozen=True)
class CloseName:
    """A name close to what the user typed: the node's label, the name that came closest, and why."""

    label: str
    name: str
    score: float
    why: str
    elsewhere: str | None = None  # the place the name belongs to, when it is not the place typed


    def __str__(self) -> str:
        return self.label


# Below this similarity a suggestion is noise: two unrelated 4-character agency names share a
# character or two (知识产权局 / 财政局 ≈ 0.5), a one-character slip in 5+ characters stays above.
CLOSE_ENOUGH = 0.6


def closest_names(typed: str, names: Mapping[str, Sequence[str]], limit: int = 3) -> list[CloseName]:
    """The labels whose names come closest to `typed`, best first (at most `limit`).

    `names` maps each label to all its names (the label, aliases, 文号 …). Names are compared
    character by character (difflib's ratio over the sequence of characters: 2 × characters
    in common, in order, over both lengths), which suits Chinese, where a word is not spaced:
    天津知识产权局 against 天津市知识产权局 keeps 7 of 8 characters in order (0.93). The ratio,
    unlike a raw edit distance, is relative to the length, so one slip costs a short name
    more than a long title. Case and width forms are folded (NFKC, casefold) first.

    A place is not a typo: when the typed name begins with a place (北京市知识产权局), names of
    bodies of another place (天津市知识产权局, similar as the characters are) come after every name of
    the same place, marked with `elsewhere`, so that "did you mean" never swaps one city for another.
    """
    import difflib

    from ipgraph.knowledge import leading_place, same_place

    want = unicodedata.normalize("NFKC", typed).casefold().strip()
    typed_place = leading_place(typed.strip())
    scored: list[CloseName] = []
    for label, forms in names.items():
        best: tuple[float, str] | None = None
        for form in forms:
            folded = unicodedata.normalize("NFKC", form).casefold()
            ratio = difflib.SequenceMatcher(None, want, folded, autojunk=False).ratio()
            if best is None or ratio > best[0]:
                best = (ratio, form)
        if best is not None and best[0] >= CLOSE_ENOUGH:
            place = leading_place(best[1]) if typed_place else None
            elsewhere = place if not same_place(typed_place, place) else None
            scored.append(CloseName(label, best[1], best[0], _why(want, label, best[1]), elsewhere))
    scored.sort(key=lambda c: (c.elsewhere is not None, -c.score, c.label))
    return scored[:limit]


def _why(want: str, label: str, name: str) -> str:
    import difflib

    folded = unicodedata.normalize("NFKC", name).casefold()
    common = sum(b.size for b in difflib.SequenceMatcher(None, want, folded, autojunk=False).get_matching_blocks())
    where = "it" if name == label else f"its name {name}"
    return f"the closest: {common} of the {len(want)} characters you typed are in {where}, in order, of {len(folded)}"


def _names_by_node(engine: Engine, kind: str) -> dict[str, list[str]]:
    """Each node's label → all its names (_names-KIND.rq)."""
    result = engine.execute(_all_queries()[f"_names-{kind}"].text)
    forms: dict[str, list[str]] = {}
    for _node, label, form in result.rows:
        if label is None:
            continue
        forms.setdefault(label.value, [label.value])
        if form is not None and form.value not in forms[label.value]:
            forms[label.value].append(form.value)
    return forms


def _nodes(result: QueryResult) -> list[tuple[Term, str]]:
    seen: dict[Term, str] = {}
    for node, label in result.rows:
        if node is not None and node not in seen:
            seen[node] = label.value if label is not None else node.value
    return sorted(seen.items(), key=lambda item: (item[1], item[0].value))


def _year(value: str) -> Term:
    text = value.strip()
    if not re.fullmatch(r"\d{4}", text):
        raise QueryError(f"--year must be a year such as 2025, not {value!r}")
    return Term.literal(text)


def prepare_named(
    engine: Engine, name: str, params: Mapping[str, str | None] | None = None
) -> tuple[str, list[str]]:
    """The text of named query `name` with `params` bound, and notes about how names were matched."""
    query = get_query(name)
    given = {k: v for k, v in (params or {}).items() if v is not None}
    for option in given:
        if query.param(option) is None:
            takes = ", ".join(f"--{p.option}" for p in query.params) or "no parameters"
            raise QueryError(f"query '{name}' takes {takes}, not --{option}")
    values: dict[str, list[Term]] = {}
    notes: list[str] = []
    for option, value in given.items():
        param = query.param(option)
        assert param is not None
        if param.is_name:
            nodes, found_notes = resolve_name(engine, param.kind, value)
            values[param.variable] = nodes
            notes.extend(found_notes)
        elif param.kind == "year":
            values[param.variable] = [_year(value)]
        else:
            values[param.variable] = [Term.literal(value)]
    return bind(query.text, values), notes


def run_named(engine: Engine, name: str, params: Mapping[str, str | None] | None = None) -> QueryResult:
    """Run named query `name` with parameters (option name → value) on `engine`.

    Raises QueryError for an unknown query, an unknown parameter, a bad value or a name that
    matches nothing.
    """
    start = time.perf_counter()
    text, notes = prepare_named(engine, name, params)
    result = engine.execute(text)
    result.notes = notes + result.notes
    result.seconds = time.perf_counter() - start
    if result.kind == "select":
        # Named queries give labels for people and IRIs for programs: the table shows the labels.
        iri_only = [
            v
            for i, v in enumerate(result.variables)
            if result.rows and all(t is None or t.kind == "uri" for t in (r[i] for r in result.rows))
        ]
        if len(iri_only) < len(result.variables):
            result.hidden = iri_only
    return result


def run_sparql(engine: Engine, sparql: str) -> QueryResult:
    """Run arbitrary SPARQL (the prefixes of _prefixes.rq may be used without declaring them)."""
    if not sparql.strip():
        raise QueryError("the query is empty")
    start = time.perf_counter()
    result = engine.execute(sparql)
    result.seconds = time.perf_counter() - start
    return result


def with_prefixes(sparql: str) -> str:
    """`sparql` with PREFIX lines for the default prefixes it does not declare itself."""
    declared = parse_prefixes(sparql)
    missing = [f"PREFIX {p}: <{iri}>" for p, iri in default_prefixes().items() if p not in declared]
    return "\n".join(missing + [sparql]) if missing else sparql


# The tokens of a query that can name an IRI, and those inside which nothing does (strings,
# comments), matched left to right so that an IRI inside a string or a comment is never touched.
_STRING = "|".join((
    r"'''(?:[^'\\]|\\.|'(?!''))*'''",
    r'"""(?:[^"\\]|\\.|"(?!""))*"""',
    r"'(?:[^'\\\n\r]|\\.)*'",
    r'"(?:[^"\\\n\r]|\\.)*"',
))
_TOKENS = re.compile(
    rf"(?P<skip>{_STRING}|\#[^\n\r]*|[?$]\w+)"  # strings, comments, variables: left alone
    r'|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)'
    r"|(?P<pname>(?P<prefix>(?:[^\W\d_][\w.\-]*)?):"
    r"(?P<local>(?:[\w:%\-]|\\[_~.\-!$&'()*+,;=/?#@%]|\.(?=[\w:%\\\-]))*))"
)
_LOCAL_ESCAPE = re.compile(r"\\(.)")


def canonical_query(sparql: str, prefixes: Mapping[str, str] | None = None) -> str:
    """`sparql` with every IRI of this graph written in the graph's own form (ipgraph.iri).

    A query may name one of our IRIs percent-encoded (`<…/agency/%E5%A4%A9…>`, `agency:%E5…`: what
    a browser or another tool copies) where the graph stores it readable (`agency:天津市…`): such
    an IRIREF or prefixed name is rewritten, so that the other spelling gives the same answer
    instead of none. Only those tokens change; strings, comments and every other IRI stay as they
    are. `prefixes`: the ones the engine predeclares (default: _prefixes.rq); the query's own
    PREFIX lines take precedence.
    """
    from ipgraph.iri import DATA, canonical_iri, compact_iri

    if DATA not in sparql and "%" not in sparql and "\\" not in sparql:
        return sparql  # nothing to rewrite (the common case: no scan)
    known = {**(default_prefixes() if prefixes is None else prefixes), **parse_prefixes(sparql)}

    def rewrite(m: re.Match[str]) -> str:
        if m.group("iri"):
            canonical = canonical_iri(m.group("iri")[1:-1])
            return f"<{canonical}>" if canonical != m.group("iri")[1:-1] else m.group(0)
        local = m.group("local")
        if m.group("pname") and ("%" in local or "\\" in local) and m.group("prefix") in known:
            ns = known[m.group("prefix")]
            written = ns + _LOCAL_ESCAPE.sub(r"\1", local)
            canonical = canonical_iri(written)
            if "\\" in local and canonical.startswith(DATA):
                return f"<{canonical}>"  # not every engine reads PN_LOCAL escapes (rdflib keeps the backslash)
            if canonical != written:
                return compact_iri(canonical, {m.group("prefix"): ns})
        return m.group(0)

    return _TOKENS.sub(rewrite, sparql)


# ---------------------------------------------------------------------------------------------
# Engines


class OxigraphEngine:
    """Oxigraph: the embedded store written by `ipgraph build` (build/store, opened read-only),
    or the same graph loaded into memory (name "memory")."""

    def __init__(self, store: pyoxigraph.Store, name: str = "oxigraph") -> None:
        self.store = store
        self.name = name
        self._prefixes = default_prefixes()

    @classmethod
    def open(cls, build_dir: Path | str, notes: list[str] | None = None) -> OxigraphEngine:
        """Open build_dir/store; (re)load it from build_dir/ipgraph.nt when missing or older."""
        from ipgraph.store import ensure_store, open_store

        if ensure_store(build_dir) and notes is not None:
            notes.append(f"note: loaded {build_dir}/ipgraph.nt into the store {build_dir}/store")
        return cls(open_store(build_dir))

    def execute(self, sparql: str) -> QueryResult:
        try:
            return result_from_oxigraph(self.store.query(canonical_query(sparql, self._prefixes), prefixes=self._prefixes))
        except SyntaxError as exc:
            from ipgraph.sparqlerrors import explain_sparql_error  # only once the parser has refused

            problem = explain_sparql_error(sparql, str(exc), self._prefixes)
            raise QueryError(problem.text()) from drop_frames(exc)
        except (OSError, ValueError, TypeError, RuntimeError) as exc:
            raise QueryError(f"the query failed: {exc}") from drop_frames(exc)


def result_from_oxigraph(
    answer: Any, max_rows: int | None = None, deadline: float | None = None
) -> QueryResult:
    """A pyoxigraph answer (QuerySolutions, QueryBoolean or QueryTriples) as a QueryResult.

    With max_rows, ResultTooLarge is raised as soon as there are more rows or triples than
    that; with deadline (a time.monotonic() value), QueryTimeout once it has passed while
    rows are still coming (a single long step inside Oxigraph is not interrupted: the
    server enforces its hard limit by stopping the worker process).
    """
    import pyoxigraph

    if isinstance(answer, pyoxigraph.QueryBoolean):
        return QueryResult(kind="ask", boolean=bool(answer))
    conv = Term.from_oxigraph
    rows: list[Row] = []
    triples: list[tuple[Term, Term, Term]] = []
    is_select = isinstance(answer, pyoxigraph.QuerySolutions)
    for n, item in enumerate(answer, start=1):
        if is_select:
            rows.append(tuple(conv(t) if t is not None else None for t in item))
        else:
            triples.append((conv(item.subject), conv(item.predicate), conv(item.object)))
        if max_rows is not None and n > max_rows:
            raise ResultTooLarge(max_rows)
        if deadline is not None and n % 256 == 0 and time.monotonic() > deadline:
            raise QueryTimeout()
    if is_select:
        return QueryResult(kind="select", variables=[v.value for v in answer.variables], rows=rows)
    return QueryResult(kind="graph", triples=triples)


def one_line(message: str, limit: int = 200) -> str:
    """An engine's error message on one line and not too long (Oxigraph lists every expected token)."""
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ResultTooLarge(QueryError):
    """A query returned more rows than the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"the result has more than {limit} rows or triples, the limit of this endpoint; "
            f"add a LIMIT to the query"
        )


class QueryTimeout(QueryError):
    """A query ran longer than the time limit."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        limit = f"{seconds:g} s, " if seconds else ""
        super().__init__(
            f"the query ran longer than {limit}the time limit of this endpoint; "
            f"make it more selective or add a LIMIT"
        )


class RdflibEngine:
    """rdflib's in-memory SPARQL engine over the built graph (the comparison baseline)."""

    name = "rdflib"

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self._prefixes = default_prefixes()

    @classmethod
    def open(cls, build_dir: Path | str) -> RdflibEngine:
        from ipgraph.store import load_graph

        return cls(load_graph(build_dir))

    def execute(self, sparql: str) -> QueryResult:
        try:
            answer = self.graph.query(canonical_query(sparql, self._prefixes), initNs=self._prefixes)
        except Exception as exc:  # pyparsing and evaluation errors have no common base class
            from pyparsing import ParseBaseException

            from ipgraph.sparqlerrors import explain_sparql_error

            if isinstance(exc, ParseBaseException) or "Unknown namespace prefix" in str(exc):
                problem = explain_sparql_error(sparql, str(exc), self._prefixes, check_update=False)
                raise QueryError(problem.text()) from exc
            raise QueryError(f"SPARQL error (rdflib): {one_line(str(exc))}") from exc
        if answer.type == "ASK":
            return QueryResult(kind="ask", boolean=bool(answer.askAnswer))
        if answer.type == "SELECT":
            variables = [str(v) for v in answer.vars]
            conv = Term.from_rdflib
            rows = [tuple(conv(t) if t is not None else None for t in row) for row in answer]
            return QueryResult(kind="select", variables=variables, rows=rows)
        triples = [
            (Term.from_rdflib(s), Term.from_rdflib(p), Term.from_rdflib(o)) for s, p, o in answer.graph
        ]
        return QueryResult(kind="graph", triples=triples)


def open_engine(
    build_dir: Path | str = "build", engine: str = "oxigraph", notes: list[str] | None = None
) -> Engine:
    """The engine `engine` over the graph built into build_dir: "oxigraph" (the on-disk store,
    opened in milliseconds), "memory" (Oxigraph in memory: loads first, then answers faster) or
    "rdflib" (rdflib's in-memory engine, the baseline)."""
    if engine == "oxigraph":
        return OxigraphEngine.open(build_dir, notes)
    if engine == "memory":
        from ipgraph.store import load_memory_store

        return OxigraphEngine(load_memory_store(build_dir), name="memory")
    if engine == "rdflib":
        return RdflibEngine.open(build_dir)
    raise QueryError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


# ---------------------------------------------------------------------------------------------
# Output formats


def results_json(result: QueryResult) -> dict[str, Any]:
    """SPARQL 1.1 Query Results JSON of a SELECT or ASK result."""
    if result.kind == "ask":
        return {"head": {}, "boolean": bool(result.boolean)}
    bindings = [
        {v: t.to_json() for v, t in zip(result.variables, row, strict=True) if t is not None}
        for row in result.rows
    ]
    return {"head": {"vars": list(result.variables)}, "results": {"bindings": bindings}}


def results_csv(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results CSV: plain values, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if result.kind == "ask":
        writer.writerow(["boolean"])
        writer.writerow(["true" if result.boolean else "false"])
        return out.getvalue()
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow(
            ["" if t is None else (f"_:{t.value}" if t.kind == "bnode" else t.value) for t in row]
        )
    return out.getvalue()


def results_tsv(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results TSV: terms written as in Turtle."""
    if result.kind == "ask":
        return "?boolean\n" + ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join(f"?{v}" for v in result.variables)]
    for row in result.rows:
        lines.append("\t".join("" if t is None else t.n3() for t in row))
    return "\n".join(lines) + "\n"


def xml_escape(text: str) -> str:
    return html.escape(text, quote=False)


def quoteattr(text: str) -> str:
    return '"' + html.escape(text, quote=True) + '"'


def results_xml(result: QueryResult) -> str:
    """SPARQL Query Results XML Format."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
        "<head>",
    ]
    if result.kind == "ask":
        out += ["</head>", f"<boolean>{'true' if result.boolean else 'false'}</boolean>", "</sparql>"]
        return "\n".join(out) + "\n"
    out += [f"<variable name={quoteattr(v)}/>" for v in result.variables]
    out += ["</head>", "<results>"]
    for row in result.rows:
        out.append("<result>")
        for var, term in zip(result.variables, row, strict=True):
            if term is None:
                continue
            if term.kind == "uri":
                inner = f"<uri>{xml_escape(term.value)}</uri>"
            elif term.kind == "bnode":
                inner = f"<bnode>{xml_escape(term.value)}</bnode>"
            elif term.lang:
                inner = f"<literal xml:lang={quoteattr(term.lang)}>{xml_escape(term.value)}</literal>"
            elif term.datatype:
                inner = f"<literal datatype={quoteattr(term.datatype)}>{xml_escape(term.value)}</literal>"
            else:
                inner = f"<literal>{xml_escape(term.value)}</literal>"
            out.append(f"<binding name={quoteattr(var)}>{inner}</binding>")
        out.append("</result>")
    out += ["</results>", "</sparql>"]
    return "\n".join(out) + "\n"


def serialize_triples(triples: Iterable[tuple[Term, Term, Term]], media_type: str = "text/turtle") -> bytes:
    """Triples in an RDF syntax pyoxigraph writes (Turtle with the default prefixes, JSON-LD, N-Triples …)."""
    import pyoxigraph

    fmt = pyoxigraph.RdfFormat.from_media_type(media_type)
    if fmt is None:
        raise QueryError(f"no RDF syntax for media type {media_type!r}")
    data = [pyoxigraph.Triple(s.to_oxigraph(), p.to_oxigraph(), o.to_oxigraph()) for s, p, o in triples]
    kwargs: dict[str, Any] = {}
    if fmt in (pyoxigraph.RdfFormat.TURTLE, pyoxigraph.RdfFormat.TRIG, pyoxigraph.RdfFormat.N3):
        kwargs["prefixes"] = default_prefixes()  # agency:天津市知识产权局, as tables print it
    return pyoxigraph.serialize(data, format=fmt, **kwargs) or b""


def display_width(text: str) -> int:
    """Columns a terminal uses for `text`: CJK wide and full-width characters take two."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _clip(text: str, limit: int) -> str:
    if display_width(text) <= limit:
        return text
    out, width = [], 0
    for ch in text:
        w = display_width(ch)
        if width + w > limit - 1:
            break
        out.append(ch)
        width += w
    return "".join(out) + "…"


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def compact(term: Term | None, prefixes: Mapping[str, str] | None = None) -> str:
    """A short readable form for tables: IRIs as prefixed names (agency:天津市知识产权局) or <IRI>,
    both of which paste back into a query (the default prefixes predeclared); literal values."""
    if term is None:
        return ""
    if term.kind == "uri":
        from ipgraph.iri import compact_iri

        return compact_iri(term.value, prefixes or default_prefixes())
    if term.kind == "bnode":
        return f"_:{term.value}"
    return " ".join(term.value.split())  # newlines inside a cell would break the table


def _cell(term: Term | None, max_width: int) -> str:
    # IRIs are never clipped: a clipped IRI could not be pasted back into a query
    text = compact(term)
    return text if term is not None and term.kind == "uri" else _clip(text, max_width)


def results_table(result: QueryResult, max_width: int = 60) -> str:
    """An aligned text table (CJK-aware) with long cells clipped to max_width columns."""
    if result.kind == "ask":
        return ("true" if result.boolean else "false") + "\n"
    shown = [i for i, v in enumerate(result.variables) if v not in result.hidden]
    headers = [result.variables[i] for i in shown]
    cells = [[_cell(row[i], max_width) for i in shown] for row in result.rows]
    widths = [display_width(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(cell))
    lines = [
        "  ".join(_pad(h, w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    for row in cells:
        lines.append("  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def format_result(result: QueryResult, fmt: str = "table") -> str:
    """The result as text: table, csv, tsv or json (SPARQL 1.1 results; JSON-LD for triples).

    CONSTRUCT/DESCRIBE results are Turtle for table, N-Triples for csv/tsv and JSON-LD for json.
    """
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if result.kind == "graph":
        media = {"table": "text/turtle", "json": "application/ld+json"}.get(fmt, "application/n-triples")
        return serialize_triples(result.triples, media).decode("utf-8")
    if fmt == "json":
        return json.dumps(results_json(result), ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        return results_csv(result)
    if fmt == "tsv":
        return results_tsv(result)
    return results_table(result)


# ---------------------------------------------------------------------------------------------
# One call for the command line


_NAME = re.compile(r"^[A-Za-z_][\w-]*$")


# Oxigraph's parser recurses once per nesting level ({, (, [ …): a thread whose stack grows with
# the query's length cannot overflow (4 KiB a character measured ample; the main thread's 8 MiB
# overflowed at ~5,000 levels and the process died of SIGSEGV).
STACK_PER_CHAR = 4096
MAX_STACK = 8 * 1024**3  # address space reserved, not memory used: pages are touched as needed
MIN_STACK = 64 * 1024**2


def drop_frames(exc: BaseException) -> BaseException:
    """`exc` (and its causes) without tracebacks, their frames' locals cleared.

    pyoxigraph's answers may only be dropped by the thread that made them: an exception that
    kept one alive in a frame would let the garbage collector of another thread drop it.
    """
    import traceback

    todo: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if err.__traceback__ is not None:
            traceback.clear_frames(err.__traceback__)
            err.__traceback__ = None
        todo += [err.__cause__, err.__context__]
    return exc


def run_guarded(func: Callable[[], T], text_length: int, timeout: float | None = None) -> T:
    """func() in a thread with a stack sized for a query of text_length characters.

    Waits at most `timeout` seconds (QueryTimeout after; None or 0: no limit). The calling
    (main) thread stays free, so Ctrl-C raises KeyboardInterrupt at once even while Oxigraph
    runs; the abandoned thread is a daemon: the caller exits the process.
    """
    import threading

    stack = max(MIN_STACK, text_length * STACK_PER_CHAR)
    if stack > MAX_STACK:
        raise QueryError(
            f"the query is {text_length} characters long; `ipgraph query` takes at most "
            f"{MAX_STACK // STACK_PER_CHAR}"
        )
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = func()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = drop_frames(exc)

    previous = threading.stack_size(stack)
    try:
        thread = threading.Thread(target=work, name="ipgraph-query", daemon=True)
        thread.start()
    finally:
        threading.stack_size(previous)
    deadline = time.monotonic() + timeout if timeout else None
    while thread.is_alive():
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise QueryTimeout(timeout)
        thread.join(0.1 if left is None else min(0.1, left))  # short waits: Ctrl-C is seen at once
    if "error" in box:
        raise box["error"]
    return box["result"]


def query(
    name_or_sparql: str,
    params: Mapping[str, str | None] | None = None,
    build_dir: Path | str = "build",
    engine: str = "oxigraph",
    endpoint: str | None = None,
    default_graph: str | None = None,
    timeout: float | None = None,
) -> QueryResult:
    """Answer a named query (when `name_or_sparql` is a name) or SPARQL text.

    The graph is build_dir's embedded store (engine "oxigraph"), rdflib's in-memory engine over
    build_dir/ipgraph.nt ("rdflib"), or the SPARQL endpoint at `endpoint` (optionally limited
    to `default_graph`). Raises QueryError (bad query, unknown name, no match), QueryTimeout
    (past `timeout` seconds) or GraphNotFoundError (nothing built).
    """
    given = {k: v for k, v in (params or {}).items() if v is not None}
    notes: list[str] = []
    if endpoint:
        from ipgraph.remote import RemoteEngine

        eng: Engine = RemoteEngine(endpoint, default_graph=default_graph)
    else:
        if default_graph:
            raise QueryError("--default-graph goes with --endpoint")
        eng = open_engine(build_dir, engine, notes)
    if _NAME.match(name_or_sparql.strip()):
        result = run_guarded(lambda: run_named(eng, name_or_sparql.strip(), given), 20_000, timeout)
    else:
        if given:
            raise QueryError(f"--{next(iter(given))} goes with a named query, not with SPARQL text")
        result = run_guarded(lambda: run_sparql(eng, name_or_sparql), len(name_or_sparql), timeout)
    result.notes = notes + result.notes
    return result


def describe_queries() -> str:
    """The named queries, one per line: name, parameters and description (for `ipgraph query --list`)."""
    queries = list_queries()
    rows = [
        (q.name, " ".join(f"[--{p.option} {p.option.upper()}]" for p in q.params), q.description)
        for q in queries
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    return "\n".join(f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows) + "\n"
