"""The store gives back the very terms of ipgraph.nt (issue 11 item 6): decimals in the canonical
form Oxigraph writes ("8", not "8.0"), so a CONSTRUCT dump is term-identical to the file."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from ipgraph.stream.triples import decimal_text

XSD_DECIMAL = pyoxigraph.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")


def test_a_construct_dump_of_the_store_is_term_identical_to_the_ntriples(built_dir: Path) -> None:
    store = pyoxigraph.Store.read_only(str(built_dir / "store"))
    dump = {str(t) for t in store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")}
    nt = (built_dir / "ipgraph.nt").read_bytes()
    written = {str(t) for t in pyoxigraph.parse(nt, format=pyoxigraph.RdfFormat.N_TRIPLES)}
    assert len(written) == len(nt.splitlines()) > 1000
    assert dump == written, sorted(written - dump)[:5]
    assert any(str(XSD_DECIMAL) in t for t in written)  # the decimals are there to compare


@pytest.mark.parametrize("value", [8.0, 7.5, 0.35, 100.0, 3000.0, 0.0, -0.0, -2.5, 0.1 + 0.2, 12345678.9, 1e-7, 2e9])
def test_decimals_are_written_as_the_store_gives_them_back(value: float) -> None:
    text = decimal_text(value)
    store = pyoxigraph.Store()
    node = pyoxigraph.NamedNode("https://example.org/t")
    store.add(pyoxigraph.Quad(node, node, pyoxigraph.Literal(text, datatype=XSD_DECIMAL)))
    (back,) = [q.object for q in store.quads_for_pattern(None, None, None)]
    assert back.value == text
    assert abs(float(text) - value) < 1e-6
