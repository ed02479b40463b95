"""The command line through click's CliRunner: build, export, eval, validate, help texts."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import REPO
from rdflib import Graph

from ipgraph.cli import main


@pytest.fixture(scope="module")
def built(tmp_path_factory, corpus_dir):
    out = tmp_path_factory.mktemp("cli-build")
    result = CliRunner().invoke(main, ["build", str(corpus_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, result


def test_build_prints_summary_and_writes_turtle(built):
    out, result = built
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, re.M))
    assert int(counts["documents"]) == 5
    assert int(counts["measures"]) == 184
    assert int(counts["agencies"]) > 50
    assert int(counts["triples"]) == len(Graph().parse(out / "ipgraph.ttl"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["summary"]["documents"] == 5


def test_missing_input_is_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["build", str(tmp_path / "nope"), "-o", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "nope" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("fmt,parse_as", [("turtle", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_export_formats_parse_to_the_built_graph(built, tmp_path, fmt, parse_as):
    out, _ = built
    target = tmp_path / f"graph.{fmt}"
    result = CliRunner().invoke(main, ["export", "--format", fmt, "-o", str(target), "--graph", str(out)])
    assert result.exit_code == 0, result.output
    exported = Graph().parse(target, format=parse_as)
    assert len(exported) == len(Graph().parse(out / "ipgraph.nt", format="nt"))


def test_export_nt_is_sorted_and_stable(built):
    out, _ = built
    first = CliRunner().invoke(main, ["export", "--format", "nt", "--graph", str(out)]).stdout
    second = CliRunner().invoke(main, ["export", "--format", "nt", "--graph", str(out)]).stdout
    lines = first.splitlines()
    assert first == second and lines == sorted(lines)


def test_commands_on_a_missing_build_fail_with_one_line(tmp_path):
    result = CliRunner().invoke(main, ["export", "--graph", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no built graph" in result.stderr


def test_eval_prints_scores(built, gold_dir):
    out, _ = built
    result = CliRunner().invoke(main, ["eval", str(gold_dir), "--graph", str(out)])
    assert result.exit_code == 0, result.output
    assert re.search(r"^measures\s+1\.000\s+1\.000\s+1\.000\s+184\s+0\s+0$", result.stdout, re.M)
    assert "{" not in result.stdout  # words, not a Python dict
    assert re.search(r"^metadata \(share of documents right\): date_published 1\.000, ", result.stdout, re.M)


def test_validate_conforms(built):
    out, _ = built
    result = CliRunner().invoke(main, ["validate", "--graph", str(out)])
    assert result.exit_code == 0, result.output + result.stderr
    assert "conforms" in result.stdout


def _commands(group, prefix=()):
    for name, command in sorted(group.commands.items()):
        yield prefix + (name,), command
        if hasattr(command, "commands"):
            yield from _commands(command, prefix + (name,))


COMMANDS = list(_commands(main))


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help_and_is_in_the_readme(path, command):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert command.help and len(command.help.strip()) > 20, f"{' '.join(path)} lacks a help text"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"ipgraph {' '.join(path)}" in readme, f"`ipgraph {' '.join(path)}` is not documented in README.md"
