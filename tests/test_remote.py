"""The remote-store client without a server: URLs, the Digest answer, reading SPARQL results.
(tests/test_remote_virtuoso.py runs it against a real Virtuoso.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ipgraph.errors import GraphNotFoundError, QueryError
from ipgraph.query import Term
from ipgraph.remote import (
    RemoteEngine,
    RemoteError,
    digest_response,
    graph_store_url,
    parse_response,
    push_graph,
)


def test_graph_store_url() -> None:
    assert graph_store_url("http://h/gsp", None) == "http://h/gsp?default"
    assert (
        graph_store_url("http://h/gsp", "https://w3id.org/g?x=1")
        == "http://h/gsp?graph=https%3A%2F%2Fw3id.org%2Fg%3Fx%3D1"
    )
    assert graph_store_url("http://h/gsp?token=1", "urn:g") == "http://h/gsp?token=1&graph=urn%3Ag"


def test_digest_response_matches_rfc_2617_example() -> None:
    assert (
        digest_response(
            "Mufasa",
            "Circle Of Life",
            "testrealm@host.com",
            "GET",
            "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            "00000001",
            "0a4f113b",
            "auth",
        )
        == "6629fae49393a05397450978507c4ef1"
    )


def test_parse_results_json_including_virtuoso_spelling() -> None:
    body = json.dumps(
        {
            "head": {"vars": ["a", "n", "l", "s"]},
            "results": {
                "bindings": [
                    {
                        "a": {"type": "uri", "value": "https://w3id.org/ipgraph/id/agency/x"},
                        "n": {
                            "type": "typed-literal",
                            "datatype": "http://www.w3.org/2001/XMLSchema#integer",
                            "value": "6",
                        },
                        "l": {"type": "literal", "xml:lang": "zh", "value": "天津市知识产权局"},
                        "s": {
                            "type": "literal",
                            "datatype": "http://www.w3.org/2001/XMLSchema#string",
                            "value": "x",
                        },
                    },
                    {},
                ]
            },
        }
    ).encode()
    result = parse_response(body, "application/sparql-results+json")
    assert result.variables == ["a", "n", "l", "s"]
    assert result.rows[0] == (
        Term.iri("https://w3id.org/ipgraph/id/agency/x"),
        Term.literal("6", datatype="http://www.w3.org/2001/XMLSchema#integer"),
        Term.literal("天津市知识产权局", lang="zh"),
        Term.literal("x"),
    )
    assert result.rows[1] == (None, None, None, None)
    assert parse_response(b'{"head": {}, "boolean": true}', "application/sparql-results+json").boolean is True


def test_parse_graph_response() -> None:
    body = b'<https://a> <https://b> "c"@zh .\n'
    result = parse_response(body, "application/n-triples")
    assert result.kind == "graph" and result.triples[0][2] == Term.literal("c", lang="zh")
    with pytest.raises(QueryError, match="does not read"):
        parse_response(b"x", "image/png")


def test_unreachable_endpoint_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="cannot reach the server"):
        RemoteEngine("http://127.0.0.1:9/sparql", timeout=5).execute("ASK {}")
    (tmp_path / "ipgraph.nt").write_text("<https://a> <https://b> <https://c> .\n", encoding="utf-8")
    with pytest.raises(RemoteError, match="cannot reach the server"):
        push_graph(tmp_path, "http://127.0.0.1:9/gsp", timeout=5)
    with pytest.raises(RemoteError, match="cannot reach the server"):
        push_graph(tmp_path, "http://127.0.0.1:9/gsp", user="dba", password="dba", timeout=5)


def test_push_without_a_build(tmp_path: Path) -> None:
    with pytest.raises(GraphNotFoundError, match="ipgraph build"):
        push_graph(tmp_path, "http://127.0.0.1:9/gsp")
