"""`ipgraph diff` on two editions made from a shipped document: the second edition (written here,
from the first's text) drops a measure and renumbers the rest, hands one measure to another
lead, raises one target and rewords one sentence."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import CORPUS, load_gold

from ipgraph.cli import main
from ipgraph.diff import diff_graphs, diff_paths, measures, similarity

NAME = "002_842afa8849cffd08.txt"


def measure_span(text: str, number: int) -> tuple[int, int]:
    """Where measure `number` (printed "N.") starts and the next one begins."""
    start = re.search(rf"(?<=\s){number}\.(?=[\u4e00-\u9fff])", text)
    end = re.search(rf"(?<=\s){number + 1}\.(?=[\u4e00-\u9fff])", text)
    assert start and end
    return start.start(), end.start()


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    first = (CORPUS / NAME).read_text(encoding="utf-8")
    gold = {m["number"]: m for m in load_gold(NAME)["measures"]}
    # drop measure 11 and renumber 12… as 11…
    start, end = measure_span(first, 11)
    dropped = first[start:end]
    second = first[:start] + first[end:]
    second = re.sub(r"(?<=\s)(1[2-9]|2\d)\.(?=[\u4e00-\u9fff])", lambda m: f"{int(m.group(1)) - 1}.", second)
    # measure 14 (now 13): the lead and a partner change places
    s14, e14 = measure_span(first, 14)
    clause = re.search(r"\[牵头单位:([^;]+);责任单位:([^、\]]+)", first[s14:e14])
    assert clause
    old_lead, partner = clause.group(1), clause.group(2)
    second = second.replace(clause.group(0), f"[牵头单位:{partner};责任单位:{old_lead}", 1)
    # measure 4: a target raised, 20 → 30
    s4, e4 = measure_span(first, 4)
    target = re.search(r"认定(\d+)件以上", first[s4:e4])
    assert target
    second = second.replace(target.group(0), f"认定{int(target.group(1)) + 10}件以上", 1)
    # measure 7: one more body assigned
    s7, e7 = measure_span(first, 7)
    assignment = re.search(r"责任单位:([^,\]]+),", first[s7:e7])
    assert assignment
    second = second.replace(first[s7:e7], first[s7:e7].replace(assignment.group(0),
                                                               f"责任单位:{assignment.group(1)}、教育局,"), 1)
    # measure 19 (now 18): one word added
    second = second.replace("打击无资质专利代理", "严厉打击无资质专利代理", 1)
    folder = tmp_path_factory.mktemp("editions")
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    (folder / "a" / NAME).write_text(first, encoding="utf-8")
    (folder / "b" / NAME).write_text(second, encoding="utf-8")
    return {"a": folder / "a" / NAME, "b": folder / "b" / NAME, "dropped": dropped, "gold": gold,
            "old_lead": old_lead, "partner": partner, "value": int(target.group(1))}


@pytest.fixture(scope="module")
def result(editions):
    return diff_paths(editions["a"], editions["b"])


def test_the_dropped_measure_is_found_by_text_not_number(result, editions):
    assert [m["number"] for m in result.dropped] == ["11"]
    assert editions["gold"]["11"]["anchor"][:10] in result.dropped[0]["text"]
    assert result.added == []
    # the renumbered measures 12…20 are the same measures, not drops and additions
    assert {(r["old"], r["new"]) for r in result.renumbered} >= {(str(n), str(n - 1)) for n in range(12, 21)}


def test_the_lead_change_is_reported_with_the_graph_names(result, editions):
    assert len(result.leads_reassigned) == 1
    change = result.leads_reassigned[0]
    assert (change["old_number"], change["new_number"]) == ("14", "13")
    gold_lead = editions["gold"]["14"]["lead"]
    assert change["old"] == gold_lead
    assert len(change["new"]) == 1 and change["new"][0].endswith(editions["partner"].removeprefix("市"))


def test_the_raised_target_and_the_rewording(result, editions):
    raised = [c for c in result.targets_changed if c.get("direction") == "raised"]
    assert len(raised) == 1
    assert (raised[0]["old"]["value"], raised[0]["new"]["value"]) == (str(editions["value"]), str(editions["value"] + 10))
    assert raised[0]["unit"] == "件"
    # measure 14's text differs only in the bodies it names: reassigned, not reworded
    assert {(r["old"]["number"], r["new"]["number"]) for r in result.reworded} == {("19", "18"), ("4", "4")}
    assert all(r["similarity"] >= 0.5 for r in result.reworded)
    # the dropped measure's target (组建5家以上产业知识产权联盟) is dropped with it
    assert [t["value"] for t in result.targets_dropped] == ["5"]


def test_a_body_added_to_a_measure(result):
    assert [(c["old_number"], c["new_number"]) for c in result.agencies_changed] == [("7", "7")]
    change = result.agencies_changed[0]
    assert change["removed"] == [] and len(change["added"]) == 1 and change["added"][0].endswith("教育局")
    assert result.unchanged == 25 - 1 - 2  # 25 measures: one dropped, two reworded


def test_an_edition_against_itself_has_no_changes(editions):
    same = diff_paths(editions["a"], editions["a"])
    assert not same.changed and same.unchanged == len(editions["gold"])


def test_diff_of_two_builds_and_the_command(editions, tmp_path, corpus_build, built_dir):
    from ipgraph.pipeline import build_graph, write_outputs

    write_outputs(build_graph([editions["b"]]), tmp_path / "b-build")
    from_builds = diff_graphs(str(built_dir), str(tmp_path / "b-build"))
    # the whole corpus against one edition of one document: the other documents' measures are dropped
    assert len(from_builds.dropped) == len(measures(corpus_build.graph)) - len(editions["gold"]) + 1
    runner = CliRunner()
    page = tmp_path / "diff.html"
    done = runner.invoke(main, ["diff", str(editions["a"]), str(editions["b"]), "--format", "json", "--html", str(page)])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert [m["number"] for m in data["dropped"]] == ["11"]
    assert "Lead agencies reassigned (1)" in page.read_text(encoding="utf-8")
    done = runner.invoke(main, ["diff", str(editions["a"]), str(editions["b"])])
    assert done.exit_code == 0 and "1 dropped" in done.stdout
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    done = runner.invoke(main, ["diff", str(editions["a"]), str(empty)])
    assert done.exit_code == 1 and "empty.txt" in done.output and "Traceback" not in done.output
    assert len(done.output.strip().splitlines()) == 1


def test_similarity():
    assert similarity("培育高价值专利。", "培育高价值专利。") == 1.0
    assert similarity("培育高价值专利。", "建设知识产权运营中心。") < 0.2


def test_two_documents_of_one_build(built_dir):
    from ipgraph.diff import diff_documents
    from ipgraph.errors import IpgraphError

    a, b = "004_fd40c90dbaa4972a", "003_46efb7916171eb5f"  # 天津市's 2010 task division, 滨海新区's 2024 plan
    result = diff_documents(str(built_dir), a, b)
    assert len(result.dropped) == len(load_gold(a)["measures"])
    assert len(result.added) == len(load_gold(b)["measures"])
    assert result.unchanged == 0 and not result.reworded
    with pytest.raises(IpgraphError, match="names 2 documents"):
        diff_documents(str(built_dir), "天津市", b)
    done = CliRunner().invoke(main, ["diff", "--in", str(built_dir), a, "no such document"])
    assert done.exit_code == 1 and "no document is named" in done.output and "Traceback" not in done.output
