"""`programme`'s lead agencies come in name order, whatever order the store holds the triples in
(issue 11, item 6: the endpoint's answer must not depend on the store)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph

from ipgraph.query import OxigraphEngine, run_named


def store_from(lines: list[str]) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load("".join(lines).encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    return store


LEADS = """
PREFIX ipg: <https://w3id.org/ipgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?programme ?doc ?leadName WHERE {
  ?measure ipg:mentions ?programme ; ipg:partOf ?doc ; ipg:leadAgency ?lead . ?lead rdfs:label ?leadName .
}"""


def test_programme_agencies_do_not_depend_on_the_store(built_dir: Path) -> None:
    lines = (built_dir / "ipgraph.nt").read_text(encoding="utf-8").splitlines(keepends=True)
    answers = []
    for order in (lines, lines[::-1], sorted(lines, key=lambda line: line[::-1])):
        result = run_named(OxigraphEngine(store_from(order)), "programme")
        cols = [result.variables.index(v) for v in ("programme", "doc", "leadAgencies")]
        answers.append({(r[cols[0]].value, r[cols[1]].value): r[cols[2]].value for r in result.rows if r[cols[2]]})
    assert answers[0] == answers[1] == answers[2]
    # Each list is the distinct lead names in code-point order (a name may itself contain 、).
    names: dict[tuple[str, str], set[str]] = {}
    for programme, doc, lead in store_from(lines).query(LEADS):
        names.setdefault((programme.value, doc.value), set()).add(lead.value)
    assert any(len(n) > 1 for n in names.values())  # the corpus has programmes led by several agencies
    assert answers[0] == {key: "、".join(sorted(n)) for key, n in names.items()}
