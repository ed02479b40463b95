"""What a query asks for, decided from a real parse (rdflib's SPARQL parser and algebra).

`ipgraph serve` refuses SERVICE (federation: the server would send requests to any URL a
client names) and SPARQL Update. The decision is taken on the parse tree and the algebra of
the query, never on its words: `SERVICE:x`, `sErViCe`, a SERVICE inside OPTIONAL, FILTER
EXISTS or ASK are all the same ServiceGraphPattern node. What the parser cannot read is not
run. This is one of two layers: the query workers also run without a network (ipgraph.sandbox).

rdflib's parser is pure Python (milliseconds per query), so `ipgraph serve` calls this inside
the query worker, under the query's time and memory limits, and caches the verdict per text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

# Parse-tree and algebra node names that make the engine leave its own graph.
FEDERATION_NODES = frozenset({"ServiceGraphPattern"})


@dataclass(frozen=True)
class Verdict:
    """None of the fields set: the query may run. Otherwise an HTTP status and a one-line reason."""

    status: int = 0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 0


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _nodes(tree: object) -> set[str]:
    """The names of every CompValue in a parse tree or algebra (iterative: no recursion limit)."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    names: set[str] = set()
    stack: list[object] = [tree]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, CompValue):
            names.add(node.name)
            stack.extend(dict.values(node))
        elif isinstance(node, Mapping):
            stack.extend(node.values())
        elif isinstance(node, ParseResults):
            stack.extend(list(node))
        elif isinstance(node, (list, tuple, set, frozenset)):
            stack.extend(node)
    return names


def inspect_query(sparql: str, prefixes: Mapping[str, str] | None = None) -> Verdict:
    """Parse `sparql` and say whether this read-only, non-federating endpoint may run it."""
    return _inspect(sparql, tuple(sorted((prefixes or {}).items())))


@lru_cache(maxsize=1024)
def _inspect(sparql: str, prefixes: tuple[tuple[str, str], ...]) -> Verdict:
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        parsed = parseQuery(sparql)
    except RecursionError:
        return Verdict(400, "the query is nested too deeply for this endpoint; flatten its groups")
    except ParseBaseException as exc:
        try:
            parseUpdate(sparql)
        except (ParseBaseException, RecursionError, Exception):  # noqa: BLE001 (any failure: not an update)
            return Verdict(400, f"SPARQL syntax error: {_one_line(str(exc))}")
        return Verdict(403, "this endpoint is read-only: SPARQL Update is refused")
    if _nodes(parsed) & FEDERATION_NODES:
        return Verdict(403, "SERVICE is refused: this endpoint only queries its own graph")
    try:
        algebra = translateQuery(parsed, initNs=dict(prefixes))
    except RecursionError:
        return Verdict(400, "the query is nested too deeply for this endpoint; flatten its groups")
    except Exception as exc:  # noqa: BLE001 (rdflib raises plain Exception for an unknown prefix …)
        return Verdict(400, f"SPARQL error: {_one_line(str(exc))}")
    if _nodes(algebra.algebra) & FEDERATION_NODES:
        return Verdict(403, "SERVICE is refused: this endpoint only queries its own graph")
    return Verdict()
