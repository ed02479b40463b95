"""CLI habits (issue 11, item 9): build lists its outputs, whole help summaries, push's
--graph DIR, eval in words, the README's query table, shell completion, docs/CLI.md."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import REPO

from ipgraph.cli import cli_reference, main
from ipgraph.query import list_queries

README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def build_run(tmp_path_factory, corpus_dir):
    out = tmp_path_factory.mktemp("habits-build")
    result = CliRunner().invoke(main, ["build", str(corpus_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, result


def test_build_names_every_output_it_wrote(build_run) -> None:
    out, result = build_run
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("wrote"))
    listed = [line.split()[-1] for line in lines[start:]]
    assert len(listed) >= 6
    names = [p.rsplit("/", 1)[-1] for p in listed]
    assert {"ipgraph.ttl", "ipgraph.nt", "store", "summary.json", "report.json", "graph.html"} <= set(names)
    for path in listed:
        assert (out / path.rsplit("/", 1)[-1]).exists(), path
    # the README's block shows the same lines for build/
    shown = "\n".join(f"{'wrote' if i == 0 else '':11s} build/{name}" for i, name in enumerate(names))
    assert shown in README


def test_build_help_names_the_outputs() -> None:
    text = CliRunner().invoke(main, ["build", "--help"]).stdout
    for name in ("ipgraph.ttl", "ipgraph.nt", "store", "summary.json", "report.json", "graph.html"):
        assert f"OUT/{name}" in " ".join(text.split()), name


@pytest.mark.parametrize("path", [[], ["bench"]])
def test_command_lists_show_whole_summaries(path) -> None:
    text = CliRunner().invoke(main, [*path, "--help"]).stdout
    commands = text.split("Commands:", 1)[1]
    assert "..." not in commands and "…" not in commands
    assert all(line.rstrip().endswith(".") for line in commands.strip().splitlines())


def test_push_takes_graph_dir_and_graph_iri(tmp_path) -> None:
    help_text = CliRunner().invoke(main, ["push", "--help"]).stdout
    assert "--graph-iri IRI" in help_text and "--graph DIR" in help_text
    # nothing built in tmp_path: the command gets as far as reading the build folder it was given
    result = CliRunner().invoke(main, ["push", "--endpoint", "http://127.0.0.1:9/x", "--graph", str(tmp_path)])
    assert result.exit_code == 1 and str(tmp_path) in result.stderr and "deprecated" not in result.stderr


def test_push_old_spellings_still_work_with_a_note(tmp_path) -> None:
    result = CliRunner().invoke(main, ["push", "--endpoint", "http://127.0.0.1:9/x",
                                       "--graph", "https://example.org/g", "--from", str(tmp_path)])
    assert "`push --graph IRI` is deprecated: write --graph-iri IRI" in result.stderr
    assert "`push --from DIR` is deprecated: write --graph DIR" in result.stderr
    assert result.exit_code == 1 and str(tmp_path) in result.stderr  # read the old --from folder


def test_readme_query_table_matches_the_queries() -> None:
    # each named query's row shows its options, in brackets: the CLI takes every one as optional
    rows = 0
    for query in list_queries():
        row = next((line for line in README.splitlines() if re.match(rf"\| `{query.name}( [^`]*)?` \|", line)), None)
        if row is None:
            continue  # listed together with others (agencies, programmes, documents)
        rows += 1
        for param in query.params:
            assert f"[--{param.option} " in row, (query.name, param.option)
    assert rows >= 6


def test_query_names_complete_in_the_shell() -> None:
    env = {"_IPGRAPH_COMPLETE": "bash_complete", "COMP_WORDS": "ipgraph query pro", "COMP_CWORD": "2"}
    result = CliRunner().invoke(main, [], env=env, prog_name="ipgraph")
    assert result.stdout.split() == ["plain,programme", "plain,programmes"]
    assert 'eval "$(_IPGRAPH_COMPLETE=bash_source ipgraph)"' in README


def test_docs_cli_md_is_the_help_of_every_command() -> None:
    checked_in = (REPO / "docs" / "CLI.md").read_text(encoding="utf-8")
    assert checked_in == cli_reference(), "docs/CLI.md is out of date: run `python scripts/cli_reference.py`"
    assert "## `ipgraph push`" in checked_in and "## `ipgraph bench serve`" in checked_in


def test_the_readme_sparql_error_is_what_query_prints(built_dir) -> None:
    block = README.split("```\nError: SPARQL syntax error", 1)[1].split("```", 1)[0]
    query = block.splitlines()[1].strip()
    result = CliRunner().invoke(main, ["query", query, "--graph", str(built_dir)])
    assert result.stderr == "Error: SPARQL syntax error" + block
