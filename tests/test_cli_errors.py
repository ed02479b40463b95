"""Errors a person can act on (issue 11, items 2 and 3): near misses, SPARQL syntax errors."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from ipgraph.cli import main
from ipgraph.query import closest_names, default_prefixes
from ipgraph.sparqlerrors import explain_sparql_error


def run(built_dir, *args: str):
    return CliRunner().invoke(main, ["query", *args, "--graph", str(built_dir)])


def test_a_misspelt_query_name_gets_the_closest(built_dir) -> None:
    result = run(built_dir, "leeds")
    assert result.exit_code == 1
    assert "did you mean 'leads'" in result.stderr


def test_a_name_far_from_every_query_lists_them(built_dir) -> None:
    result = run(built_dir, "zzzzzzzz")
    assert "did you mean" not in result.stderr and "the named queries are:" in result.stderr


def test_an_agency_without_its_city_character_is_suggested(built_dir) -> None:
    result = run(built_dir, "leads", "--agency", "天津知识产权局")
    assert result.exit_code == 1
    assert "did you mean 天津市知识产权局?" in result.stderr
    assert "7 of the 7 characters you typed" in result.stderr


def test_a_programme_near_miss_is_suggested(built_dir) -> None:
    programmes = run(built_dir, "programmes", "--format", "csv").stdout.splitlines()[1:]
    name = sorted(row.split(",")[0] for row in programmes if row)[-1]
    typo = name[:-1] + "衍"  # the last character replaced
    result = run(built_dir, "programme", "--name", typo)
    assert result.exit_code == 1 and f"did you mean {name}?" in result.stderr


def test_closest_names_compares_characters_and_aliases() -> None:
    names = {"天津市知识产权局": ["天津市知识产权局", "天津市知识产权局（市知识产权局）"], "沈阳市财政局": ["沈阳市财政局"]}
    close = closest_names("天津知识产权局", names)
    assert [c.label for c in close] == ["天津市知识产权局"]
    assert closest_names("ＬＥＡＤＳ", {"leads": ["leads"]})[0].score == 1.0  # width and case folded
    assert closest_names("财政", {"天津市知识产权局": ["天津市知识产权局"]}) == []


@pytest.mark.parametrize(
    "sparql,line,column,reason",
    [
        ("SELECT * WHERE { ?s foo:bar ?o }", 1, 21, "unknown prefix `foo:`"),
        ('SELECT * WHERE {\n  ?s rdfs:label "天津" ;\n     x:y ?o }', 3, 6, "unknown prefix `x:`"),
        ("INSERT DATA { <a:a> <a:b> <a:c> }", 1, 1, "updates (INSERT) are not supported here"),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT x", 1, 35, "unexpected `x`"),
        ("SELECT ?x WHERE { ?s ?p ?o } GROUP BY ?s", 1, 41, "GROUP BY does not group"),
        # Oxigraph fails at the end; the caret goes where the unreadable group starts
        ("SELECT * WHERE {\n  ?s ?p ?o .\n  FILTER(?o = 1 +)\n}", 3, 3, "near `FILTER`: this part cannot be read"),
        ("SELECT ?x WHERE {", 1, 18, "at the end of the query: the query is incomplete where it ends"),
    ],
)
def test_sparql_errors_say_where_and_why(built_dir, sparql, line, column, reason) -> None:
    result = run(built_dir, sparql)
    assert result.exit_code == 1 and "Traceback" not in result.output
    head, shown, caret = result.stderr.rstrip("\n").split("\n")
    assert head.startswith(f"Error: SPARQL syntax error at line {line}, column {column}")
    assert reason in head
    assert "'0'..='9'" not in result.stderr and "Prefix not found" not in result.stderr
    assert shown == "  " + sparql.split("\n")[line - 1]
    assert caret.endswith("^") and caret.strip() == "^"


def test_the_caret_sits_under_the_token_past_wide_characters() -> None:
    problem = explain_sparql_error('SELECT * WHERE { ?s ?p "天津" . ?s foo:x ?o }',
                                   "error at 1:40: expected one of Prefix not found, ['%']", default_prefixes(),
                                   check_update=False)
    shown, caret = problem.text().split("\n")[1:]
    # 天 and 津 take two terminal columns each: the caret is two columns further right
    assert caret.index("^") == shown.index("foo:") + 2


def test_rdflib_messages_are_explained_too() -> None:
    # what ipgraph serve's parse (rdflib) says, explained by the same function
    problem = explain_sparql_error("SELECT * WHERE { ?s bar:x ?o }", "Unknown namespace prefix : bar",
                                   check_update=False)
    assert (problem.line, problem.column, problem.token) == (1, 21, "bar:x")
    text = explain_sparql_error("SELECT ?x WHERE { ?x ?y }",
                                "Expected SelectQuery, found '?'  (at char 18), (line:1, col:19)",
                                check_update=False)
    assert (text.line, text.column, text.token) == (1, 19, "?x")


def test_the_rdflib_engine_explains_the_same_way(built_dir) -> None:
    result = run(built_dir, "SELECT * WHERE { ?s foo:bar ?o }", "--engine", "rdflib")
    assert result.exit_code == 1
    head, shown, caret = result.stderr.rstrip("\n").split("\n")
    assert head.startswith("Error: SPARQL syntax error at line 1, column 21 near `foo:bar`: unknown prefix `foo:`")
    assert caret.index("^") == shown.index("foo:bar")
